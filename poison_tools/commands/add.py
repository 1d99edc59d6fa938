from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.edits import add_poison
from poison_tools.records.record import SEVERITIES


@click.command(
    epilog="""\b
Examples:
  git poison add 1a2b3c4 -m "service hangs on io error" --bug JIRA-1234
  git poison add v2.3.0~4 -m "race in cache eviction" --severity high
  rid=$(git poison add 1a2b3c4 -m "leak")   # stdout is only the id

\b
With a deployments inventory (git config poison.deployments FILE, or
deployments.yaml in the poisons repository), the deployments that carry
the new poison are listed on stderr after it is recorded."""
)
@click.argument("revs", nargs=-1, required=True, metavar="REV...")
@click.option("-m", "--message", required=True, help="What goes wrong (the comment).")
@click.option("--bug", default=None, help="Bug tracker reference, e.g. JIRA-1234.")
@click.option("--severity", type=click.Choice(SEVERITIES), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the new record as JSON.")
@click.option(
    "--no-deployments",
    is_flag=True,
    help="Do not list the deployments that carry it (docs/scope.md).",
)
@pass_app
def add(
    app: App,
    revs: tuple[str, ...],
    message: str,
    bug: str | None,
    severity: str | None,
    as_json: bool,
    no_deployments: bool,
) -> int:
    """Record a poison: the commit(s) that introduced a bug. Prints the record's id."""
    poisons = [app.repo.resolve_commit(r) for r in revs]
    edit = add_poison(app.repo, app.store, poisons, message, bug=bug, severity=severity)
    if edit.same_poison:
        app.warn(f"the same commit is already recorded in {', '.join(edit.same_poison)}")
    app.report_write(edit.result, "recorded")
    if edit.result.started:
        from poison_tools.records.misspelt import first_record_warning

        # The first record of this project: if poison.project is misspelt, no check of
        # this repository will ever look where it went.
        misspelt = first_record_warning(app.store)
        if misspelt:
            app.warn(misspelt)
    if as_json:
        app.echo_json(edit.record.to_json())
    else:
        app.echo(edit.record.id)
    if not no_deployments:
        app.report_deployments(edit.record, edit.result.commit)
    return 0
