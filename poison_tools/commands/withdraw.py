from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.edits import withdraw as withdraw_record


@click.command(
    epilog="""\b
Example:
  git poison withdraw k3v7x2m9d0 -m "not a bug: expected behaviour\""""
)
@click.argument("record_id", metavar="ID")
@click.option("-m", "--message", required=True, help="Why the record is withdrawn.")
@pass_app
def withdraw(app: App, record_id: str, message: str) -> int:
    """Withdraw a record. It stays in the history; checks stop counting it."""
    edit = withdraw_record(app.repo, app.store, record_id, message)
    app.report_write(edit.result, "withdrawal recorded")
    app.echo(f"{edit.record.id}: {'withdrawn' if edit.changed else 'was already withdrawn'}")
    return 0
