from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.edit_render import cure_line, implausible_line
from poison_tools.edits import add_cures


@click.command(
    epilog="""\b
Examples:
  git poison cure k3v7x2m9d0 9f8e7d6            # the fix on master
  git poison cure k3v7 origin/master lts/2.1    # one fixing commit per branch

\b
With a deployments inventory (git config poison.deployments FILE, or
deployments.yaml in the poisons repository), the deployments that still
carry the poison are listed on stderr after the cure is recorded."""
)
@click.argument("record_id", metavar="ID")
@click.argument("revs", nargs=-1, required=True, metavar="REV...")
@click.option(
    "--no-deployments",
    is_flag=True,
    help="Do not list the deployments that still carry it (docs/scope.md).",
)
@pass_app
def cure(app: App, record_id: str, revs: tuple[str, ...], no_deployments: bool) -> int:
    """Record the commit(s) that fix a poison, one per branch the fix landed on."""
    cures = list(dict.fromkeys(app.repo.resolve_commit(r) for r in revs))
    edit = add_cures(app.repo, app.store, record_id, cures)
    app.report_write(edit.result, "cure recorded")
    for c, why in edit.implausible.items():  # plausible.py: a doubt, not a refusal
        app.warn(implausible_line(c, why))
    app.echo(cure_line(edit, cures))
    if not no_deployments:
        app.report_deployments(edit.record, edit.result.commit)
    return 0
