from __future__ import annotations

import click

from poison_tools.check import Checker
from poison_tools.cli import App, pass_app
from poison_tools.render import check_lines, release_lines
from poison_tools.term import StderrProgress


@click.command(
    epilog="""\b
Examples:
  git poison check                      # is HEAD healthy?
  git poison check origin/lts/2.1
  git poison check v2.1.0 --since v2.0.0 --json   # release report

\b
With --since B, what was cured at B and is not at REV (a downgrade, or a cure
undone since) is listed as a regression; REV not descending from B is said.

\b
Exit codes: 0 healthy, 1 poisoned, 2 could not decide (missing history,
missing objects, unknown commit, unreadable records) or error."""
)
@click.argument("rev", default="HEAD", required=False)
@click.option(
    "--since",
    "since",
    metavar="REV",
    help="Last release: also list the bugfixes and poisons that arrived since.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/json.md).")
@pass_app
def check(app: App, rev: str, since: str | None, as_json: bool) -> int:
    """Does REV (default HEAD) carry an uncured poison?"""
    # A first check on a large repository builds the reachability index and scans
    # for copies (patch-ids): show both (on a terminal only).
    progress = StderrProgress()
    reach = app.reach(progress)  # lists the refs meanwhile
    target = app.repo.resolve_commit(rev)
    base = app.repo.resolve_commit(since) if since else None
    checker = Checker(app.repo, app.snapshot(), reach=reach, progress=progress)
    if base is not None:
        report = checker.release(target, rev, base, since or "")
        report.current.warnings = list(app.warnings)
        for notice in checker.notices:
            app.warn(notice)
        if as_json:
            app.echo_json(report.to_json())
        else:
            app.echo_lines(release_lines(report, app.out))
        return report.exit_code
    current = checker.check(target, rev)
    current.warnings = list(app.warnings)
    for notice in checker.notices:
        app.warn(notice)
    if as_json:
        app.echo_json(current.to_json())
    else:
        app.echo_lines(check_lines(current, app.out))
    return current.exit_code
