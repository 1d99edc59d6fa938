from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.render import problem_lines, short, title


@click.command(
    "list",
    epilog="""\b
Examples:
  git poison list
  git poison list --all --json     # withdrawn records too""",
)
@click.option("--all", "show_all", is_flag=True, help="Include withdrawn records.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/json.md).")
@pass_app
def list_records(app: App, show_all: bool, as_json: bool) -> int:
    """List the poison records of this repository."""
    snap = app.snapshot()
    records = sorted(
        snap.records.values() if show_all else snap.active, key=lambda r: (r.created, r.id)
    )
    if as_json:
        app.echo_json(
            {
                "project": app.store.project,
                "records": [r.to_json() for r in records],
                "problems": [p.to_json() for p in snap.problems],
                "stale": None if snap.stale is None else snap.stale.describe(),
                "warnings": list(app.warnings),
            }
        )
        return 0
    for r in records:
        state = "withdrawn" if r.withdrawn else ("cured" if r.cures else "uncured")
        app.echo(f"{app.out(r.id, 'bold')}  {short(r.poisons[0])}  {state:<9}  {title(r)}")
    for line in problem_lines(snap.problems, app.out):
        app.echo(line)
    if not records and not snap.problems:
        app.warn(f"no records yet for {app.store.project} (record one with `git poison add`)")
    return 0
