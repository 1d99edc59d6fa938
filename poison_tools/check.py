"""The "silver needle": does a commit carry an uncured poison?

Commit T is poisoned by a record when one of its poison commits is T or an ancestor
of T and none of its cure commits is, or every cure there was reverted there (`git
revert`'s "This reverts commit X" line; a revert of that revert restores the cure).
A recorded cure that is the poison or one of its ancestors cures nothing (`git poison
cure` refuses one; a record edited by hand may still hold one), and a recorded commit
that names a blob, tree or tag object is a problem with its record (issue 11).
Recorded commits are widened by an `Equivalence` (cherry-picked copies, backports)
before the question is asked, so the
same rules serve `check`, the hook and the editor. Every verdict carries its
evidence: which commit was found, standing for which recorded one, and how.

A copy search that could not read some commits (objects missing from the clone: no
patch-id) says so in a `CopiesGap`, and a verdict one of those commits could change is
`undecided` (issue 11): a poisoned one if an unknown commit could be a copy of a cure
in the history; a clean (or not-in-history) one if it could be a copy of a poison; a
cured one if it could be a copy of a poison that comes after the cure. "Could be":
the recorded commit's own patch-id (or a known copy's) is unknown, so any commit could
be a copy; or an unreadable commit in the target's history changes exactly the files a
stand-in changes (a patch-id covers the file names, so a copy changes the same files).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from poison_tools.cherry_pick import cherry_pick_line
from poison_tools.copies.protocol import CopiesGap, Doubt, Equivalence, Identity
from poison_tools.errors import EXIT_ERROR, EXIT_OK, EXIT_POISONED, FatalError
from poison_tools.git import SourceRepo
from poison_tools.lazy import once
from poison_tools.progress import Progress
from poison_tools.reach.answer import Answer, Reachability, refs_holding
from poison_tools.reach.engine import reachability
from poison_tools.records.record import Problem, Record
from poison_tools.records.store import Snapshot, Staleness
from poison_tools.release_refs import release_first

POISONED = "poisoned"
CURED = "cured"
CLEAN = "clean"
UNDECIDED = "undecided"
NOT_IN_HISTORY = "not-in-history"
# Reverts of reverts of reverts of a cure: followed this deep, no deeper.
MAX_REVERT_DEPTH = 4


@dataclass(frozen=True)
class Evidence:
    """`commit` is in the target's history and stands for the recorded `recorded`."""

    commit: str
    recorded: str
    via: str = "ancestry"  # later also: cherry-pick trailer, patch-id, change-id

    def to_json(self) -> dict[str, str]:
        return {"commit": self.commit, "recorded": self.recorded, "via": self.via}


@dataclass(frozen=True)
class CureElsewhere:
    cure: str
    refs: tuple[str, ...]  # full ref names that contain it, release branches first
    present: bool | None = None  # the commit is in this repository; None: not asked

    @property
    def cherry_pick(self) -> str:
        return cherry_pick_line(self.cure)

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.cure,
            "refs": list(self.refs),
            "in_clone": self.present,
            "cherry_pick": self.cherry_pick,
        }


@dataclass
class Finding:
    record: Record
    status: str
    poison_evidence: list[Evidence] = field(default_factory=list)
    cure_evidence: list[Evidence] = field(default_factory=list)
    undecided_commits: list[str] = field(default_factory=list)
    cures_elsewhere: list[CureElsewhere] = field(default_factory=list)
    # Cures in this history that a revert in this history undid: (cure, the revert).
    reverted: list[tuple[Evidence, str]] = field(default_factory=list)
    # Recorded cures that cure nothing: (cure, the recorded poison it is or precedes).
    ignored: list[tuple[str, str]] = field(default_factory=list)
    # Commits here that only claim to be copies of a cure (`Equivalence.unsure`): hints.
    probable: list[Evidence] = field(default_factory=list)
    # Commits whose patch-id is unknown here and that could change this verdict.
    unknown_copies: list[str] = field(default_factory=list)

    @property
    def undone_cures(self) -> set[str]:
        """The recorded cures reverted here (themselves or through a copy): not "missing"."""
        return {e.recorded for e, _ in self.reverted}

    def ignored_json(self) -> list[dict[str, str]]:
        return [
            {
                "commit": c,
                "reason": "the-poison-itself" if c == p else "ancestor-of-poison",
                "poison": p,
            }
            for c, p in self.ignored
        ]

    def probable_json(self) -> list[dict[str, str]]:
        return [
            {**e.to_json(), "confirm": f"git poison cure {self.record.id} {e.commit}"}
            for e in self.probable
        ]

    def reverted_json(self) -> list[dict[str, str]]:
        return [{**e.to_json(), "reverted_by": by} for e, by in self.reverted]

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": r.id,
            "status": self.status,
            "poisons": list(r.poisons),
            "cures": list(r.cures),
            "comment": r.comment,
            "bug": r.bug,
            "severity": r.severity,
            "editor": r.editor,
            "created": r.created,
            "poison_evidence": [e.to_json() for e in self.poison_evidence],
            "cure_evidence": [e.to_json() for e in self.cure_evidence],
            "undecided_commits": self.undecided_commits,
            "cures_elsewhere": [c.to_json() for c in self.cures_elsewhere],
            "reverted_cures": self.reverted_json(),
            "ignored_cures": self.ignored_json(),
            "probable_cures": self.probable_json(),
            "unknown_copies": self.unknown_copies,
        }


@dataclass
class CheckReport:
    target: str
    rev: str
    findings: list[Finding]
    problems: list[Problem]
    stale: Staleness | None = None
    shallow: bool = False
    # Said to whoever reads the report (e.g. a `poison.project` with no records): the
    # command fills it in, the JSON carries it.
    warnings: list[str] = field(default_factory=list)
    gap: CopiesGap | None = None
    # Damaged caches read around on the way (copies, index): for stderr or a log, not JSON.
    notices: list[str] = field(default_factory=list)

    @property
    def copies(self) -> str:
        """`incomplete` when a verdict here waits on patch-ids that could not be computed."""
        return "incomplete" if any(f.unknown_copies for f in self.findings) else "complete"

    def of_status(self, *statuses: str) -> list[Finding]:
        return [f for f in self.findings if f.status in statuses]

    @property
    def poisoned(self) -> list[Finding]:
        return self.of_status(POISONED)

    @property
    def undecided(self) -> list[Finding]:
        return self.of_status(UNDECIDED)

    @property
    def verdict(self) -> str:
        # A definite poison outranks doubt: it is a finding either way, and the
        # undecided list is still reported beside it.
        if self.poisoned:
            return POISONED
        if self.undecided or self.problems:
            return UNDECIDED
        return "healthy"

    @property
    def exit_code(self) -> int:
        return {POISONED: EXIT_POISONED, UNDECIDED: EXIT_ERROR}.get(self.verdict, EXIT_OK)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "rev": self.rev,
            "verdict": self.verdict,
            "poisoned": [f.to_json() for f in self.poisoned],
            "undecided": [f.to_json() for f in self.undecided],
            "cured": [f.to_json() for f in self.of_status(CURED)],
            "not_in_history": [f.record.id for f in self.of_status(NOT_IN_HISTORY)],
            "problems": [p.to_json() for p in self.problems],
            "stale": None if self.stale is None else self.stale.describe(),
            "warnings": list(self.warnings),
            "copies": self.copies,
        }


@dataclass
class ReleaseReport:
    """What changed between the last release `since` and this one."""

    current: CheckReport
    since: str
    since_rev: str
    fixed: list[Finding]  # cures that arrive between since and target
    introduced: list[Finding]  # poisons that arrive between since and target
    # Cured at `since`, not (or not surely) at target: a downgrade, or a cure undone.
    regressions: list[Finding] = field(default_factory=list)
    descends: bool | None = True  # target descends from since; None: cannot tell here

    @property
    def exit_code(self) -> int:
        return self.current.exit_code

    def to_json(self) -> dict[str, Any]:
        data = self.current.to_json()
        data["since"] = self.since
        data["since_rev"] = self.since_rev
        data["fixed"] = [f.to_json() for f in self.fixed]
        data["introduced"] = [f.to_json() for f in self.introduced]
        data["regressions"] = [f.to_json() for f in self.regressions]
        data["descends_from_since"] = self.descends
        return data


def open_checker(
    repo: SourceRepo,
    snapshot: Snapshot,
    *,
    progress: Progress | None = None,
    reach: Reachability | None = None,
    equivalence: Equivalence | None = None,
) -> Checker:
    """The `Checker` every face uses (check, scope, backports, export, list, show, the
    hook, the editor, serve), its copy scan done.

    `equivalence`: None for the configured one (`poison.equivalence`, and no fetch of
    missing objects under `--no-fetch`: `default_equivalence`); with no active record
    there is nothing to widen, so nothing is configured, read or cached (`Identity`).
    `progress` shows the first copy scan (patch-ids), which can take tens of seconds
    on a big repository. `reach`: the command's engine, which may show its own
    progress; by default one that shows none, as the editor has always had it."""
    reach = reachability(repo) if reach is None else reach
    if equivalence is None:
        equivalence = Identity()
        if snapshot.active:
            # Imported here: patch-ids and their cache stay off the path of a check
            # with no records.
            from poison_tools.copies.equivalence import default_equivalence

            equivalence = default_equivalence(repo, progress, reach)
    return Checker(repo, snapshot, reach=reach, equivalence=equivalence).scan()


class NoCommitYet(FatalError):
    """HEAD is unborn: there is no commit to judge yet."""


def head_commit(repo: SourceRepo) -> str:
    """HEAD's commit; NoCommitYet on an unborn HEAD."""
    proc = repo.git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], check=False)
    head = proc.stdout.decode().strip()
    if proc.returncode != 0 or not head:
        raise NoCommitYet("the repository has no commit yet")
    return head


def check_head(
    repo: SourceRepo, snapshot: Snapshot, progress: Progress | None = None
) -> CheckReport:
    """`git poison check HEAD`, as data (the editor's question). An unborn HEAD (no
    commit yet) has no verdict: NoCommitYet, before any copy scan."""
    head = head_commit(repo)
    return open_checker(repo, snapshot, progress=progress).check(head, "HEAD")


class _Copies(NamedTuple):
    """What the copy scan found for the recorded commits (`Checker._copies`)."""

    equivalents: dict[str, list[tuple[str, str]]]
    gap: CopiesGap | None
    unsure: dict[str, list[tuple[str, str]]]  # per cure: copies only claimed
    doubtful: dict[str, set[str]]  # the same, the commits alone
    reverts: dict[str, list[str]]  # per commit: its reverts, and theirs


class Checker:
    """Verdicts for one snapshot of records against commits of one repository.

    The constructor only stores: the copy scan (`equivalence.expand` and what follows
    it) runs at the first question, or when `scan` is called. Build one with
    `open_checker`, which chooses the equivalence as every command does."""

    def __init__(
        self, repo: SourceRepo, snapshot: Snapshot, *, reach: Reachability, equivalence: Equivalence
    ) -> None:
        self.repo = repo
        self.snapshot = snapshot
        self.reach = reach
        self.equivalence = equivalence
        self.records = sorted(snapshot.active, key=lambda r: (r.created, r.id))

    def scan(self) -> Checker:
        """The copy scan now, not at the first question: its progress and its errors
        come before any verdict (`open_checker` calls it)."""
        _ = self._copies
        return self

    @once
    def _copies(self) -> _Copies:
        """The recorded commits widened by the equivalence: the copy scan, run once."""
        equivalence = self.equivalence
        recorded = {c for r in self.records for c in (*r.poisons, *r.cures)}
        equivalents = equivalence.expand(recorded)
        gap = equivalence.gap()  # asked after `expand`: what it could not see
        cures = {c for r in self.records for c in r.cures}
        # Copies of a cure that only a message vouches for (issue 11): hints, not cures.
        unsure = equivalence.unsure(cures) if cures else {}
        doubtful = {c: {u for u, _ in us} for c, us in unsure.items()}
        # What stands for a cure (`cure_stand_ins`): it, and its copies not merely claimed.
        cure_side = {
            s
            for c in cures
            for s in (c, *(e for e, _ in equivalents.get(c, [])))
            if s not in doubtful.get(c, ())
        }
        reverts = self._revert_chains(equivalence, cure_side) if cure_side else {}
        return _Copies(equivalents, gap, unsure, doubtful, reverts)

    # The scan's results, each read at every question: plain attributes once computed.
    @once
    def equivalents(self) -> dict[str, list[tuple[str, str]]]:
        return self._copies.equivalents

    @once
    def gap(self) -> CopiesGap | None:
        return self._copies.gap

    @once
    def doubts(self) -> dict[str, Doubt]:
        gap = self._copies.gap
        return gap.doubts if gap else {}

    @once
    def unsure(self) -> dict[str, list[tuple[str, str]]]:
        return self._copies.unsure

    @once
    def _unsure(self) -> dict[str, set[str]]:
        return self._copies.doubtful

    @once
    def reverts(self) -> dict[str, list[str]]:
        return self._copies.reverts

    @once
    def _all(self) -> set[str]:
        recorded = {c for r in self.records for c in (*r.poisons, *r.cures)}
        return (
            recorded
            | {e for eqs in self.equivalents.values() for e, _ in eqs}
            | {r for rs in self.reverts.values() for r in rs}
            | {c for d in self.doubts.values() if not d.anywhere for c in d.commits}
        )

    @property
    def notices(self) -> list[str]:
        """One line each for the CLI to show: what was set right on the way."""
        return self.equivalence.notices()

    @staticmethod
    def _revert_chains(equivalence: Equivalence, commits: set[str]) -> dict[str, list[str]]:
        """The reverts of `commits`, the reverts of those, ... (`MAX_REVERT_DEPTH` deep)."""
        found: dict[str, list[str]] = {}
        frontier = set(commits)
        for _depth in range(MAX_REVERT_DEPTH):
            if not frontier:
                break
            step = equivalence.reverts(frontier)
            found.update(step)
            frontier = {r for rs in step.values() for r in rs} - found.keys() - commits
        return found

    def commits_of(self, record: Record) -> list[str]:
        """Every commit whose place in a history the verdict on `record` depends on."""
        stand_ins = [s for c in (*record.poisons, *record.cures) for s, _ in self._stand_ins(c)]
        # Unreadable commits that could be copies, where it matters whether they are in
        # the history (a doubt that holds anywhere asks nothing of the history).
        stand_ins += [
            s
            for c in (*record.poisons, *record.cures)
            if c in self.doubts and not self.doubts[c].anywhere
            for s in self.doubts[c].commits
        ]
        todo, seen = list(stand_ins), dict.fromkeys(stand_ins)
        while todo:
            for r in self.reverts.get(todo.pop(), []):
                if r not in seen:
                    seen[r] = None
                    todo.append(r)
        return list(seen)

    @property
    def candidates(self) -> set[str]:
        """Every commit whose ancestry a verdict may ask about (recorded and copies)."""
        return set(self._all)

    def _stand_ins(self, commit: str) -> list[tuple[str, str]]:
        return [(commit, "ancestry"), *self.equivalents.get(commit, [])]

    def cure_stand_ins(self, cure: str) -> list[tuple[str, str]]:
        """What stands for a recorded cure: itself and its copies, without those only
        claimed to be copies (`Equivalence.unsure`). A poison keeps them all: a claimed
        copy of a poison is believed poisoned, which fails closed."""
        doubtful = self._unsure.get(cure)
        if not doubtful:
            return self._stand_ins(cure)
        return [(c, via) for c, via in self._stand_ins(cure) if c not in doubtful]

    def _evidence(
        self, answer: Answer, commits: Iterable[str], cures: bool = False
    ) -> tuple[list[Evidence], list[str]]:
        found, unknown = [], []
        stand_ins = self.cure_stand_ins if cures else self._stand_ins
        for recorded in commits:
            for commit, via in stand_ins(recorded):
                status = answer.status(commit)
                if status:
                    found.append(Evidence(commit, recorded, via))
                elif status is None:
                    unknown.append(commit)
        return found, unknown

    def judge(self, record: Record, answer: Answer) -> Finding:
        finding = self._judge(record, answer)
        return self._doubt(finding, answer) if self.doubts else finding

    def _doubt(self, f: Finding, answer: Answer) -> Finding:
        """`f`, undecided if a commit of unknown patch-id could change it (module doc)."""
        poison_anywhere, poison_here = self._doubts_of(f.record.poisons, answer)
        cure_anywhere, cure_here = self._doubts_of(f.record.cures, answer)
        if f.status == POISONED:
            matters = cure_anywhere + cure_here  # a copy of a cure would cure it
        elif f.status == CURED:
            # A copy of the poison that comes after a cure undoes that cure.
            matters = poison_anywhere + [
                c
                for c in poison_here
                if any(
                    self.reach.ancestors(c, [e.commit]).status(e.commit) is not False
                    for e in f.cure_evidence
                )
            ]
        elif f.status == UNDECIDED:
            matters = poison_anywhere + poison_here + cure_anywhere + cure_here
        else:  # clean, not in history: a copy of the poison would poison it
            matters = poison_anywhere + poison_here
        if not matters:
            return f
        unknown = sorted(set(matters))
        if f.status == UNDECIDED:
            return replace(f, unknown_copies=unknown)
        return replace(f, status=UNDECIDED, cure_evidence=[], unknown_copies=unknown)

    def _doubts_of(self, recorded: Iterable[str], answer: Answer) -> tuple[list[str], list[str]]:
        """Unknown commits that could be copies of these: (anywhere, in this history)."""
        anywhere: list[str] = []
        here: list[str] = []
        for c in recorded:
            d = self.doubts.get(c)
            if d is None:
                continue
            if d.anywhere:
                anywhere += d.commits
            else:
                here += [s for s in d.commits if answer.status(s) is not False]
        return anywhere, here

    def _judge(self, record: Record, answer: Answer) -> Finding:
        poisons, poison_unknown = self._evidence(answer, record.poisons)
        ignored = self._ignored(record) if poisons and record.cures else []
        void = {c for c, _ in ignored}
        cures, cure_unknown = self._evidence(
            answer, [c for c in record.cures if c not in void], cures=True
        )
        # A cure that is itself an ancestor of the poison it should cure (an old commit
        # that merely looks the same) cures nothing.
        if cures and poisons:
            cures = [c for c in cures if not self._precedes(c.commit, poisons)]
        effective, reverted = [], []
        for c in cures:
            undone = self._undone(c.commit, answer)
            if undone is None:
                cure_unknown.append(c.commit)  # whether its revert counts cannot be told
            elif undone:
                reverted.append((c, undone))
            else:
                effective.append(c)
        cures = effective
        if cures:
            return Finding(record, CURED, poisons, cures, ignored=ignored)
        if poisons and not cure_unknown:
            return Finding(
                record,
                POISONED,
                poisons,
                [],
                reverted=reverted,
                ignored=ignored,
                probable=self._probable(record, answer, void),
            )
        if poisons or poison_unknown:
            return Finding(
                record,
                UNDECIDED,
                poisons,
                [],
                poison_unknown + cure_unknown,
                ignored=ignored,
                probable=self._probable(record, answer, void),
            )
        stand_ins = [c for p in record.poisons for c, _ in self._stand_ins(p)]
        if all(c in answer.absent for c in stand_ins) and not self._kinds.keys() & set(
            record.poisons
        ):
            # A poison that names a blob, tree or tag is a problem of the record
            # (`problems`), not a commit "not in this history".
            return Finding(record, NOT_IN_HISTORY)
        return Finding(record, CLEAN)

    def _ignored(self, record: Record) -> list[tuple[str, str]]:
        """(cure, poison) for each recorded cure that is one of the record's poisons or
        an ancestor of one: it cannot cure it, wherever it is (`git poison cure`
        refuses such a cure; the reader treats a record edited by hand the same way)."""
        void = self._cures_before_poisons
        found = (
            (c, next((p for p in record.poisons if (c, p) in void), None)) for c in record.cures
        )
        return [(c, p) for c, p in found if p is not None]

    @once
    def _cures_before_poisons(self) -> set[tuple[str, str]]:
        # Asked once, for every record at once, and kept between runs (`pair_facts`):
        # a question per record would cost more than the rest of a check.
        from poison_tools.copies.pair_facts import PairFacts

        pairs = {(c, p) for r in self.records for c in r.cures for p in r.poisons}
        return PairFacts(self.repo).ancestors(self.reach, pairs) if pairs else set()

    def _probable(self, record: Record, answer: Answer, void: set[str]) -> list[Evidence]:
        return [
            Evidence(c, cure, how)
            for cure in record.cures
            if cure not in void
            for c, how in self.unsure.get(cure, [])
            if answer.status(c)
        ]

    def _undone(self, commit: str, answer: Answer, depth: int = 0) -> str | None:
        """The commit of `answer`'s history that reverts `commit` and is not reverted
        there itself; "" when there is none; None when that cannot be told."""
        unsure = False
        if depth >= MAX_REVERT_DEPTH:
            return ""
        for r in self.reverts.get(commit, []):
            status = answer.status(r)
            if status is None:
                unsure = True
            elif status:
                again = self._undone(r, answer, depth + 1)
                if again is None:
                    unsure = True
                elif not again:
                    return r
        return None if unsure else ""

    def _precedes(self, commit: str, poisons: list[Evidence]) -> bool:
        if all(p.via == "ancestry" for p in poisons) and commit not in self._derived:
            return False
        return any(
            commit != p.commit and self.reach.ancestors(p.commit, [commit]).status(commit)
            for p in poisons
        )

    @property
    def _derived(self) -> set[str]:
        return {e for eqs in self.equivalents.values() for e, _ in eqs}

    def answer(self, target: str) -> Answer:
        return self.reach.ancestors(target, self._all)

    def check(self, target: str, rev: str) -> CheckReport:
        answer = self.answer(target)
        findings = [self.judge(r, answer) for r in self.records]
        poisoned = [f for f in findings if f.status == POISONED and f.record.cures]
        # One question for every cure to name: the index answers all refs at once.
        missing = {id(f): self._missing_cures(f) for f in poisoned}
        holders = refs_holding(self.reach, [c for cures in missing.values() for c in cures])
        for f in poisoned:
            f.cures_elsewhere = self._cures_elsewhere(missing[id(f)], holders)
        return CheckReport(
            target,
            rev,
            findings,
            list(self.problems),
            self.snapshot.stale,
            self.repo.shallow,
            gap=self.gap,
            notices=[*self.notices, *self.reach.notices],
        )

    @staticmethod
    def _missing_cures(f: Finding) -> list[str]:
        # A cure reverted here is not "missing here": the finding says it was reverted;
        # nor is one that cannot cure this poison (`Finding.ignored`).
        skip = f.undone_cures | {c for c, _ in f.ignored}
        return [c for c in f.record.cures if c not in skip]

    def _cures_elsewhere(
        self, cures: list[str], holders: dict[str, list[str]]
    ) -> list[CureElsewhere]:
        # A cure that is not in this repository is said to be, never left unsaid.
        # A cure on some ref is here. For one on none, the object database is asked
        # (rarely more than a few): the index remembers commits a gc has since removed.
        loose = [c for c in cures if not holders.get(c)]
        kinds = _object_types(self.repo, loose) if loose else {}
        return [
            CureElsewhere(
                c,
                tuple(release_first(holders.get(c, ()))),
                bool(holders.get(c)) or kinds.get(c) == "commit",
            )
            for c in cures
        ]

    @once
    def problems(self) -> list[Problem]:
        """The snapshot's unreadable records, each record that names a blob, tree or tag
        object where a commit belongs, and each poison a complete clone does not have:
        a record to fix, never a silent "not here"."""
        kinds = self._kinds
        found = [
            Problem(r.path, f"record {r.id}: {role} {c} names a {kinds[c]}, not a commit")
            for r in self.records
            for role, commits in (("poison", r.poisons), ("cure", r.cures))
            for c in commits
            if c in kinds
        ]
        found += [
            Problem(
                r.path,
                f"record {r.id}: poison {p} is not in this repository, so its "
                "copies cannot be looked for: fetch it (`git fetch origin "
                f"{p}`) or, if it belongs to no history of this project, "
                "withdraw the record",
            )
            for r in self.records
            for p in r.poisons
            if p in self._absent_poisons
        ]
        return [*self.snapshot.problems, *found]

    @once
    def _absent_poisons(self) -> set[str]:
        """Recorded poisons that a complete clone lacks, with no copy of them here.

        Such a poison cannot be in any history here, but a rebased or squashed copy of
        it could be, and without the commit its patch-id is unknown: "not in this
        history" would be healthy on no evidence (issue 11). A shallow or partial
        clone says "could not decide" for these already (`Finding.undecided_commits`)."""
        if self.repo.shallow or self.repo.partial:
            return set()
        odd, existing = self._unusual
        gone = {p for r in self.records for p in r.poisons if p in odd and p not in existing}
        return {
            p for p in gone if not self.reach.present({c for c, _ in self._stand_ins(p) if c != p})
        }

    @once
    def _kinds(self) -> dict[str, str]:
        """Recorded SHAs that name an object other than a commit, and its kind."""
        return {c: k for c, k in self._unusual[1].items() if k != "commit"}

    @once
    def _unusual(self) -> tuple[set[str], dict[str, str]]:
        """The recorded SHAs that are not commits known here, and the kind of object each
        one that exists names: asked of git once, and only when there are any."""
        recorded = {c for r in self.records for c in (*r.poisons, *r.cures)}
        # Only what is not a commit here is looked at again: usually nothing, no git run.
        odd = recorded - self.reach.present(recorded) if recorded else set()
        return odd, (_object_types(self.repo, odd) if odd else {})

    def release(self, target: str, rev: str, since: str, since_rev: str) -> ReleaseReport:
        current = self.check(target, rev)
        before = self.reach.ancestors(since, self._all)
        fixed, introduced, regressions = [], [], []
        for f in current.findings:
            old = self.judge(f.record, before)
            if f.cure_evidence and old.status != CURED and old.status != UNDECIDED:
                fixed.append(f)
            new_poisons = [e for e in f.poison_evidence if before.status(e.commit) is False]
            if new_poisons and not self._poisoned_before(old):
                introduced.append(f)
            if old.status == CURED and f.status in (POISONED, UNDECIDED):
                regressions.append(f)
        # "Since" a release that is not in this one's history (an older line, a
        # downgrade): the report is still made, and says so.
        descends = self.reach.ancestors(target, [since]).status(since)
        return ReleaseReport(current, since, since_rev, fixed, introduced, regressions, descends)

    @staticmethod
    def _poisoned_before(old: Finding) -> bool:
        return old.status in (POISONED, CURED, UNDECIDED)


def _object_types(repo: SourceRepo, names: Collection[str]) -> dict[str, str]:
    """What kind of object each name is (`commit`, `tree`, `blob`, `tag`); names that are
    not here are left out."""
    wanted = sorted(names)
    out = repo.git(
        ["cat-file", "--batch-check=%(objecttype)"],
        input="".join(n + "\n" for n in wanted).encode(),
    ).stdout.decode()
    # One line per name asked, in order: the type, or "<name> missing".
    return {
        n: line
        for n, line in zip(wanted, out.splitlines(), strict=False)
        if line in ("commit", "tree", "blob", "tag")
    }
