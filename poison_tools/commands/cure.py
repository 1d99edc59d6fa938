from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.errors import FatalError
from poison_tools.reach import reachability
from poison_tools.record import Record
from poison_tools.store import Snapshot


@click.command(
    epilog="""\b
Examples:
  git poison cure k3v7x2m9d0 9f8e7d6            # the fix on master
  git poison cure k3v7 origin/master lts/2.1    # one fixing commit per branch"""
)
@click.argument("record_id", metavar="ID")
@click.argument("revs", nargs=-1, required=True, metavar="REV...")
@pass_app
def cure(app: App, record_id: str, revs: tuple[str, ...]) -> int:
    """Record the commit(s) that fix a poison, one per branch the fix landed on."""
    cures = list(dict.fromkeys(app.repo.resolve_commit(r) for r in revs))
    editor = app.editor()
    before = app.snapshot().find(record_id)
    _refuse_cures_older_than_poison(app, before, cures)
    added: list[str] = []

    def change(snap: Snapshot) -> list[Record]:
        rec = snap.find(before.id)
        if rec.withdrawn:
            raise FatalError(f"record {rec.id} was withdrawn: {rec.withdrawn.reason}")
        new = rec.with_cures(cures, editor)
        added[:] = [c for c in new.cures if c not in rec.cures]
        return [new] if added else []

    result = app.store.write(
        change, f"cure {before.id}: {', '.join(c[:12] for c in cures)}", app.author()
    )
    app.report_write(result, "cure recorded")
    if result.commit is None:
        app.echo(f"{before.id}: already cured by {', '.join(c[:12] for c in cures)}")
    else:
        app.echo(f"{before.id}: cured by {', '.join(c[:12] for c in added)}")
    return 0


def _refuse_cures_older_than_poison(app: App, record: Record, cures: list[str]) -> None:
    reach = reachability(app.repo)
    for poison in record.poisons:
        if poison in cures:
            raise FatalError(
                f"{poison[:12]} is the poison itself; a cure must be the fixing commit"
            )
        if not reach.present([poison]):
            continue
        answer = reach.ancestors(poison, cures)
        for c in cures:
            if answer.status(c):
                raise FatalError(
                    f"{c[:12]} is an ancestor of the poison {poison[:12]}: it cannot cure it"
                )
