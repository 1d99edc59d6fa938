from __future__ import annotations

import os
import time

import click

from poison_tools.cli import App, pass_app
from poison_tools.errors import FatalError


@click.command(
    epilog="""\b
Examples:
  git poison index                # bring the index up to date (built on first use)
  git poison index --rebuild      # from scratch, e.g. after `git gc --prune`
  git poison index --json         # what is indexed (docs/index.md)

\b
Every command keeps the index up to date by itself; this command only does it
now, with progress on a terminal. GIT_POISON_INDEX=0 makes every command ask
git directly instead. Exit codes: 0 done, 2 error."""
)
@click.option("--rebuild", is_flag=True, help="Discard the index and build it from scratch.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def index_cmd(app: App, rebuild: bool, as_json: bool) -> int:
    """Build or update the reachability index of this repository's commits."""
    from poison_tools.index import IndexedReach, IndexUnavailable
    from poison_tools.term import StderrProgress

    started = time.perf_counter()
    reach = IndexedReach(app.repo, StderrProgress())
    try:
        stored = reach.rebuild() if rebuild else reach.update()
    except IndexUnavailable as e:
        raise FatalError(f"cannot index this repository's history: {e}") from None
    graph = stored.graph
    size = os.path.getsize(reach.path) if os.path.exists(reach.path) else 0
    data = {
        "path": reach.path,
        "commits": graph.size,
        "chains": int(graph.chain_len.shape[0]),
        "jumps": int(graph.down_key.shape[0]),
        "shallow_boundary": int(graph.shallow.shape[0]),
        "bytes": size,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if as_json:
        app.echo_json(data)
    else:
        app.echo(f"{data['commits']:,} commits on {data['chains']:,} chains "
                 f"({data['jumps']:,} jumps) in {reach.path} "
                 f"({size / 1e6:.1f} MB, {data['seconds']} s)")
    return 0
