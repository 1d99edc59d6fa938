from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.reach import reachability, refs_holding
from poison_tools.record import Record
from poison_tools.render import record_lines, short_ref


@click.command(
    epilog="""\b
Examples:
  git poison show k3v7x2m9d0
  git poison show k3v7 --json      # a unique prefix is enough"""
)
@click.argument("record_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/json.md).")
@pass_app
def show(app: App, record_id: str, as_json: bool) -> int:
    """Show one record, with the branches that hold each of its cures."""
    record = app.snapshot().find(record_id)
    holders = refs_holding(reachability(app.repo), record.cures)
    cure_refs = {c: holders.get(c, []) for c in record.cures}
    doubts = _implausible(app, record)
    if as_json:
        app.echo_json({**record.to_json(), "cure_refs": cure_refs,
                       "implausible_cures": doubts})
        return 0
    for line in record_lines(record, app.out):
        if line.startswith("cure:   ") and line[8:] in cure_refs:
            refs = cure_refs[line[8:]]
            where = ", ".join(short_ref(r) for r in refs) if refs else "not in this clone"
            line = f"{line}  ({where})"
        app.echo(line)
    for c, why in doubts.items():
        app.echo(app.out(f"implausible cure {c[:12]}: ", "yellow") + "; ".join(why))
    return 0


def _implausible(app: App, record: Record) -> dict[str, list[str]]:
    """Cures that may not be the fix (issue 14, plausible.py): marked, still counted."""
    from poison_tools.plausible import cure_doubts

    return cure_doubts(app.repo, record, record.cures) if record.cures else {}
