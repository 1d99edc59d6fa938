from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator

import click

from poison_tools.check import Checker
from poison_tools.cli import App, pass_app
from poison_tools.equivalence import Copies, default_equivalence
from poison_tools.errors import FatalError
from poison_tools.progress import Silent
from poison_tools.scope import Scope, Target, ref_targets, select_records
from poison_tools.store import Snapshot
from poison_tools.term import StderrProgress


@click.command(
    epilog="""\b
Examples:
  git poison scope                          # every record x every branch
  git poison scope k3v7 --tags              # one record, branches and tags
  git poison scope --branches 'lts/*' --branches master --deployments deploy.yaml
  git poison scope --json                   # docs/scope.md
  git poison scope --tags --format html -o scope.html

\b
Exit codes: 0 nothing affected, 1 some branch/tag/deployment affected,
2 something could not be decided (missing history, unknown revision) or error."""
)
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--branches", "patterns", multiple=True, metavar="PATTERN",
              help="Only branches matching this glob (repeatable), e.g. 'lts/*'.")
@click.option("--tags", is_flag=True, help="Also every tag.")
@click.option("--deployments", "inventory", metavar="FILE",
              help="YAML or JSON inventory: deployment name -> revision (docs/scope.md).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/scope.md).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text",
              help="Output format; html is one self-contained page.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
@click.option("--no-apply-check", is_flag=True, help="Do not test whether missing cures apply cleanly.")
@pass_app
def scope(app: App, ids: tuple[str, ...], patterns: tuple[str, ...], tags: bool,
          inventory: str | None, as_json: bool, fmt: str, output: str | None,
          no_apply_check: bool) -> int:
    """Which branches, tags and deployments carry each poison, which are cured (by which
    commit, found how), and the cherry-pick that would cure the rest."""
    if as_json:
        fmt = "json"
    progress = StderrProgress()
    reach = app.reach(progress)  # lists the refs meanwhile
    snapshot = app.snapshot()
    records = select_records(snapshot, ids)
    targets: list[Target] = ref_targets(reach, patterns, tags=tags)
    if inventory:
        from poison_tools.deployments import deployment_targets

        targets += deployment_targets(app.repo, inventory)
    if ids:
        # Only the records asked about: their copies are all the matrix needs.
        snapshot = Snapshot({r.id: r for r in records}, snapshot.problems, snapshot.tip, snapshot.stale)
    equivalence = default_equivalence(app.repo, progress, reach)
    checker = Checker(app.repo, snapshot, reach=reach, equivalence=equivalence)
    hints = equivalence.probable if isinstance(equivalence, Copies) else None
    # Counting records on stderr would tear text written to the same terminal.
    judging = progress if output not in (None, "-") or not sys.stdout.isatty() else Silent()
    run = Scope(app.repo, checker, probe_applies=not no_apply_check, hints=hints,
                progress=judging).stream(records, targets)
    # Written as it is judged, record by record: the whole matrix of a big repository
    # (millions of cells) never sits in memory, as objects or as text.
    chunks: Iterable[str]
    if fmt == "json":
        from poison_tools.scope import json_chunks

        chunks = json_chunks(run)
    elif fmt == "html":
        from poison_tools.html_report import html_chunks

        chunks = html_chunks(run, app.store.project)
    else:
        from poison_tools.scope_render import scope_lines

        style = app.out if output is None else (lambda t, *_n: t)
        chunks = _blocks(scope_lines(run, style))
        if not records:
            app.warn("no active records (record one with `git poison add`)")
    _emit(app, chunks, output)
    return run.exit_code


def _blocks(lines: Iterable[str], size: int = 2000) -> Iterator[str]:
    """Lines joined into blocks: one write per block, not per line."""
    block: list[str] = []
    for line in lines:
        block.append(line + "\n")
        if len(block) >= size:
            yield "".join(block)
            block = []
    if block:
        yield "".join(block)


def _emit(app: App, chunks: Iterable[str], output: str | None) -> None:
    if output is None or output == "-":
        for chunk in chunks:
            click.echo(chunk, nl=False)
        return
    # Into a temporary file beside OUTPUT, renamed when complete: an interrupted run
    # leaves the previous report, never half of a new one.
    tmp = f"{output}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for chunk in chunks:
                f.write(chunk)
        os.replace(tmp, output)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise FatalError(f"cannot write {output}: {e.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    click.echo(f"wrote {output}", err=True)
