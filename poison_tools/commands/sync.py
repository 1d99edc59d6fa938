from __future__ import annotations

import click

from poison_tools import edits
from poison_tools.cli import App, pass_app
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
        app.echo(
            f"no poisons remote configured; records are kept in {store.path} "
            "(share them with `git poison init --remote URL`)"
        )
        return 0
    result = edits.sync(app.repo, store)
    if result.offline is not None:
        raise FatalError(f"poisons remote unreachable: {result.offline}")
    snap = store.load()
    state = "pushed local records" if result.pushed else "up to date"
    app.echo(f"{state}: {len(snap.records)} records for {store.project} at {store.remote}")
    return 0
