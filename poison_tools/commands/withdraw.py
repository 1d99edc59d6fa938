from __future__ import annotations

from dataclasses import replace

import click

from poison_tools.cli import App, pass_app
from poison_tools.record import Record, Withdrawal, now_iso
from poison_tools.store import Snapshot


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
    editor = app.editor()
    target = app.snapshot().find(record_id)

    def change(snap: Snapshot) -> list[Record]:
        rec = snap.find(target.id)
        if rec.withdrawn:
            return []
        stamp = now_iso()
        return [replace(rec, withdrawn=Withdrawal(message.strip(), editor, stamp), updated=stamp)]

    result = app.store.write(change, f"withdraw {target.id}: {message.strip()}", app.author())
    app.report_write(result, "withdrawal recorded")
    app.echo(f"{target.id}: {'withdrawn' if result.commit else 'was already withdrawn'}")
    return 0
