from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.edits import restore as restore_record


@click.command(
    epilog="""\b
Examples:
  git poison restore k3v7x2m9d0       # its file was deleted: bring it back
  git poison withdraw k3v7x2m9d0 -m "duplicate of m2p4"   # or withdraw it properly

\b
A record file deleted or renamed in the poisons repository is reported by every
read (check exits 2) until it is restored or withdrawn. Exit codes: 0 done, 2 error."""
)
@click.argument("record_id", metavar="ID")
@pass_app
def restore(app: App, record_id: str) -> int:
    """Bring back a record whose file vanished from the poisons repository, as it last was."""
    edit = restore_record(app.repo, app.store, record_id)
    app.report_write(edit.result, "restored")
    app.echo(f"{edit.record.id}: {'restored' if edit.changed else 'was already back'}")
    return 0
