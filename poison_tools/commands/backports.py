from __future__ import annotations

import click

from poison_tools.check import open_checker
from poison_tools.cli import App, pass_app
from poison_tools.release_refs import release_patterns
from poison_tools.render import problem_lines
from poison_tools.scope import (
    Scope,
    backports,
    ref_targets,
    release_branch_targets,
    select_records,
)
from poison_tools.scope_render import backport_lines
from poison_tools.term import StderrProgress


@click.command(
    epilog="""\b
Examples:
  git poison backports                          # release branches (poison.releaseBranches)
  git poison backports --branches 'lts/*'       # the LTS backport checklist
  git poison backports --branches 'origin/release-*' --json
  git config --add poison.releaseBranches 'rel-*'   # what "release branch" means here

\b
Exit codes: 0 nothing to backport, 1 backports missing, 2 error."""
)
@click.option(
    "--branches",
    "patterns",
    multiple=True,
    metavar="PATTERN",
    help="Maintained branches to list, as globs (repeatable); default: the release "
    "branches (poison.releaseBranches; '*' for every branch).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/scope.md).")
@click.option("--no-apply-check", is_flag=True, help="Do not test whether cures apply cleanly.")
@pass_app
def backports_cmd(app: App, patterns: tuple[str, ...], as_json: bool, no_apply_check: bool) -> int:
    """For each maintained branch, every uncured poison on it whose cure exists elsewhere,
    with the cherry-pick line that carries the cure over."""
    progress = StderrProgress()
    reach = app.reach(progress)  # lists the refs meanwhile
    snapshot = app.snapshot()
    if patterns:
        targets = ref_targets(reach, patterns)
    else:
        release = release_patterns(app.repo)
        targets = release_branch_targets(reach, release)
        if not targets:
            app.warn(
                f"no release branch here ({', '.join(release)}); name them with "
                "`git config --add poison.releaseBranches PATTERN` or use --branches"
            )
    checker = open_checker(app.repo, snapshot, reach=reach, progress=progress)
    run = Scope(
        app.repo, checker, probe_applies=not no_apply_check, hints=checker.equivalence.probable
    ).stream(select_records(snapshot, ()), targets)
    todo = backports(targets, run)  # keeps only the backports, not the matrix
    if as_json:
        app.echo_json(
            {
                "branches": [
                    {
                        "ref": ref,
                        "missing": [
                            {
                                "id": b.record.id,
                                "bug": b.record.bug,
                                "comment": b.record.comment,
                                "poison_evidence": [
                                    e.to_json()
                                    for e in (
                                        b.cell.finding.poison_evidence if b.cell.finding else []
                                    )
                                ],
                                "cures": [m.to_json() for m in b.cell.missing],
                            }
                            for b in items
                        ],
                    }
                    for ref, items in todo.items()
                ],
                "problems": [p.to_json() for p in run.problems],
            }
        )
    else:
        for line in backport_lines(todo, app.out):
            app.echo(line)
        # A record that cannot be believed may hide a backport: said, not only exit 2.
        for line in problem_lines(run.problems, app.out):
            app.echo(line)
        if not todo and patterns:
            app.warn("no branch matched")
    if any(todo.values()):
        return 1
    return 2 if run.problems else 0
