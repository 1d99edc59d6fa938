from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.reach import refs_holding
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
    holders = refs_holding(app.reach(), record.cures)
    cure_refs = {c: holders.get(c, []) for c in record.cures}
    if as_json:
        app.echo_json({**record.to_json(), "cure_refs": cure_refs})
        return 0
    for line in record_lines(record, app.out):
        if line.startswith("cure:   ") and line[8:] in cure_refs:
            refs = cure_refs[line[8:]]
            where = ", ".join(short_ref(r) for r in refs) if refs else "not in this clone"
            line = f"{line}  ({where})"
        app.echo(line)
    return 0
