"""Which lines of a text come from a poisoned commit: blame, judged by the `Checker`.

The editor asks about the text it holds, unsaved edits included, so blame runs with
`--contents -` (the text on stdin stands in for the work tree copy). Only commits
that `Checker.check` found poisoned on HEAD matter (the commit itself or, through
the checker's equivalence, a cherry-picked copy of it), so the editor and
`git poison check` can never disagree.

Blame is the expensive part, so it is skipped when HEAD carries no uncured poison,
and otherwise walks only from HEAD down to the oldest poisoned commit: the parents
of the oldest poisons are excluded (`--not`), and lines older than them are blamed
on those boundary commits, which are never poisons (a proper ancestor of a poison
would itself be a descendant of nothing we keep; see `_walk_limits`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from poison_tools.check import POISONED, Checker, CheckReport, Evidence, Finding
from poison_tools.git import GitError, SourceRepo
from poison_tools.store import Snapshot

UNCOMMITTED = "0" * 40
# Beyond these the editor shows nothing: blame of a generated or vendored giant
# would cost seconds and help nobody.
MAX_BYTES = 4 * 1024 * 1024
MAX_LINES = 100_000

_GROUP = re.compile(r"\A([0-9a-f]{40}|[0-9a-f]{64}) (\d+) (\d+) (\d+)\Z")


class BlameUnavailable(Exception):
    """No annotation is possible for this text; `reason` says why, for a log line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BlameRun:
    """`count` lines from 0-based `start` of the text come from `commit`."""

    start: int
    count: int
    commit: str
    boundary: bool = False


@dataclass(frozen=True)
class PoisonedRun:
    """Lines `start`..`end` (0-based, inclusive) come from `commit`, which is
    `evidence.commit` of a poisoned `finding`."""

    start: int
    end: int
    commit: str
    finding: Finding
    evidence: Evidence

    @property
    def record_id(self) -> str:
        return self.finding.record.id


@dataclass
class FileAnnotations:
    path: str
    report: CheckReport
    runs: list[PoisonedRun] = field(default_factory=list)
    blamed: bool = False  # False: blame was not needed (no uncured poison on HEAD)

    @property
    def record_ids(self) -> list[str]:
        return list(dict.fromkeys(r.record_id for r in self.runs))


def make_checker(repo: SourceRepo, snapshot: Snapshot) -> Checker:
    """The checker exactly as `git poison check` builds it."""
    return Checker(repo, snapshot)


def check_head(repo: SourceRepo, snapshot: Snapshot) -> CheckReport:
    """`git poison check HEAD`, as data. Raises BlameUnavailable on an unborn HEAD."""
    proc = repo.git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], check=False)
    head = proc.stdout.decode().strip()
    if proc.returncode != 0 or not head:
        raise BlameUnavailable("the repository has no commit yet")
    return make_checker(repo, snapshot).check(head, "HEAD")


def _check_text(text: bytes) -> None:
    if b"\0" in text[:65536]:
        raise BlameUnavailable("binary file")
    if len(text) > MAX_BYTES or text.count(b"\n") > MAX_LINES:
        raise BlameUnavailable(f"file larger than {MAX_BYTES // 1024 // 1024} MiB or {MAX_LINES} lines")


def parse_incremental(out: str) -> list[BlameRun]:
    """Parse `git blame --incremental`: groups of lines, each headed by
    `<sha> <orig-line> <final-line> <count>`; commit headers come once per commit."""
    runs: list[BlameRun] = []
    boundaries: set[str] = set()
    current: list[str] | None = None
    for line in out.splitlines():
        m = _GROUP.match(line)
        if m:
            current = [m.group(1), m.group(3), m.group(4)]
            continue
        if current is None:
            continue
        if line == "boundary":
            boundaries.add(current[0])
        elif line.startswith("filename "):
            sha, final, count = current
            runs.append(BlameRun(int(final) - 1, int(count), sha))
            current = None
    runs = [BlameRun(r.start, r.count, r.commit, r.commit in boundaries) for r in runs]
    runs.sort(key=lambda r: r.start)
    return runs


def blame_text(
    repo: SourceRepo, path: str, text: bytes, *, exclude: Iterable[str] = (),
    lines: tuple[int, int] | None = None,
) -> list[BlameRun]:
    """Blame `text` as the work-tree copy of `path` (relative to the top level).

    `exclude`: commits whose ancestors are not walked (lines older than them are
    blamed on them as boundaries). `lines`: 0-based inclusive range to blame.
    """
    _check_text(text)
    # --root: lines of a root commit are that commit's, not an unnamed boundary's
    # (a poison may well be the first commit).
    args = ["blame", "--incremental", "--root", "--contents", "-"]
    if lines is not None:
        args += ["-L", f"{lines[0] + 1},{lines[1] + 1}"]
    excluded = list(dict.fromkeys(exclude))
    if excluded:
        args += ["--not", *excluded]
    args += ["--", path]
    try:
        proc = repo.git(args, input=text, check=False)
    except GitError as e:  # pragma: no cover - run() raises only with check=True
        raise BlameUnavailable(str(e)) from None
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        last = err[-1].removeprefix("fatal: ") if err else f"git blame exit code {proc.returncode}"
        if "no such path" in last:
            raise BlameUnavailable(f"{path} is not in HEAD (untracked or new file)")
        raise BlameUnavailable(last)
    return parse_incremental(proc.stdout.decode(errors="replace"))


def _walk_limits(repo: SourceRepo, commits: set[str]) -> list[str]:
    """Parents of the oldest of `commits`: excluding them keeps every one of
    `commits` inside the walk.

    A commit X is excluded iff it is an ancestor of one of the returned parents. Only
    the minimal commits (no other commit of the set is their proper ancestor) give
    parents, so a kept commit could be excluded only by being a proper ancestor of a
    minimal one, which minimality rules out.
    """
    if not commits or len(commits) > 8:
        return []  # many poisons: the full walk costs less than the pairwise questions
    listed = sorted(commits)
    out = repo.git_out(["rev-list", "--parents", "--no-walk=unsorted", *listed], check=False)
    parents = {}
    for line in out.splitlines():
        parts = line.split()
        if parts:
            parents[parts[0]] = parts[1:]
    if set(parents) != commits:
        return []
    minimal = [c for c in listed if not any(o != c and _is_ancestor(repo, o, c) for o in listed)]
    return [p for c in minimal for p in parents[c]]


def _is_ancestor(repo: SourceRepo, a: str, b: str) -> bool:
    return repo.git(["merge-base", "--is-ancestor", a, b], check=False).returncode == 0


def poisoned_runs(report: CheckReport, runs: Iterable[BlameRun]) -> list[PoisonedRun]:
    """Map blame runs onto the poisoned findings; merge adjacent runs of one commit
    and record into one."""
    by_commit: dict[str, list[tuple[Finding, Evidence]]] = {}
    for f in report.findings:
        if f.status != POISONED:
            continue
        for e in f.poison_evidence:
            by_commit.setdefault(e.commit, []).append((f, e))
    result: list[PoisonedRun] = []
    open_runs: dict[tuple[str, str], int] = {}  # (record, commit) -> index in result
    for run in sorted(runs, key=lambda r: r.start):
        if run.boundary or run.commit == UNCOMMITTED:
            continue
        for finding, evidence in by_commit.get(run.commit, []):
            key = (finding.record.id, run.commit)
            i = open_runs.get(key)
            end = run.start + run.count - 1
            if i is not None and result[i].end + 1 == run.start:
                prev = result[i]
                result[i] = PoisonedRun(prev.start, end, prev.commit, finding, evidence)
            else:
                open_runs[key] = len(result)
                result.append(PoisonedRun(run.start, end, run.commit, finding, evidence))
    result.sort(key=lambda r: (r.start, r.record_id))
    return result


def annotate(repo: SourceRepo, path: str, text: bytes, report: CheckReport) -> FileAnnotations:
    """The poisoned runs of `text` (the editor's copy of `path`) for HEAD's `report`."""
    result = FileAnnotations(path, report)
    poisoned = {e.commit for f in report.poisoned for e in f.poison_evidence}
    if not poisoned:
        _check_text(text)
        return result
    runs = blame_text(repo, path, text, exclude=_walk_limits(repo, poisoned))
    result.runs = poisoned_runs(report, runs)
    result.blamed = True
    return result


def line_commit(repo: SourceRepo, path: str, text: bytes, line: int) -> str | None:
    """The commit that blame gives for 0-based `line` of `text`; None if uncommitted."""
    if line < 0 or line > text.count(b"\n") - (1 if text.endswith(b"\n") else 0):
        raise BlameUnavailable(f"line {line + 1} is outside the file")
    runs = blame_text(repo, path, text, lines=(line, line))
    for run in runs:
        if run.start <= line < run.start + run.count:
            return None if run.commit == UNCOMMITTED else run.commit
    raise BlameUnavailable(f"git blame gave nothing for line {line + 1}")
