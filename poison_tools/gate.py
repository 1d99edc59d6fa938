"""`check --fail-on SEVERITY`: the release manager blocks a release only on poisons at or
above a severity, and still sees the lower ones listed.

A record without a severity blocks: nobody said it is minor, and git-poison never turns
missing knowledge into "healthy". An undecided record below the threshold cannot block
(even poisoned it would not); unreadable records still make the check undecided, since
their severity is unknown too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from poison_tools.check import CheckReport, Finding
from poison_tools.errors import EXIT_ERROR, EXIT_OK, EXIT_POISONED
from poison_tools.records.record import SEVERITIES


def at_or_above(severity: str | None, threshold: str) -> bool:
    if severity not in SEVERITIES:
        return True  # unknown severity blocks (see above)
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)


@dataclass
class Gate:
    threshold: str
    blocking: list[Finding]  # poisoned, at or above the threshold
    below: list[Finding]  # poisoned, below it: listed, not blocking
    undecided: list[Finding]  # undecided, at or above it
    problems: int

    @property
    def exit_code(self) -> int:
        if self.blocking:
            return EXIT_POISONED
        if self.undecided or self.problems:
            return EXIT_ERROR
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "blocking": [f.record.id for f in self.blocking],
            "below_threshold": [f.record.id for f in self.below],
            "exit_code": self.exit_code,
        }


def gate(report: CheckReport, threshold: str) -> Gate:
    blocking = [f for f in report.poisoned if at_or_above(f.record.severity, threshold)]
    below = [f for f in report.poisoned if not at_or_above(f.record.severity, threshold)]
    undecided = [f for f in report.undecided if at_or_above(f.record.severity, threshold)]
    return Gate(threshold, blocking, below, undecided, len(report.problems))
