"""scope_render: a scope cell reads the same in `git poison scope`'s text and in the
HTML page's cells (`cell_evidence`); hand-made cells, no git needed."""

from __future__ import annotations

from poison_tools.check import UNDECIDED, Evidence, Finding
from poison_tools.records.record import Record
from poison_tools.render import UNFIXED
from poison_tools.scope import AFFECTED, Cell, Target
from poison_tools.scope_render import cell_evidence, cell_lines

POISON, CURE, GONE = "a" * 40, "b" * 40, "d" * 40
LTS = Target("branch", "refs/heads/lts/2.1", "c" * 40)


def record(*cures: str) -> Record:
    return Record(id="k3v7x2m9d0", poisons=(POISON,), cures=cures, comment="hangs")


def test_a_cell_undecided_for_missing_history_says_so_and_how_to_fix_in_both_faces() -> None:
    f = Finding(record(CURE), UNDECIDED, [Evidence(POISON, POISON)], undecided_commits=[GONE])
    cell = Cell(LTS, "undecided", f)
    sentence = (
        f"the history needed is missing ({GONE[:12]}; shallow or partial clone): fetch it, "
        "e.g. `git fetch --unshallow` or `git fetch origin <sha>`"
    )
    assert cell_lines(cell)[0].endswith(sentence)
    assert sentence in cell_evidence(cell)
    assert cell_evidence(cell)[0] == "lts/2.1: cannot decide"


def test_a_cell_undecided_for_unknown_patch_ids_names_the_refetch_in_both_faces() -> None:
    f = Finding(record(CURE), UNDECIDED, [Evidence(POISON, POISON)], unknown_copies=[CURE])
    cell = Cell(LTS, "undecided", f)
    sentence = (
        f"a copy cannot be ruled out: the patch-id of {CURE[:12]} is unknown here "
        "(objects missing); try `git fetch --refetch --no-filter`"
    )
    assert cell_lines(cell)[0].endswith(sentence)
    assert sentence in cell_evidence(cell)


def test_an_affected_cell_with_no_cure_recorded_is_the_known_unfixed_bug() -> None:
    cell = Cell(LTS, AFFECTED, Finding(record(), AFFECTED, [Evidence(POISON, POISON)]))
    assert cell_evidence(cell) == ["lts/2.1: affected", f"poison {POISON[:12]}", UNFIXED]
