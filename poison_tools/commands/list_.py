from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from poison_tools.cli import App, pass_app
from poison_tools.errors import FatalError
from poison_tools.render import problem_lines, short, short_ref, title

if TYPE_CHECKING:
    from poison_tools.records.store import Snapshot


@click.command(
    "list",
    epilog="""\b
Examples:
  git poison list
  git poison list --all --json     # withdrawn records too
  git poison list --no-where       # records only, no reachability question
  git poison list --json --where   # with where_uncured (docs/json.md)

\b
In text, each active record says where it is still uncured: on HEAD, the
main line and the release branches (poison.releaseBranches).""",
)
@click.option("--all", "show_all", is_flag=True, help="Include withdrawn records.")
@click.option(
    "--where/--no-where",
    "where_asked",
    default=None,
    help="Look up where each record is still uncured (default: in text, not in JSON).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/json.md).")
@pass_app
def list_records(app: App, show_all: bool, where_asked: bool | None, as_json: bool) -> int:
    """List the poison records of this repository."""
    snap = app.snapshot()
    records = sorted(
        snap.records.values() if show_all else snap.active, key=lambda r: (r.created, r.id)
    )
    where = None
    # JSON stays the records alone unless asked: scripts and the editor read it often.
    wanted = where_asked if where_asked is not None else not as_json
    if wanted and snap.active:
        try:
            where = _where(app, snap)
        except FatalError as e:  # the records are still worth listing
            app.warn(f"cannot tell where the records are uncured: {e}")
    if as_json:
        data: dict[str, Any] = {
            "project": app.store.project,
            "records": [r.to_json() for r in records],
            "problems": [p.to_json() for p in snap.problems],
            "stale": None if snap.stale is None else snap.stale.describe(),
            "warnings": list(app.warnings),
        }
        if where is not None:
            data["where_uncured"] = {"refs": where[0], "records": where[1]}
        app.echo_json(data)
        return 0
    for r in records:
        state = "withdrawn" if r.withdrawn else ("cured" if r.cures else "uncured")
        on = where[1].get(r.id, []) if where is not None and not r.withdrawn else []
        more = f" +{len(on) - 4} more" if len(on) > 4 else ""
        tail = (
            f"  (still uncured on {', '.join(short_ref(x) for x in on[:4])}{more})"
            if on and r.cures
            else f"  (on {', '.join(short_ref(x) for x in on[:4])}{more})"
            if on
            else ""
        )
        app.echo(
            f"{app.out(r.id, 'bold')}  {short(r.poisons[0])}  {state:<9}  {title(r)}"
            + (app.out(tail, "yellow") if tail else "")
        )
    for line in problem_lines(snap.problems, app.out):
        app.echo(line)
    if not records and not snap.problems:
        app.warn(f"no records yet for {app.store.project} (record one with `git poison add`)")
    return 0


def _where(app: App, snap: Snapshot) -> tuple[list[str], dict[str, list[str]]]:
    """(refs looked at, record id -> those where it is affected): HEAD, the main line
    and the release branches, judged like `scope` judges them."""
    from poison_tools.check import open_checker
    from poison_tools.release_refs import MAIN_LINES, release_patterns
    from poison_tools.scope import AFFECTED, Scope, Target, release_branch_targets, select_records
    from poison_tools.term import StderrProgress

    progress = StderrProgress()
    reach = app.reach(progress)
    targets = release_branch_targets(reach, [*release_patterns(app.repo), *MAIN_LINES])
    try:
        head: str | None = app.repo.resolve_commit("HEAD")
    except FatalError:  # an unborn branch: nothing to say about HEAD
        head = None
    if head is not None:
        targets.insert(0, Target("branch", "HEAD", head))
    checker = open_checker(app.repo, snap, reach=reach, progress=progress)
    report = Scope(app.repo, checker, probe_applies=False).run(select_records(snap, ()), targets)
    found = {
        rs.record.id: [c.target.ref for c in rs.cells if c.status == AFFECTED]
        for rs in report.records
    }
    return [t.ref for t in targets], {i: refs for i, refs in found.items() if refs}
