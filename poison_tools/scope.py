"""Where is this bug? Every record against every branch, tag and deployment at once.

One `ancestors_many` question (records' commits and their copies x targets) answers
the whole matrix; each cell is then judged by the same `Checker.judge` that
`git poison check` uses, so the two never disagree. For an affected cell whose cure
exists elsewhere, the cure to carry over is named with its cherry-pick line and
whether it would apply cleanly (`applies.py`, without touching the work tree).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from poison_tools.applies import CherryPickProbe
from poison_tools.check import CLEAN, CURED, NOT_IN_HISTORY, POISONED, UNDECIDED, Checker, Finding
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.record import Problem, Record
from poison_tools.store import Snapshot, Staleness

AFFECTED = "affected"
UNKNOWN_REVISION = "unknown-revision"
# check's words -> scope's words (docs/scope.md)
_STATUS = {POISONED: AFFECTED, CURED: CURED, CLEAN: CLEAN, NOT_IN_HISTORY: CLEAN, UNDECIDED: UNDECIDED}

BRANCH_ROOTS = ("refs/heads/", "refs/remotes/")
TAG_ROOT = "refs/tags/"


@dataclass(frozen=True)
class Target:
    kind: str  # "branch", "tag" or "deployment"
    ref: str  # full ref name; for a deployment the revision as written in the inventory
    commit: str | None  # None: the revision does not resolve here
    name: str = ""  # a deployment's name (environment/cluster/service)

    @property
    def label(self) -> str:
        if self.kind == "deployment":
            return self.name
        for root in (*BRANCH_ROOTS, TAG_ROOT):
            if self.ref.startswith(root):
                return self.ref[len(root):]
        return self.ref

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ref": self.ref, "kind": self.kind, "commit": self.commit}
        if self.kind == "deployment":
            data = {"name": self.name, "revision": self.ref, "kind": self.kind, "commit": self.commit}
        return data


@dataclass
class MissingCure:
    cure: str
    refs: list[str]  # scanned or other refs that hold it (or a copy of it)
    present: bool  # the commit is in this clone
    applies: bool | None  # would `git cherry-pick` apply cleanly? None: not known

    @property
    def cherry_pick(self) -> str:
        return f"git cherry-pick -x {self.cure}"

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.cure, "refs": self.refs, "in_clone": self.present,
                "cherry_pick": self.cherry_pick, "applies_cleanly": self.applies}


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
        ranked = sorted(self.missing, key=lambda m: (not m.present, m.applies is not True, not m.refs))
        return ranked[0] if ranked else None

    def to_json(self) -> dict[str, Any]:
        f = self.finding
        return {
            **self.target.to_json(),
            "status": self.status,
            "poison_evidence": [e.to_json() for e in f.poison_evidence] if f else [],
            "cure_evidence": [e.to_json() for e in f.cure_evidence] if f else [],
            "undecided_commits": list(f.undecided_commits) if f else [],
            "missing_cures": [m.to_json() for m in self.missing],
            "probable_cures": [
                {"commit": c, "same_subject_as": cure,
                 "confirm": f"git poison cure {f.record.id} {c}" if f else ""}
                for c, cure in self.probable
            ],
        }


@dataclass
class RecordScope:
    record: Record
    cells: list[Cell]

    def of(self, *statuses: str) -> list[Cell]:
        return [c for c in self.cells if c.status in statuses]

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": r.id, "bug": r.bug, "comment": r.comment, "severity": r.severity,
            "poisons": list(r.poisons), "cures": list(r.cures),
            "refs": [c.to_json() for c in self.cells if c.target.kind != "deployment"],
            "deployments": [c.to_json() for c in self.cells if c.target.kind == "deployment"],
        }


@dataclass
class ScopeReport:
    records: list[RecordScope]
    targets: list[Target]
    problems: list[Problem] = field(default_factory=list)
    stale: Staleness | None = None

    @property
    def exit_code(self) -> int:
        # Like check: something affected outranks doubt; doubt is never "all clear".
        cells = [c for rs in self.records for c in rs.cells]
        if any(c.status == AFFECTED for c in cells):
            return 1
        if self.problems or any(c.status in (UNDECIDED, UNKNOWN_REVISION) for c in cells):
            return 2
        return 0

    def to_json(self) -> dict[str, Any]:
        return {
            "records": [rs.to_json() for rs in self.records],
            "problems": [p.to_json() for p in self.problems],
            "stale": None if self.stale is None else self.stale.describe(),
        }


def _matches(ref: str, patterns: Sequence[str]) -> bool:
    if not patterns:
        return True
    short = ref
    for root in (*BRANCH_ROOTS, TAG_ROOT):
        if ref.startswith(root):
            short = ref[len(root):]
    return any(fnmatch.fnmatchcase(short, p) or fnmatch.fnmatchcase(ref, p) for p in patterns)


def ref_targets(repo: SourceRepo, patterns: Sequence[str] = (), *, branches: bool = True,
                tags: bool = False) -> list[Target]:
    """Branches (local and remote-tracking) and tags, peeled to commits."""
    roots = [*(BRANCH_ROOTS if branches else ()), *((TAG_ROOT,) if tags else ())]
    if not roots:
        return []
    out = repo.git_out(["for-each-ref", "--format=%(refname)%00%(objecttype)%00%(objectname)"
                        "%00%(*objecttype)%00%(*objectname)%00%(symref)", *roots])
    targets = []
    for line in out.splitlines():
        ref, otype, oid, ptype, pid, symref = line.split("\0")
        if symref:  # origin/HEAD: an alias, not a branch of its own
            continue
        commit = oid if otype == "commit" else pid if ptype == "commit" else None
        if commit is None:
            continue  # a tag of a tree or blob has no history to judge
        if branches and ref.startswith(BRANCH_ROOTS) and _matches(ref, patterns):
            targets.append(Target("branch", ref, commit))
        elif tags and ref.startswith(TAG_ROOT):
            targets.append(Target("tag", ref, commit))
    return targets


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


class Scope:
    """The records x targets matrix for one snapshot."""

    def __init__(self, repo: SourceRepo, checker: Checker, *, probe_applies: bool = True,
                 hints: Callable[[str], list[str]] | None = None) -> None:
        self.repo = repo
        self.checker = checker
        self.hints = hints
        self.probe = CherryPickProbe(repo) if probe_applies else None
        self._refs_of: dict[str, list[str]] = {}

    def run(self, records: Iterable[Record], targets: Sequence[Target]) -> ScopeReport:
        commits = [t.commit for t in targets if t.commit]
        answers = self.checker.reach.ancestors_many(commits, self.checker.candidates)
        try:
            report = ScopeReport([], list(targets), list(self.checker.snapshot.problems),
                                 self.checker.snapshot.stale)
            for record in records:
                judged: dict[str, Finding] = {}
                cells = []
                for t in targets:
                    if t.commit is None:
                        cells.append(Cell(t, UNKNOWN_REVISION))
                        continue
                    if t.commit not in judged:
                        judged[t.commit] = self.checker.judge(record, answers[t.commit])
                    f = judged[t.commit]
                    cells.append(Cell(t, _STATUS[f.status], f))
                affected = [c for c in cells if c.status == AFFECTED]
                if affected and record.cures:
                    holders = self._holders(record, cells, answers)
                    for cell in affected:
                        cell.missing = self._missing(record, cell, holders)
                    self._hint(record, affected)
                report.records.append(RecordScope(record, cells))
            self._probe(report)
            return report
        finally:
            if self.probe is not None:
                self.probe.close()

    def _holders(self, record: Record, cells: list[Cell], answers: dict[str, Any]) -> dict[str, list[str]]:
        """cure -> the scanned branches that hold it or a copy of it (else any ref here)."""
        present = self.checker.reach.present(record.cures)
        branches = [(c.target.ref, c.target.commit) for c in cells
                    if c.target.kind == "branch" and c.target.commit]
        holders = {}
        for cure in record.cures:
            copies = {cure, *(c for c, _ in self.checker.equivalents.get(cure, []))}
            refs = [ref for ref, tip in branches if any(answers[tip].status(x) for x in copies)]
            if not refs and cure in present:
                refs = self._refs_containing(cure)
            holders[cure] = refs
        return holders

    def _missing(self, record: Record, cell: Cell, holders: dict[str, list[str]]) -> list[MissingCure]:
        present = self.checker.reach.present(record.cures)
        return [MissingCure(cure, holders[cure], cure in present, None) for cure in record.cures]

    def _hint(self, record: Record, affected: list[Cell]) -> None:
        """Commits on affected targets that share a cure's subject: "probable cure, confirm?"."""
        if self.hints is None:
            return
        copies = {c for cure in record.cures for c, _ in self.checker.equivalents.get(cure, [])}
        like = {h: cure for cure in record.cures for h in self.hints(cure)
                if h not in copies and h not in record.cures}
        if not like:
            return
        tips = [c.target.commit for c in affected if c.target.commit]
        answers = self.checker.reach.ancestors_many(tips, like)
        for cell in affected:
            if cell.target.commit:
                answer = answers[cell.target.commit]
                cell.probable = [(h, cure) for h, cure in like.items() if answer.status(h)]

    def _probe(self, report: ScopeReport) -> None:
        """Would each missing cure apply cleanly? All asked in one batch."""
        if self.probe is None:
            return
        # Only a branch takes a cherry-pick; a tag or a deployment is fixed by a new
        # release from its branch, so probing it would only cost time.
        asks = [(cell.target.commit, m) for rs in report.records for cell in rs.of(AFFECTED)
                if cell.target.kind == "branch" for m in cell.missing if m.present]
        answers = self.probe.applies_many([(t, m.cure) for t, m in asks if t])
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


def backports(report: ScopeReport) -> dict[str, list[Backport]]:
    """Per branch: every uncured poison on it whose cure exists elsewhere here."""
    result: dict[str, list[Backport]] = {t.ref: [] for t in report.targets if t.kind == "branch"}
    for rs in report.records:
        for cell in rs.of(AFFECTED):
            if cell.target.kind == "branch" and any(m.present and m.refs for m in cell.missing):
                result[cell.target.ref].append(Backport(rs.record, cell))
    return result


__all__ = ["AFFECTED", "CLEAN", "CURED", "UNDECIDED", "UNKNOWN_REVISION", "Backport", "Cell",
           "MissingCure", "RecordScope", "Scope", "ScopeReport", "Target", "backports",
           "ref_targets", "select_records"]
