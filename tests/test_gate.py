"""gate: `check --fail-on SEVERITY` blocks only on poisons at or above the threshold and
still lists the lower ones; a record without a severity blocks; doubt below the threshold
cannot block, unreadable records still make the check undecided."""

from __future__ import annotations

import pytest

from poison_tools.check import CURED, POISONED, UNDECIDED, CheckReport, Finding
from poison_tools.errors import EXIT_ERROR, EXIT_OK, EXIT_POISONED
from poison_tools.gate import at_or_above, gate
from poison_tools.records.record import SEVERITIES, Problem, Record


def finding(record_id: str, status: str, severity: str | None) -> Finding:
    return Finding(Record(id=record_id, poisons=("a" * 40,), severity=severity), status)


def report(*findings: Finding, problems: int = 0) -> CheckReport:
    return CheckReport(
        "HEAD",
        "b" * 40,
        list(findings),
        [Problem(f"records/bad{i}.json", "not valid JSON") for i in range(problems)],
    )


@pytest.mark.parametrize(
    ("severity", "threshold", "blocks"),
    [
        ("high", "high", True),
        ("critical", "high", True),
        ("medium", "high", False),
        ("low", "medium", False),
        ("low", "low", True),
        ("critical", "critical", True),
        ("high", "critical", False),
    ],
)
def test_a_severity_blocks_at_or_above_the_threshold(
    severity: str, threshold: str, blocks: bool
) -> None:
    assert at_or_above(severity, threshold) is blocks


@pytest.mark.parametrize("threshold", SEVERITIES)
def test_a_record_without_a_severity_blocks_every_threshold(threshold: str) -> None:
    assert at_or_above(None, threshold)
    assert at_or_above("catastrophic", threshold)  # not one we know: not known to be minor


def test_high_blocks_and_the_low_one_is_listed_below() -> None:
    g = gate(report(finding("hig1", POISONED, "high"), finding("low1", POISONED, "low")), "high")
    assert [f.record.id for f in g.blocking] == ["hig1"]
    assert [f.record.id for f in g.below] == ["low1"]
    assert g.exit_code == EXIT_POISONED
    assert g.to_json() == {
        "threshold": "high",
        "blocking": ["hig1"],
        "below_threshold": ["low1"],
        "exit_code": EXIT_POISONED,
    }


def test_only_poisons_below_the_threshold_pass_the_gate() -> None:
    g = gate(report(finding("low1", POISONED, "low"), finding("med1", POISONED, "medium")), "high")
    assert g.blocking == [] and len(g.below) == 2
    assert g.exit_code == EXIT_OK


def test_an_unrated_poison_blocks_the_strictest_gate() -> None:
    g = gate(report(finding("none", POISONED, None)), "critical")
    assert [f.record.id for f in g.blocking] == ["none"]
    assert g.exit_code == EXIT_POISONED


def test_doubt_at_or_above_the_threshold_is_undecided_below_it_cannot_block() -> None:
    above = gate(report(finding("hig1", UNDECIDED, "high")), "high")
    assert [f.record.id for f in above.undecided] == ["hig1"] and above.exit_code == EXIT_ERROR
    below = gate(report(finding("low1", UNDECIDED, "low")), "high")
    assert below.undecided == [] and below.exit_code == EXIT_OK
    unrated = gate(report(finding("none", UNDECIDED, None)), "critical")
    assert unrated.exit_code == EXIT_ERROR  # its severity is unknown: it could block


def test_a_definite_poison_outranks_doubt() -> None:
    g = gate(
        report(
            finding("hig1", POISONED, "high"), finding("hig2", UNDECIDED, "critical"), problems=1
        ),
        "high",
    )
    assert g.exit_code == EXIT_POISONED
    assert [f.record.id for f in g.undecided] == ["hig2"]  # still listed beside it


def test_unreadable_records_keep_the_gate_undecided_whatever_the_threshold() -> None:
    g = gate(report(finding("low1", POISONED, "low"), problems=2), "critical")
    assert g.problems == 2 and g.exit_code == EXIT_ERROR


def test_cured_records_neither_block_nor_are_listed() -> None:
    g = gate(report(finding("hig1", CURED, "critical")), "low")
    assert (g.blocking, g.below, g.undecided, g.exit_code) == ([], [], [], EXIT_OK)
