"""Which lines of a text come from a poisoned commit: blame, judged by the `Checker`.

The editor asks about the text it holds, unsaved edits included, so blame runs with
`--contents -` (the text on stdin stands in for the work tree copy). Only commits
that `Checker.check` found poisoned on HEAD matter (the commit itself or, through
the checker's equivalence, a cherry-picked copy of it), so the editor and
`git poison check` can never disagree.

Blame is the expensive part, so it is avoided when it cannot find anything: when
HEAD carries no uncured poison, and when the text holds none of the lines the
poisoned commits added (`could_hold_lines_of`). Otherwise it walks only from HEAD
down to the oldest poisoned commits: their parents are excluded (`--not`), lines
older than them are blamed on those boundary commits, which are never poisons
(see `_walk_limits`), and boundary lines are ignored. While the user types, the last
blame is followed through the edit (`TextBlame.edited`) instead of asking git again.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from poison_tools.check import POISONED, UNDECIDED, CheckReport, Evidence, Finding
from poison_tools.git import GitError, SourceRepo

UNCOMMITTED = "0" * 40
# Beyond these the editor shows nothing: blame of a generated or vendored giant
# would cost seconds and help nobody.
MAX_BYTES = 4 * 1024 * 1024
MAX_LINES = 100_000

# A commit whose diff is larger than this is not searched for its added lines: its
# files are blamed instead (correct, only slower).
MAX_DIFF_BYTES = 32 * 1024 * 1024

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

    @property
    def decided(self) -> bool:
        """False: the poison is here but whether it is cured cannot be told (the
        history needed is missing); shown all the same, never as clean."""
        return self.finding.status == POISONED


@dataclass
class FileAnnotations:
    path: str
    report: CheckReport
    runs: list[PoisonedRun] = field(default_factory=list)
    # None: blame was not needed (no uncured poison on HEAD, or none of the lines a
    # poisoned commit added is in the text).
    blame: TextBlame | None = None

    @property
    def blamed(self) -> bool:
        return self.blame is not None

    @property
    def record_ids(self) -> list[str]:
        return list(dict.fromkeys(r.record_id for r in self.runs))


@dataclass(frozen=True)
class TextBlame:
    """The blame of one text, line by line, so that an edit can be followed without
    asking git again (`edited`)."""

    lines: tuple[str, ...]
    commits: tuple[str, ...]  # per line; UNCOMMITTED for lines not in HEAD
    boundaries: frozenset[str] = frozenset()

    @classmethod
    def of(cls, text: bytes, runs: Iterable[BlameRun]) -> TextBlame:
        lines = tuple(_lines(text))
        commits = [UNCOMMITTED] * len(lines)
        boundaries = set()
        for run in runs:
            commits[run.start : run.start + run.count] = [run.commit] * run.count
            if run.boundary:
                boundaries.add(run.commit)
        return cls(lines, tuple(commits[: len(lines)]), frozenset(boundaries))

    def runs(self) -> list[BlameRun]:
        result: list[BlameRun] = []
        for i, commit in enumerate(self.commits):
            last = result[-1] if result else None
            if last is not None and last.commit == commit and last.start + last.count == i:
                result[-1] = BlameRun(last.start, last.count + 1, commit, last.boundary)
            else:
                result.append(BlameRun(i, 1, commit, commit in self.boundaries))
        return result

    def edited(self, text: bytes) -> TextBlame:
        """The blame after an edit: unchanged lines keep their commit, changed and new
        lines are uncommitted, as `git blame --contents` says of lines that differ from
        HEAD. (A line typed back to its committed content stays uncommitted until the
        next full blame, on save.)"""
        new = tuple(_lines(text))
        old = self.lines
        # Edits are local: match the common ends cheaply, diff only the middle.
        head = 0
        while head < min(len(old), len(new)) and old[head] == new[head]:
            head += 1
        tail = 0
        while (
            tail < min(len(old), len(new)) - head
            and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]
        ):
            tail += 1
        commits = [UNCOMMITTED] * len(new)
        commits[:head] = self.commits[:head]
        if tail:
            commits[len(new) - tail :] = self.commits[len(old) - tail :]
        a, b = old[head : len(old) - tail], new[head : len(new) - tail]
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                commits[head + block.b + k] = self.commits[head + block.a + k]
        return TextBlame(new, tuple(commits), self.boundaries)


def _lines(text: bytes) -> list[str]:
    lines = text.decode("utf-8", "surrogateescape").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


class _AddedLines:
    """commit -> the lines its diff adds (to its first parent), in any file; cached,
    since commits never change."""

    def __init__(self, size: int = 256) -> None:
        self._cache: OrderedDict[str, frozenset[str] | None] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, repo: SourceRepo, commit: str) -> frozenset[str] | None:
        with self._lock:
            if commit in self._cache:
                self._cache.move_to_end(commit)
                return self._cache[commit]
        found = self._read(repo, commit)
        with self._lock:
            self._cache[commit] = found
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return found

    @staticmethod
    def _read(repo: SourceRepo, commit: str) -> frozenset[str] | None:
        # Plumbing: no textconv, no external diff, no rename detection (a rename
        # shows as all lines added, which only makes the set larger: still safe).
        proc = repo.git(
            [
                "diff-tree",
                "-p",
                "-U0",
                "--no-color",
                "--root",
                "--diff-merges=first-parent",
                "--no-commit-id",
                commit,
            ],
            check=False,
        )
        if proc.returncode != 0 or len(proc.stdout) > MAX_DIFF_BYTES:
            return None
        added, in_hunk = set(), False
        for line in proc.stdout.decode("utf-8", "surrogateescape").split("\n"):
            if line.startswith("diff --git "):
                in_hunk = False
            elif line.startswith("@@"):
                in_hunk = True
            elif in_hunk and line.startswith("+"):
                added.add(line[1:].rstrip("\r"))
        return frozenset(added)


_ADDED = _AddedLines()


def could_hold_lines_of(repo: SourceRepo, commits: Iterable[str], text: bytes) -> list[str]:
    """The commits some line of `text` could be blamed on.

    Blame gives a line to commit C only when C's diff added exactly that line, so a
    commit none of whose added lines is in the text needs no blame at all: the quick
    answer for most files of a repository that carries a poison.
    """
    present = {line.rstrip("\r") for line in _lines(text)}
    result = []
    for commit in commits:
        added = _ADDED.get(repo, commit)
        if added is None or added & present:
            result.append(commit)
    return result


def _check_text(text: bytes) -> None:
    if b"\0" in text[:65536]:
        raise BlameUnavailable("binary file")
    if len(text) > MAX_BYTES or text.count(b"\n") > MAX_LINES:
        raise BlameUnavailable(
            f"file larger than {MAX_BYTES // 1024 // 1024} MiB or {MAX_LINES} lines"
        )


def parse_incremental(out: str) -> list[BlameRun]:
    """Parse `git blame --incremental`: groups of lines, each headed by
    `<sha> <orig-line> <final-line> <count>`; commit headers come once per commit."""
    runs: list[BlameRun] = []
    boundaries: set[str] = set()
    current: list[str] | None = None
    for line in out.split("\n"):
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
    repo: SourceRepo,
    path: str,
    text: bytes,
    *,
    exclude: Iterable[str] = (),
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


def _marked(report: CheckReport) -> list[Finding]:
    """Findings whose poison lines are marked: uncured, and those that cannot be decided
    (the poison is here, the history that would show a cure is not: fail closed)."""
    return [f for f in report.findings if f.status in (POISONED, UNDECIDED)]


def poisoned_runs(report: CheckReport, runs: Iterable[BlameRun]) -> list[PoisonedRun]:
    """Map blame runs onto the poisoned findings; merge adjacent runs of one commit
    and record into one."""
    by_commit: dict[str, list[tuple[Finding, Evidence]]] = {}
    for f in _marked(report):
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


def annotate(
    repo: SourceRepo, path: str, text: bytes, report: CheckReport, previous: TextBlame | None = None
) -> FileAnnotations:
    """The poisoned runs of `text` (the editor's copy of `path`) for HEAD's `report`.

    `previous`: the blame of an earlier version of this text at the same HEAD; the
    edit is followed through it instead of running git blame again.
    """
    result = FileAnnotations(path, report)
    _check_text(text)
    poisoned = {e.commit for f in _marked(report) for e in f.poison_evidence}
    if not poisoned:
        return result
    if previous is not None:
        result.blame = previous.edited(text)
    else:
        suspects = could_hold_lines_of(repo, sorted(poisoned), text)
        if not suspects:
            return result
        runs = blame_text(repo, path, text, exclude=_walk_limits(repo, set(suspects)))
        result.blame = TextBlame.of(text, runs)
    result.runs = poisoned_runs(report, result.blame.runs())
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
