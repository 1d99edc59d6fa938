"""Conversions from core data to LSP types, on hand-made findings (no git needed:
these are pure functions of the data)."""

from __future__ import annotations

import re

from git_poison_lsp import lsp_utils
from lsprotocol import types

from poison_tools.blame import PoisonedRun
from poison_tools.check import POISONED, CureElsewhere, Evidence, Finding
from poison_tools.records.record import Record

POISON, CURE = "a" * 40, "b" * 40


def run_of(
    record: Record, cures: tuple[CureElsewhere, ...] = (), start: int = 1, end: int = 2
) -> PoisonedRun:
    finding = Finding(record, POISONED, [Evidence(POISON, POISON)], [], [], list(cures))
    return PoisonedRun(start, end, POISON, finding, Evidence(POISON, POISON))


def test_hostile_record_text_cannot_format_link_or_load_images_in_the_hover():
    record = Record(
        id="k3v7x2m9d0",
        poisons=(POISON,),
        comment="![t](http://evil.example/t.png) **bold**\n```\n[click](command:x)",
        bug="https://bugs.example/1)](http://evil",
        editor="a <a@b>",
    )
    text = lsp_utils.hover_markdown([run_of(record)])
    # Inside code fences text is literal; everything outside must be escaped.
    outside = re.sub(r"(?ms)^(`{3,})text\n.*?^\1$", "", text)
    assert "![t](" not in outside and "**bold**" not in outside
    assert not re.search(r"(?<!\\)[\[(]", outside)  # no link or image syntax
    assert "\\!\\[t\\]\\(http" in outside  # shown, escaped
    # The multi-line comment sits in a fence longer than any backtick run inside it.
    assert "````text\n```\n[click](command:x)\n````" in text


def test_bug_url_becomes_a_link_and_cures_name_their_branches():
    record = Record(
        id="k3v7x2m9d0",
        poisons=(POISON,),
        cures=(CURE,),
        comment="hangs",
        bug="https://bugs.example/1234",
        severity="high",
        editor="A <a@b>",
        created="2026-01-02T03:04:05Z",
    )
    cure = CureElsewhere(CURE, ("refs/remotes/origin/master", "refs/heads/master"))
    run = run_of(record, (cure,))
    text = lsp_utils.hover_markdown([run])
    assert "[https://bugs\\.example/1234](https://bugs.example/1234)" in text
    assert f"fixed on origin/master, master by {CURE[:12]}, missing here" in text
    assert "recorded by A <a@b> on 2026-01-02" in text
    [action] = lsp_utils.code_actions("file:///r/a.py", [run], [])
    assert action.title == f"Cherry-pick cure {CURE[:12]} from master"  # the local branch


def test_cure_not_in_this_clone_has_no_quick_fix_but_is_named_in_the_warning():
    record = Record(id="k3v7x2m9d0", poisons=(POISON,), cures=(CURE,), comment="hangs")
    run = run_of(record, (CureElsewhere(CURE, ()),))
    assert lsp_utils.code_actions("file:///r/a.py", [run], []) == []
    diag = lsp_utils.diagnostic(run, ["l0\n", "l1\n", "line two\n"])
    assert "not in this clone" in diag.message
    assert diag.range == types.Range(types.Position(1, 0), types.Position(2, 8))


def test_range_end_counts_utf16_units_by_default():
    r = lsp_utils.line_range(["😀é\n"], 0, 0)
    assert r.end.character == 3
    assert lsp_utils.line_range(["😀é\n"], 0, 0, len).end.character == 2


def test_a_cure_reverted_here_is_named_in_the_warning_and_the_hover():
    record = Record(id="k3v7x2m9d0", poisons=(POISON,), cures=(CURE,), comment="hangs")
    run = run_of(record)
    undo = "c" * 40
    run.finding.reverted.append((Evidence(CURE, CURE), undo))
    line = f"cure {CURE[:12]} was reverted here by {undo[:12]}"
    assert line in lsp_utils.diagnostic(run, ["l0\n", "l1\n", "l2\n"]).message
    assert line in lsp_utils.hover_markdown([run])


def test_control_and_bidi_characters_of_a_record_reach_neither_warning_nor_hover():
    raw = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    record = Record(
        id="k3v7x2m9d0",
        poisons=(POISON,),
        cures=(CURE,),
        comment="hangs\x1b]0;t\x07 \u202eevil\nmore\x1b[2J\ttab",
        bug="https://bugs.example/1\u202e",
        editor="M\x1b[8m <m@x>",
    )
    run = run_of(record, (CureElsewhere(CURE, ("refs/heads/master",)),))
    diag = lsp_utils.diagnostic(run, ["l0\n", "l1\n", "l2\n"])
    assert not raw.search(diag.message) and "hangs\\x1b]0;t\\x07 \\u202eevil" in diag.message
    hover = lsp_utils.hover_markdown([run])
    assert not raw.search(hover)
    assert "recorded by M\\x1b[8m <m@x>" in hover  # inside the fence: literal
    assert "more\\x1b[2J\ttab" in hover  # later comment lines keep their tabs
    assert "](https://bugs.example/1" not in hover  # a link only to what is shown
