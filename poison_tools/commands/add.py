from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.record import SEVERITIES, Record, new_id, now_iso
from poison_tools.store import Snapshot


@click.command(
    epilog="""\b
Examples:
  git poison add 1a2b3c4 -m "service hangs on io error" --bug JIRA-1234
  git poison add v2.3.0~4 -m "race in cache eviction" --severity high"""
)
@click.argument("revs", nargs=-1, required=True, metavar="REV...")
@click.option("-m", "--message", required=True, help="What goes wrong (the comment).")
@click.option("--bug", default=None, help="Bug tracker reference, e.g. JIRA-1234.")
@click.option("--severity", type=click.Choice(SEVERITIES), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the new record as JSON.")
@pass_app
def add(
    app: App,
    revs: tuple[str, ...],
    message: str,
    bug: str | None,
    severity: str | None,
    as_json: bool,
) -> int:
    """Record a poison: the commit(s) that introduced a bug. Prints the record's id."""
    poisons = tuple(dict.fromkeys(app.repo.resolve_commit(r) for r in revs))
    editor = app.editor()
    stamp = now_iso()
    record = Record(
        id=new_id(),
        poisons=poisons,
        comment=message.strip(),
        bug=bug,
        severity=severity,
        editor=editor,
        created=stamp,
        updated=stamp,
    )
    seen: list[str] = []

    def change(snap: Snapshot) -> list[Record]:
        nonlocal record
        while record.id in snap.records:  # fifty random bits: never in practice
            record = Record(**{**record.__dict__, "id": new_id()})
        seen[:] = [r.id for r in snap.active if set(r.poisons) & set(poisons)]
        return [record]

    result = app.store.write(
        change,
        f"poison {record.id}: {record.comment.splitlines()[0] if record.comment else ''}",
        app.author(),
    )
    if seen:
        app.warn(f"the same commit is already recorded in {', '.join(seen)}")
    app.report_write(result, "recorded")
    if as_json:
        app.echo_json(record.to_json())
    else:
        app.echo(record.id)
    return 0
