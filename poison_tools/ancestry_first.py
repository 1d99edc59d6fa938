"""HEAD's report before the copies are known: what ancestry alone can say, at once.

The first scan of a history for copies (patch-ids) takes seconds to tens of seconds on
a large repository; the editor shows what ancestry says meanwhile and the full report
when the scan is done. "Meanwhile" must not claim what only the scan can tell: a poison
whose recorded cure is not an ancestor may still be cured by a cherry-picked copy of
that cure. So the report is made by the same `Checker`, with an `Equivalence` that
knows no copies yet and says so the way a copy search that could not read some commits
does (`CopiesGap`): each recorded cure's own copies are unknown, anywhere. The
checker's own rules then keep such a poison undecided (`Finding.unknown_copies` holds
the cures waiting on the scan) instead of poisoned; a poison with no cure recorded is
poisoned whatever copies exist, and is said so.

What this report cannot show yet, and the full one will: the lines of a copy of a
poison, and a cure undone by a copy of its poison or by a revert (reverts are found by
the same scan).
"""

from __future__ import annotations

from collections.abc import Collection

from poison_tools.check import UNDECIDED, CheckReport, Finding, open_checker
from poison_tools.copies.protocol import CopiesGap, Doubt, Identity
from poison_tools.git import SourceRepo
from poison_tools.records.store import Snapshot

# What a HEAD report rests on: the copies known (the full report), pending (ancestry
# alone while the copy scan runs) or failed (ancestry alone; the scan failed).
KNOWN, PENDING, FAILED = "known", "pending", "failed"


class CopiesPending(Identity):
    """An `Equivalence` before the copy scan: a commit stands only for itself (as with
    `Identity`), and every recorded cure may have copies not known yet (a doubt that
    holds anywhere)."""

    def __init__(self, cures: Collection[str]) -> None:
        self.cures = frozenset(cures)
        self._gap: CopiesGap | None = None

    def expand(self, commits: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        doubts = {c: Doubt((c,), anywhere=True) for c in commits if c in self.cures}
        self._gap = CopiesGap(doubts, "") if doubts else None
        return {}

    def gap(self) -> CopiesGap | None:
        return self._gap


def check_by_ancestry(repo: SourceRepo, snapshot: Snapshot, target: str, rev: str) -> CheckReport:
    """`target`'s report from ancestry alone: no copy scan, no patch-id, no cache of copies."""
    cures = {c for r in snapshot.active for c in r.cures}
    return open_checker(repo, snapshot, equivalence=CopiesPending(cures)).check(target, rev)


def waits_on_copies(finding: Finding) -> bool:
    """In a report of `check_by_ancestry`: the verdict may change when copies are known
    (a cure's copy could be here). In a full report such a finding is undecided for
    commits git cannot read (`CheckReport.gap`)."""
    return finding.status == UNDECIDED and bool(finding.unknown_copies)
