from __future__ import annotations

import click

from poison_tools import edits
from poison_tools.cli import App, pass_app
from poison_tools.edit_render import no_remote_line, synced_line, unreachable_line
from poison_tools.errors import FatalError


@click.command(
    epilog="""\b
Example:
  git poison sync      # after working offline"""
)
@pass_app
def sync(app: App) -> int:
    """Fetch the shared records and push any made while offline."""
    store = app.store
    if not store.remote:
        app.echo(no_remote_line(store.path))
        return 0
    result = edits.sync(app.repo, store)
    if result.offline is not None:
        raise FatalError(unreachable_line(result.offline))
    snap = store.load()
    app.echo(synced_line(result.pushed, len(snap.records), store.project, store.remote))
    return 0
