"""One document's annotations: find its repository, ask the core, keep the answer.

Runs in a worker thread. Every reason for having no annotations (outside a
repository, untracked, binary, huge, unborn HEAD, unreadable records) becomes an
`Analysis` with `skipped` set, never an exception that reaches the server.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from git_poison_lsp.repos import Repos, RepoState, Status
from poison_tools.ancestry_first import KNOWN
from poison_tools.blame import BlameUnavailable, PoisonedRun, TextBlame, annotate
from poison_tools.check import CheckReport
from poison_tools.errors import FatalError
from poison_tools.git import GitError
from poison_tools.progress import Progress

log = logging.getLogger(__name__)


@dataclass
class Analysis:
    uri: str
    version: int | None
    state: RepoState | None = None
    report: CheckReport | None = None
    status: Status | None = None
    runs: list[PoisonedRun] = field(default_factory=list)
    skipped: str | None = None
    blame: TextBlame | None = None
    fingerprint: str | None = None  # of the repository state the blame belongs to
    # `known`, or `pending` / `failed`: the report is what ancestry alone says, while the
    # copy scan runs / because it failed (`error`) (see `repos.HeadReport`).
    copies: str = KNOWN
    error: str | None = None

    def runs_at(self, line: int) -> list[PoisonedRun]:
        return [r for r in self.runs if r.start <= line <= r.end]


def relative_path(state: RepoState, path: str) -> str | None:
    """`path` relative to the work tree, or None when it lies outside or in .git."""
    real = os.path.realpath(path)
    rel = os.path.relpath(real, state.toplevel)
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir or os.path.isabs(rel):
        return None
    if rel.split(os.sep, 1)[0] == ".git":
        return None
    return rel.replace(os.sep, "/")


def analyse(
    repos: Repos,
    uri: str,
    path: str,
    text: str,
    version: int | None,
    previous: Analysis | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Annotate `text`. With `previous` (an analysis of an earlier version of the same
    document), follow the edit through its blame if HEAD and records did not move."""
    result = Analysis(uri, version)
    state = repos.for_path(path)
    if state is None:
        result.skipped = "not in a git work tree"
        return result
    result.state = state
    rel = relative_path(state, path)
    if rel is None:
        result.skipped = "outside the work tree"
        return result
    try:
        head = state.report(progress)
        report, fingerprint = head.report, head.fingerprint
        result.report, result.fingerprint = report, fingerprint
        result.copies, result.error = head.copies, head.error
        result.status = head.status(state.toplevel)
        before = (
            previous.blame
            if previous is not None
            and previous.state is state
            and previous.fingerprint == fingerprint
            else None
        )
        annotations = annotate(
            state.repo, rel, text.encode("utf-8", "surrogatepass"), report, previous=before
        )
        result.runs, result.blame = annotations.runs, annotations.blame
    except BlameUnavailable as e:
        result.skipped = e.reason
    except (FatalError, GitError, OSError) as e:
        result.skipped = f"could not read the repository: {e}"
    if result.skipped:
        log.info("%s: no annotations: %s", rel, result.skipped)
    return result
