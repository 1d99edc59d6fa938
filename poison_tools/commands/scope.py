from __future__ import annotations

import contextlib
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import click

from poison_tools.check import open_checker
from poison_tools.cli import App, pass_app
from poison_tools.errors import FatalError
from poison_tools.progress import Silent
from poison_tools.records.store import Snapshot
from poison_tools.scope import Scope, ScopeRun, Target, ref_targets, select_records
from poison_tools.term import StderrProgress

if TYPE_CHECKING:
    from poison_tools.environments import EnvironmentSummary
    from poison_tools.reach.answer import Reachability


@click.command(
    epilog="""\b
Examples:
  git poison scope                          # every record x every branch
  git poison scope k3v7 --tags              # one record, branches and tags
  git poison scope --branches 'lts/*' --branches master --deployments deploy.yaml
  git poison scope --json                   # docs/scope.md
  git poison scope --tags --format html -o scope.html
  git poison scope --deployments-only       # the default inventory only
  git poison scope --summary                # per environment: uncured, severity, upgrades

\b
Without --deployments, the inventory is `git config poison.deployments FILE`,
else deployments.yaml at the root of this project's branch in the poisons
repository; --no-deployments leaves deployments out.

\b
Exit codes: 0 nothing affected, 1 some branch/tag/deployment affected,
2 something could not be decided (missing history, unknown revision) or error."""
)
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option(
    "--branches",
    "patterns",
    multiple=True,
    metavar="PATTERN",
    help="Only branches matching this glob (repeatable), e.g. 'lts/*'.",
)
@click.option("--tags", is_flag=True, help="Also every tag.")
@click.option(
    "--deployments",
    "inventory",
    metavar="FILE",
    help="YAML or JSON inventory: deployment name -> revision (docs/scope.md).",
)
@click.option(
    "--deployments-only", is_flag=True, help="Only the deployments (no branch or tag columns)."
)
@click.option("--no-deployments", is_flag=True, help="Leave the default inventory out.")
@click.option(
    "--summary",
    is_flag=True,
    help="Only the per-environment summary of the deployments (text or --json).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/scope.md).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    help="Output format; html is one self-contained page.",
)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
@click.option(
    "--no-apply-check", is_flag=True, help="Do not test whether missing cures apply cleanly."
)
@pass_app
def scope(
    app: App,
    ids: tuple[str, ...],
    patterns: tuple[str, ...],
    tags: bool,
    inventory: str | None,
    deployments_only: bool,
    no_deployments: bool,
    summary: bool,
    as_json: bool,
    fmt: str,
    output: str | None,
    no_apply_check: bool,
) -> int:
    """Which branches, tags and deployments carry each poison, which are cured (by which
    commit, found how), and the cherry-pick that would cure the rest."""
    if as_json:
        fmt = "json"
    if (deployments_only or summary) and (patterns or tags or no_deployments):
        raise click.UsageError(
            "--deployments-only and --summary take no --branches, --tags or --no-deployments"
        )
    if summary and fmt == "html":
        raise click.UsageError("--summary is text or --json; the html page has it on top")
    deployments_only = deployments_only or summary
    if inventory and no_deployments:
        raise click.UsageError("--deployments FILE and --no-deployments contradict each other")
    progress = StderrProgress()
    reach = app.reach(progress)  # lists the refs meanwhile
    snapshot = app.snapshot()
    records = select_records(snapshot, ids)
    targets: list[Target] = [] if deployments_only else ref_targets(reach, patterns, tags=tags)
    if not no_deployments:
        targets += _deployments(app, inventory, snapshot.tip, required=deployments_only)
    if ids:
        # Only the records asked about: their copies are all the matrix needs.
        snapshot = Snapshot(
            {r.id: r for r in records}, snapshot.problems, snapshot.tip, snapshot.stale
        )
    checker = open_checker(app.repo, snapshot, reach=reach, progress=progress)
    # Counting records on stderr would tear text written to the same terminal.
    judging = progress if output not in (None, "-") or not sys.stdout.isatty() else Silent()
    judge = Scope(
        app.repo,
        checker,
        probe_applies=not no_apply_check,
        hints=checker.equivalence.probable,
        progress=judging,
    )
    run = judge.stream(records, targets)
    environments = _environments(run, judge, reach, targets)
    if summary:
        return _summary(app, run, environments, fmt, output)
    # Written as it is judged, record by record: the whole matrix of a big repository
    # (millions of cells) never sits in memory, as objects or as text.
    chunks: Iterable[str]
    if fmt == "json":
        from poison_tools.scope import json_chunks

        tail = (
            None
            if environments is None
            else (lambda: {"environments": [e.to_json() for e in environments()]})
        )
        chunks = json_chunks(run, tail)
    elif fmt == "html":
        import time

        from poison_tools.html_report import PageInfo, html_chunks, records_note
        from poison_tools.records.record import now_iso

        info = PageInfo(
            now_iso(),
            records_note(snapshot.tip, bool(app.store.remote), app.store.last_fetch(), time.time()),
        )
        chunks = html_chunks(run, app.store.project, environments=environments, info=info)
    else:
        from poison_tools.scope_render import environment_lines, scope_lines

        style = app.out if output is None else (lambda t, *_n: t)
        chunks = _blocks(scope_lines(run, style))
        if environments is not None:
            chunks = itertools.chain(
                chunks,
                _later(
                    lambda: _blocks(
                        [
                            "",
                            style("per environment:", "bold"),
                            *environment_lines(environments(), style),
                        ]
                    )
                ),
            )
        if not records:
            app.warn("no active records (record one with `git poison add`)")
    _emit(app, chunks, output)
    return run.exit_code


def _environments(
    run: ScopeRun, judge: Scope, reach: Reachability, targets: list[Target]
) -> Callable[[], list[EnvironmentSummary]] | None:
    """With deployments among the targets: the per-environment summary (`watch`)."""
    if not any(t.kind == "deployment" for t in targets):
        return None
    from poison_tools.environments import watch

    return watch(run, judge, targets, ref_targets(reach, branches=False, tags=True))


def _later(make: Callable[[], Iterable[str]]) -> Iterator[str]:
    """`make()`'s chunks, made only when the chunks before them were written."""
    yield from make()


def _summary(
    app: App,
    run: ScopeRun,
    environments: Callable[[], list[EnvironmentSummary]] | None,
    fmt: str,
    output: str | None,
) -> int:
    for _row in run:  # only the deployments' cells are kept, by the summary's observer
        pass
    envs = environments() if environments is not None else []
    if fmt == "json":
        import json

        from poison_tools.records.record import now_iso
        from poison_tools.scope import JSON_VERSION

        data = {
            "version": JSON_VERSION,
            "project": app.store.project,
            "generated": now_iso(),
            "environments": [e.to_json() for e in envs],
            "problems": [p.to_json() for p in run.problems],
            "stale": None if run.stale is None else run.stale.describe(),
        }
        chunks: Iterable[str] = [json.dumps(data, indent=2, ensure_ascii=False) + "\n"]
    else:
        from poison_tools.render import problem_lines
        from poison_tools.scope_render import environment_lines

        style = app.out if output is None else (lambda t, *_n: t)
        chunks = _blocks([*environment_lines(envs, style), *problem_lines(run.problems, style)])
    _emit(app, chunks, output)
    return run.exit_code


def _deployments(app: App, path: str | None, tip: str | None, required: bool) -> list[Target]:
    from poison_tools.deployments import default_inventory, load, resolve

    if path:
        return resolve(app.repo, load(path))
    found = default_inventory(app.repo, app.store, tip)
    if found is None:
        if required:
            raise FatalError(
                "no deployments inventory: pass --deployments FILE, or "
                "`git config poison.deployments FILE` (docs/scope.md)"
            )
        return []
    return resolve(app.repo, found.pairs)


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
