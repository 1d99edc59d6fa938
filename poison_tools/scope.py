"""Where is this bug? Every record against every branch, tag and deployment at once.

The whole matrix (1,000 records x 3,000 refs on a million commits) is too big to hold
as objects: it is judged and handed out one record's row at a time (`ScopeRun`), so
memory is one row plus a few bits per (commit, target) pair, whatever the output.

Reachability is asked once, in slices of targets (`ancestors_many`), and kept as bit
matrices: recorded commits and their copies x distinct target commits. For one record,
the targets whose history holds the same of its commits (poisons, cures, copies) get
the same verdict, so each distinct pattern is judged once, by the same
`Checker.judge` that `git poison check` uses: the two never disagree. For an affected
cell whose cure exists elsewhere, the cure to carry over is named with its
cherry-pick line and whether it would apply cleanly (`applies.py`, without touching
the work tree), asked in batches of a few records.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from poison_tools.applies import CherryPickProbe
from poison_tools.check import CLEAN, CURED, NOT_IN_HISTORY, POISONED, UNDECIDED, Checker, Finding
from poison_tools.cherry_pick import cherry_pick_line
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.lazy import OnFirstUse
from poison_tools.progress import Progress, Silent
from poison_tools.reach.answer import Answer, Reachability
from poison_tools.records.record import Problem, Record
from poison_tools.records.store import Snapshot, Staleness
from poison_tools.release_refs import branch_name, is_release_branch

if TYPE_CHECKING:
    import numpy as np
else:
    np = OnFirstUse("numpy")  # imported on the other core meanwhile (`poison_tools.lazy`)

AFFECTED = "affected"
UNKNOWN_REVISION = "unknown-revision"
STATUSES = (AFFECTED, CURED, CLEAN, UNDECIDED, UNKNOWN_REVISION)
# check's words -> scope's words (docs/scope.md)
_STATUS = {
    POISONED: AFFECTED,
    CURED: CURED,
    CLEAN: CLEAN,
    NOT_IN_HISTORY: CLEAN,
    UNDECIDED: UNDECIDED,
}

BRANCH_ROOTS = ("refs/heads/", "refs/remotes/")
TAG_ROOT = "refs/tags/"
# `scope --json` shape (docs/scope.md); 2: compact clean cells, cure refs once per record.
JSON_VERSION = 2
# Reachability is asked for this many (candidate, target) pairs at a time: the
# answers' sets cost ~50 bytes a pair until they are folded into bits.
SLICE_PAIRS = 1_000_000
# Cherry-pick probes are batched over records until this many are pending (one
# `merge-tree --stdin` each), so a matrix of 1,000 records costs a few git runs.
PROBE_BATCH = 2000
BUFFER_CELLS = 200_000


@dataclass(frozen=True)
class Target:
    kind: str  # "branch", "tag" or "deployment"
    ref: str  # full ref name; for a deployment the revision as written in the inventory
    commit: str | None  # None: the revision does not resolve here
    name: str = ""  # a deployment's name (environment/cluster/service)

    @cached_property  # asked per cell and for the column width: thousands of times
    def label(self) -> str:
        if self.kind == "deployment":
            return self.name
        for root in (*BRANCH_ROOTS, TAG_ROOT):
            if self.ref.startswith(root):
                return self.ref[len(root) :]
        return self.ref

    def key(self) -> dict[str, Any]:
        """What names this target in a cell: its ref, or a deployment's name."""
        return {"name": self.name} if self.kind == "deployment" else {"ref": self.ref}

    def to_json(self) -> dict[str, Any]:
        if self.kind == "deployment":
            return {
                "name": self.name,
                "revision": self.ref,
                "kind": self.kind,
                "commit": self.commit,
            }
        return {"ref": self.ref, "kind": self.kind, "commit": self.commit}


@dataclass
class MissingCure:
    cure: str
    refs: list[str]  # scanned or other refs that hold it (or a copy of it)
    present: bool  # the commit is in this clone
    applies: bool | None  # would `git cherry-pick` apply cleanly? None: not known

    @property
    def cherry_pick(self) -> str:
        return cherry_pick_line(self.cure)

    def to_json(self, refs: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "commit": self.cure,
            "refs": self.refs,
            "in_clone": self.present,
            "cherry_pick": self.cherry_pick,
            "applies_cleanly": self.applies,
        }
        if not refs:  # scope lists them once per record (`cure_refs`)
            del data["refs"]
        return data


@dataclass
class Cell:
    target: Target
    status: str  # affected, cured, clean, undecided, unknown-revision
    finding: Finding | None = None
    missing: list[MissingCure] = field(default_factory=list)
    # (commit here, recorded cure) with the cure's subject line: never evidence, a hint.
    probable: list[tuple[str, str]] = field(default_factory=list)

    @property
    def best(self) -> MissingCure | None:
        """The cure to suggest first: one that is here and applies cleanly."""
        ranked = sorted(
            self.missing, key=lambda m: (not m.present, m.applies is not True, not m.refs)
        )
        return ranked[0] if ranked else None

    def to_json(self) -> dict[str, Any]:
        if self.status == CLEAN:
            # Most of a big matrix: its name and status say it all (kind and commit
            # are in the report's `targets`).
            return {**self.target.key(), "status": CLEAN}
        f = self.finding
        return {
            **self.target.to_json(),
            "status": self.status,
            "poison_evidence": [e.to_json() for e in f.poison_evidence] if f else [],
            "cure_evidence": [e.to_json() for e in f.cure_evidence] if f else [],
            "undecided_commits": list(f.undecided_commits) if f else [],
            "reverted_cures": f.reverted_json() if f else [],
            "missing_cures": [m.to_json(refs=False) for m in self.missing],
            "probable_cures": [
                {
                    "commit": c,
                    "same_subject_as": cure,
                    "confirm": f"git poison cure {f.record.id} {c}" if f else "",
                }
                for c, cure in self.probable
            ]
            + (f.probable_json() if f else []),
            "ignored_cures": f.ignored_json() if f else [],
            "unknown_copies": list(f.unknown_copies) if f else [],
        }


@dataclass
class RecordScope:
    record: Record
    cells: list[Cell]
    cure_refs: dict[str, list[str]] = field(default_factory=dict)  # cure -> refs holding it

    def of(self, *statuses: str) -> list[Cell]:
        return [c for c in self.cells if c.status in statuses]

    def counts(self) -> dict[str, int]:
        n = Counter(c.status for c in self.cells)
        return {s: n[s] for s in STATUSES if n[s]}

    def head_json(self) -> dict[str, Any]:
        """The record's own fields, without its cells."""
        r = self.record
        return {
            "id": r.id,
            "bug": r.bug,
            "comment": r.comment,
            "severity": r.severity,
            "poisons": list(r.poisons),
            "cures": list(r.cures),
            "counts": self.counts(),
            "cure_refs": self.cure_refs,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.head_json(),
            "refs": [c.to_json() for c in self.cells if c.target.kind != "deployment"],
            "deployments": [c.to_json() for c in self.cells if c.target.kind == "deployment"],
        }


def _exit_code(tally: Counter[str], problems: Sequence[Problem]) -> int:
    # Like check: something affected outranks doubt; doubt is never "all clear".
    if tally[AFFECTED]:
        return 1
    if problems or tally[UNDECIDED] or tally[UNKNOWN_REVISION]:
        return 2
    return 0


@dataclass
class ScopeReport:
    """A whole matrix held in memory: for a few records (`Scope.run`)."""

    records: list[RecordScope]
    targets: list[Target]
    problems: list[Problem] = field(default_factory=list)
    stale: Staleness | None = None

    @property
    def exit_code(self) -> int:
        return _exit_code(Counter(c.status for rs in self.records for c in rs.cells), self.problems)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "targets": [t.to_json() for t in self.targets],
            "records": [rs.to_json() for rs in self.records],
            "problems": [p.to_json() for p in self.problems],
            "stale": None if self.stale is None else self.stale.describe(),
        }


class ScopeRun:
    """The matrix as a stream of rows: iterate once; `exit_code` counts what went by."""

    def __init__(
        self,
        rows: Iterator[RecordScope],
        targets: list[Target],
        problems: list[Problem],
        stale: Staleness | None,
    ) -> None:
        self._rows = rows
        self.targets = targets
        self.problems = problems
        self.stale = stale
        self.tally: Counter[str] = Counter()
        self.done = False
        # Called with each row as it goes by (the per-environment summary keeps its part).
        self.observers: list[Callable[[RecordScope], None]] = []

    def __iter__(self) -> Iterator[RecordScope]:
        for rs in self._rows:
            self.tally.update(c.status for c in rs.cells)
            for observe in self.observers:
                observe(rs)
            yield rs
        self.done = True

    @property
    def exit_code(self) -> int:
        if not self.done:
            raise RuntimeError("exit_code of a scope run that was not read to the end")
        return _exit_code(self.tally, self.problems)


def json_chunks(run: ScopeRun, tail: Callable[[], dict[str, Any]] | None = None) -> Iterator[str]:
    """`scope --json` (docs/scope.md) as text, one record at a time, one cell a line:
    memory is one record's row however big the matrix. `tail` gives fields to add at
    the end, once every row went by (the per-environment summary). Equal to
    `Cell.to_json`, cell for cell, but what repeats (a target's name, the evidence of a finding shared by
    many cells) is encoded once: a million `json.dumps` calls cost tens of seconds."""
    import json

    from poison_tools.term import json_text  # record text: nothing a terminal obeys

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    clean = ["{" + dump(t.key())[1:-1] + f', "status": "{CLEAN}"}}' for t in run.targets]
    heads = ["{" + dump(t.to_json())[1:-1] + ", " for t in run.targets]
    yield f'{{\n  "version": {JSON_VERSION},\n  "targets": ['
    yield ",".join("\n    " + dump(t.to_json()) for t in run.targets)
    yield '\n  ],\n  "records": ['
    first = True
    for rs in run:
        evidence: dict[int, str] = {}  # id(finding) -> its part; findings live as long as the row

        def cell(i: int, c: Cell, evidence: dict[int, str] = evidence) -> str:
            if c.status == CLEAN:
                return clean[i]
            f = c.finding
            if f is None or c.missing or c.probable:
                return dump(c.to_json())
            part = evidence.get(id(f))
            if part is None:  # the same for every cell of this finding, whatever its target
                part = evidence[id(f)] = dump(c.to_json())[len(heads[i]) :]
            return heads[i] + part

        head = json_text(dump(rs.head_json()))[:-1]  # reopened: the cells follow
        refs = ",".join(
            "\n        " + cell(i, c)
            for i, c in enumerate(rs.cells)
            if c.target.kind != "deployment"
        )
        deps = ",".join(
            "\n        " + cell(i, c)
            for i, c in enumerate(rs.cells)
            if c.target.kind == "deployment"
        )
        yield (
            ("\n    " if first else ",\n    ")
            + head
            + f', "refs": [{refs}\n      ], "deployments": [{deps}\n      ]}}'
        )
        first = False
    problems = ",".join("\n    " + json_text(dump(p.to_json())) for p in run.problems)
    stale = dump(None if run.stale is None else run.stale.describe())
    extra = "".join(f",\n  {dump(k)}: {dump(v)}" for k, v in (tail() if tail else {}).items())
    yield f'\n  ],\n  "problems": [{problems}\n  ],\n  "stale": {stale}{extra}\n}}\n'


def _matches(ref: str, patterns: Sequence[str]) -> bool:
    if not patterns:
        return True
    short = ref
    for root in (*BRANCH_ROOTS, TAG_ROOT):
        if ref.startswith(root):
            short = ref[len(root) :]
    return any(fnmatch.fnmatchcase(short, p) or fnmatch.fnmatchcase(ref, p) for p in patterns)


def ref_targets(
    reach: Reachability, patterns: Sequence[str] = (), *, branches: bool = True, tags: bool = False
) -> list[Target]:
    """Branches (local and remote-tracking) and tags, peeled to commits (aliases such as
    origin/HEAD and tags of trees or blobs left out)."""
    roots = [*(BRANCH_ROOTS if branches else ()), *((TAG_ROOT,) if tags else ())]
    targets = []
    for ref, commit in reach.ref_commits(roots):
        if branches and ref.startswith(BRANCH_ROOTS) and _matches(ref, patterns):
            targets.append(Target("branch", ref, commit))
        elif tags and ref.startswith(TAG_ROOT):
            targets.append(Target("tag", ref, commit))
    return targets


def release_branch_targets(reach: Reachability, patterns: Sequence[str]) -> list[Target]:
    """The branches whose name (remote's name left out) matches a release pattern."""
    return [
        Target("branch", ref, commit)
        for ref, commit in reach.ref_commits(BRANCH_ROOTS)
        if is_release_branch(ref, patterns)
    ]


def select_records(snapshot: Snapshot, ids: Sequence[str]) -> list[Record]:
    if not ids:
        return sorted(snapshot.active, key=lambda r: (r.created, r.id))
    chosen = []
    for prefix in ids:
        rec = snapshot.find(prefix)
        if rec.withdrawn:
            raise FatalError(f"record {rec.id} was withdrawn: {rec.withdrawn.reason}")
        chosen.append(rec)
    return list(dict.fromkeys(chosen))


class Matrix:
    """Which candidates (recorded commits and copies) each target commit's history holds,
    as three bit matrices (reachable, cannot tell, absent): candidates x commits."""

    def __init__(
        self,
        reach: Reachability,
        commits: Sequence[str],
        candidates: Sequence[str],
        slice_pairs: int = SLICE_PAIRS,
    ) -> None:
        self.col = {c: j for j, c in enumerate(dict.fromkeys(commits))}
        self.row = {c: i for i, c in enumerate(dict.fromkeys(candidates))}
        shape = (len(self.row), len(self.col))
        self.reachable = np.zeros(shape, dtype=bool)
        self.unknown = np.zeros(shape, dtype=bool)
        self.absent = np.zeros(shape, dtype=bool)
        cols, cands = list(self.col), list(self.row)
        step = max(1, slice_pairs // max(1, len(cands)))
        for k in range(0, len(cols), step):
            # Sliced: one `ancestors_many` over all targets would hold every answer's
            # sets at once (gigabytes on a million commits).
            cells: tuple[tuple[list[int], list[int]], ...] = (([], []), ([], []), ([], []))
            for target, answer in reach.ancestors_many(cols[k : k + step], cands).items():
                j = self.col[target]
                for (rows, js), found in zip(
                    cells, (answer.reachable, answer.unknown, answer.absent), strict=True
                ):
                    hit = [self.row[c] for c in found if c in self.row]
                    rows += hit
                    js += [j] * len(hit)
            # One assignment per slice: one per target and kind cost ~25 ms on 3,000 refs.
            for bits, (rows, js) in zip(
                (self.reachable, self.unknown, self.absent), cells, strict=True
            ):
                bits[rows, js] = True

    def answer(self, commits: Sequence[str], j: int) -> Answer:
        """Column `j` restricted to `commits`, as the `Answer` that `Checker.judge` reads."""
        out = Answer("")
        for c in commits:
            i = self.row[c]
            if self.reachable[i, j]:
                out.reachable.add(c)
            elif self.unknown[i, j]:
                out.unknown.add(c)
            elif self.absent[i, j]:
                out.absent.add(c)
        return out

    def patterns(self, commits: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Columns that hold the same of `commits` share a pattern: (one column of each
        pattern, each column's pattern number)."""
        rows = [self.row[c] for c in commits]
        bits = np.concatenate([self.reachable[rows], self.unknown[rows], self.absent[rows]])
        packed = np.packbits(bits, axis=0)
        _, first, inverse = np.unique(packed, axis=1, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)

    def holds(self, commits: Iterable[str]) -> np.ndarray:
        """Per column: does its history hold any of `commits`?"""
        rows = [self.row[c] for c in commits if c in self.row]
        if not rows:
            return np.zeros(len(self.col), dtype=bool)
        return np.asarray(self.reachable[rows].any(axis=0))


class Scope:
    """The records x targets matrix for one snapshot."""

    def __init__(
        self,
        repo: SourceRepo,
        checker: Checker,
        *,
        probe_applies: bool = True,
        hints: Callable[[str], list[str]] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.repo = repo
        self.checker = checker
        self.progress = progress or Silent()
        self.hints = hints
        self.probe_applies = probe_applies
        self._refs_of: dict[str, list[str]] = {}

    def run(self, records: Iterable[Record], targets: Sequence[Target]) -> ScopeReport:
        """The whole matrix in memory: for a few records or targets."""
        stream = self.stream(records, targets)
        return ScopeReport(list(stream), stream.targets, stream.problems, stream.stale)

    def stream(self, records: Iterable[Record], targets: Sequence[Target]) -> ScopeRun:
        """The matrix row by row (see `ScopeRun`)."""
        return ScopeRun(
            self._rows(list(records), list(targets)),
            list(targets),
            list(self.checker.problems),
            self.checker.snapshot.stale,
        )

    def _rows(self, records: list[Record], targets: list[Target]) -> Iterator[RecordScope]:
        matrix = Matrix(
            self.checker.reach,
            [t.commit for t in targets if t.commit],
            sorted(self.checker.candidates),
        )
        cols = np.array([matrix.col[t.commit] if t.commit else -1 for t in targets], dtype=np.int64)
        pending: list[RecordScope] = []
        asks = cells = 0
        # The whole matrix of a big repository takes a while: say how far it is.
        self.progress.start(f"records x {len(targets)} targets", len(records))
        for record in records:
            self.progress.advance()
            rs = self._row(record, targets, matrix, cols)
            pending.append(rs)
            cells += len(rs.cells)
            asks += sum(1 for c in rs.cells if c.status == AFFECTED and c.target.kind == "branch")
            if asks >= PROBE_BATCH or cells >= BUFFER_CELLS:
                self._probe(pending)
                yield from pending
                pending, asks, cells = [], 0, 0
        self._probe(pending)
        self.progress.finish()
        yield from pending

    def _row(
        self, record: Record, targets: list[Target], matrix: Matrix, cols: np.ndarray
    ) -> RecordScope:
        stand_ins = self.checker.commits_of(record)
        findings: list[Finding] = []
        pattern = np.zeros(0, dtype=np.int64)
        if matrix.col:
            first, pattern = matrix.patterns(stand_ins)
            findings = [self.checker.judge(record, matrix.answer(stand_ins, int(j))) for j in first]
        cells = []
        for t, j in zip(targets, cols.tolist(), strict=True):
            if j < 0:
                cells.append(Cell(t, UNKNOWN_REVISION))
                continue
            f = findings[int(pattern[j])]
            cells.append(Cell(t, _STATUS[f.status], f))
        rs = RecordScope(record, cells)
        affected = [c for c in cells if c.status == AFFECTED]
        if affected and record.cures:
            rs.cure_refs = self._holders(record, targets, matrix, cols)
            present = self.checker.reach.present(record.cures)
            for cell in affected:
                # A cure this target holds but reverted is not missing: the cell says so.
                # Nor is one that cannot cure this poison (`Finding.ignored`).
                found = cell.finding
                undone = found.undone_cures | {c for c, _ in found.ignored} if found else set()
                cell.missing = [
                    MissingCure(cure, rs.cure_refs[cure], cure in present, None)
                    for cure in record.cures
                    if cure not in undone
                ]
            self._hint(record, affected)
        return rs

    def _holders(
        self, record: Record, targets: list[Target], matrix: Matrix, cols: np.ndarray
    ) -> dict[str, list[str]]:
        """cure -> the scanned branches that hold it or a copy of it (else any ref here)."""
        present = self.checker.reach.present(record.cures)
        branches = [
            (t.ref, j)
            for t, j in zip(targets, cols.tolist(), strict=True)
            if t.kind == "branch" and j >= 0
        ]
        holders = {}
        for cure in record.cures:
            copies = [c for c, _ in self.checker.cure_stand_ins(cure)]
            hit = matrix.holds(copies)
            refs = [ref for ref, j in branches if hit[j]]
            if not refs and cure in present:
                refs = self._refs_containing(cure)
            holders[cure] = refs
        return holders

    def _hint(self, record: Record, affected: list[Cell]) -> None:
        """Commits on affected targets that share a cure's subject: "probable cure, confirm?"."""
        if self.hints is None:
            return
        copies = {c for cure in record.cures for c, _ in self.checker.equivalents.get(cure, [])}
        like = {
            h: cure
            for cure in record.cures
            for h in self.hints(cure)
            if h not in copies and h not in record.cures
        }
        if not like:
            return
        tips = [c.target.commit for c in affected if c.target.commit]
        answers = self.checker.reach.ancestors_many(tips, like)
        for cell in affected:
            if cell.target.commit:
                answer = answers[cell.target.commit]
                cell.probable = [(h, cure) for h, cure in like.items() if answer.status(h)]

    def _probe(self, rows: list[RecordScope]) -> None:
        """Would each missing cure apply cleanly? Asked in one batch for these rows."""
        if not self.probe_applies:
            return
        # Only a branch takes a cherry-pick; a tag or a deployment is fixed by a new
        # release from its branch, so probing it would only cost time.
        asks = [
            (cell.target.commit, m)
            for rs in rows
            for cell in rs.of(AFFECTED)
            if cell.target.kind == "branch"
            for m in cell.missing
            if m.present
        ]
        if not asks:
            return
        # A probe per batch: its memo and its temporary objects go with the batch.
        probe = CherryPickProbe(self.repo)
        try:
            answers = probe.applies_many([(t, m.cure) for t, m in asks if t])
        finally:
            probe.close()
        for t, m in asks:
            if t:
                m.applies = answers.get((t, m.cure))

    def _refs_containing(self, commit: str) -> list[str]:
        if commit not in self._refs_of:
            self._refs_of[commit] = self.checker.reach.refs_containing(commit)
        return self._refs_of[commit]


@dataclass
class Backport:
    record: Record
    cell: Cell


def backports(targets: Sequence[Target], rows: Iterable[RecordScope]) -> dict[str, list[Backport]]:
    """Per branch: every uncured poison on it whose cure exists elsewhere here.

    Only those cells are kept, so `rows` may be a stream over a big matrix."""
    result: dict[str, list[Backport]] = {t.ref: [] for t in targets if t.kind == "branch"}
    for rs in rows:
        for cell in rs.of(AFFECTED):
            if cell.target.kind == "branch" and any(m.present and m.refs for m in cell.missing):
                result[cell.target.ref].append(Backport(rs.record, cell))
    return result


__all__ = [
    "AFFECTED",
    "CLEAN",
    "CURED",
    "JSON_VERSION",
    "UNDECIDED",
    "UNKNOWN_REVISION",
    "Backport",
    "Cell",
    "Matrix",
    "MissingCure",
    "RecordScope",
    "Scope",
    "ScopeReport",
    "ScopeRun",
    "Target",
    "backports",
    "branch_name",
    "json_chunks",
    "ref_targets",
    "release_branch_targets",
    "select_records",
]
