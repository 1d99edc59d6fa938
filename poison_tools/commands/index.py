from __future__ import annotations

import os
import sys
import time

import click

from poison_tools.cli import App, pass_app
from poison_tools.errors import FatalError

HINT_COMMITS = 100_000


@click.command(
    epilog="""\b
Examples:
  git poison index                # bring the index up to date, its delta merged in
  git poison index --rebuild      # from scratch, e.g. after `git gc --prune`
  git poison index --json         # what is indexed (docs/index.md)
  git poison index --write-commit-graph --rebuild   # faster builds from now on

\b
Every command keeps the index up to date by itself; this command only does it
now, with progress on a terminal. A build reads git's commit-graph file when
there is one (several times faster than listing the history with git rev-list).
GIT_POISON_INDEX=0 makes every command ask git directly instead.
Exit codes: 0 done, 2 error."""
)
@click.option("--rebuild", is_flag=True, help="Discard the index and build it from scratch.")
@click.option(
    "--write-commit-graph",
    is_flag=True,
    help="First have git write its commit-graph (git commit-graph write --reachable).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def index_cmd(app: App, rebuild: bool, write_commit_graph: bool, as_json: bool) -> int:
    """Build or update the reachability index of this repository's commits."""
    from poison_tools.reach import commit_graph
    from poison_tools.reach.index import IndexedReach, IndexUnavailable
    from poison_tools.reach.index import write_commit_graph as write_graph
    from poison_tools.term import StderrProgress

    started = time.perf_counter()
    if write_commit_graph:
        write_graph(app.repo, show_progress=sys.stderr.isatty())
    reach = IndexedReach(app.repo, StderrProgress())
    try:
        stored = reach.rebuild() if rebuild else reach.update()
        # The commits later updates keep beside the graph: merged into it now.
        merged = 0 if rebuild else reach.merge()
    except IndexUnavailable as e:
        raise FatalError(f"cannot index this repository's history: {e}") from None
    for notice in reach.notices:
        app.warn(notice)
    graph = stored.graph
    size = os.path.getsize(reach.path) if os.path.exists(reach.path) else 0
    data = {
        "path": reach.path,
        "commits": graph.size,
        "chains": int(graph.chain_len.shape[0]),
        "jumps": int(graph.down_key.shape[0]),
        "shallow_boundary": int(graph.shallow.shape[0]),
        "bytes": size,
        "built_from": reach.built_from,
        "delta_commits": merged,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if as_json:
        app.echo_json(data)
    else:
        how = {
            "commit-graph": ", built from git's commit-graph",
            "rev-list": ", built from git rev-list",
        }.get(reach.built_from or "", "")
        app.echo(
            f"{data['commits']:,} commits on {data['chains']:,} chains "
            f"({data['jumps']:,} jumps) in {reach.path} "
            f"({size / 1e6:.1f} MB, {data['seconds']} s{how})"
        )
        # Worth a line only where a build takes seconds.
        if (
            reach.built_from == "rev-list"
            and graph.size >= HINT_COMMITS
            and not commit_graph.exists(os.path.join(app.repo.common_dir, "objects"))
        ):
            click.echo(
                "hint: `git poison index --write-commit-graph --rebuild` makes builds "
                "faster; `git maintenance start` keeps git's commit-graph fresh",
                err=True,
            )
    return 0
