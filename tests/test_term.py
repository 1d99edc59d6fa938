"""term: colour only on a terminal and never with NO_COLOR; record text (untrusted) shown
escaped so that it cannot drive a terminal; JSON kept exact but inert; progress of long
work with a total and the time left on a terminal, and in a CI log plain lines every few
seconds, only for work that takes more than two seconds."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from typing import TextIO

import pytest

from poison_tools.term import StderrProgress, Style, json_text, printable, use_color


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(time, "monotonic", c)  # the clock term.py reads
    return c


@pytest.fixture
def tty() -> Iterator[TextIO]:
    """A real terminal (the pty's slave side), as stderr is when a person runs a command."""
    master, slave = os.openpty()
    with open(slave, "w") as f:
        yield f
    os.close(master)


# -- colour -------------------------------------------------------------------------


def test_colour_on_a_terminal(tty: TextIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_color(tty)


def test_no_colour_in_a_pipe_or_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    r, w = os.pipe()
    with open(w, "w") as pipe:
        assert not use_color(pipe)
    os.close(r)
    assert not use_color(io.StringIO())


@pytest.mark.parametrize("value", ["1", "", "0", "false"])
def test_no_colour_with_no_color_set_whatever_its_value(
    tty: TextIO, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("NO_COLOR", value)  # https://no-color.org: present is enough
    assert not use_color(tty)


def test_no_colour_on_a_dumb_terminal(tty: TextIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert not use_color(tty)


def test_style_wraps_in_sgr_codes_only_when_enabled() -> None:
    assert Style(True)("poisoned", "red", "bold") == "\033[31;1mpoisoned\033[0m"
    assert Style(True)("plain") == "plain"
    assert Style(False)("poisoned", "red", "bold") == "poisoned"


# -- printable: record text that cannot act on a terminal -------------------------------


def test_printable_keeps_ordinary_text_of_any_script() -> None:
    assert printable("café 漢字 ok — “quoted” ß") == "café 漢字 ok — “quoted” ß"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;pwned\x07title", "\\x1b]0;pwned\\x07title"),  # sets the window title
        ("\x1b[2J\x1b[Hclean", "\\x1b[2J\\x1b[Hclean"),  # clears the screen
        ("\x9b31mred", "\\x9b31mred"),  # a one-byte CSI (C1)
        ("a\x7fb\x00c", "a\\x7fb\\x00c"),  # DEL, NUL
        ("over\rwrite", "over\\x0dwrite"),  # a carriage return rewrites the line
    ],
    ids=["osc-title", "clear-screen", "c1-csi", "del-nul", "carriage-return"],
)
def test_printable_shows_escape_sequences_instead_of_obeying_them(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert printable(raw, multiline=True) == shown


def test_printable_shows_bidi_overrides_that_make_text_read_otherwise() -> None:
    # CVE-2021-42574 ("Trojan Source"): the right-to-left override reverses what follows.
    trojan = "access\u202e\u2066 granted\u2069\u2066"
    assert printable(trojan) == "access\\u202e\\u2066 granted\\u2069\\u2066"
    for ch in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert printable(ch) == f"\\u{ord(ch):04x}"


def test_printable_keeps_newlines_and_tabs_only_in_multiline_text() -> None:
    assert printable("a\tb\nc") == "a\\x09b\\x0ac"
    assert printable("a\tb\nc", multiline=True) == "a\tb\nc"
    # Unicode's own line breaks are not newlines to a terminal, and not kept.
    assert printable("a\u2028b\u2029c", multiline=True) == "a\\u2028b\\u2029c"
    assert printable("a\x0bb\x0cc", multiline=True) == "a\\x0bb\\x0cc"


def test_printable_shows_undecodable_file_name_bytes_as_bytes() -> None:
    raw = b"bad\xff\x1b.json".decode("utf-8", "surrogateescape")
    assert printable(raw) == "bad\\xff\\x1b.json"
    assert printable("lone \ud800 surrogate") == "lone \\ud800 surrogate"


def test_printable_output_holds_no_character_it_escapes() -> None:
    others = [0x2028, 0x2029, 0x202E, 0x2066, 0xD800, 0xDCFF]  # separators, bidi, surrogates
    every = "".join(map(chr, [*range(0x250), *others]))
    acting = {*map(chr, [*range(0x20), *range(0x7F, 0xA0), *others])} - {"\n", "\t"}
    assert not acting & set(printable(every, multiline=True))
    assert not (acting | {"\n", "\t"}) & set(printable(every))


# -- json_text: exact data, nothing a terminal obeys --------------------------------


def test_json_text_decodes_to_the_same_data_and_holds_no_raw_control() -> None:
    data = {"comment": "x\x1b[2J\x7f\x9b\u202eok\u2028 漢字", "bug": "JIRA-1"}
    dumped = json.dumps(data, ensure_ascii=False)
    assert "\x9b" in dumped and "\u202e" in dumped  # what json.dumps leaves raw
    text = json_text(dumped)
    assert json.loads(text) == data
    assert printable(text) == text  # nothing left for a terminal to act on
    assert "漢字" in text  # ordinary text stays readable


# -- progress -----------------------------------------------------------------------


def test_a_terminal_shows_the_total_and_the_time_left(clock: Clock) -> None:
    out = Terminal()
    p = StderrProgress(out)
    p.start("reading changed files", 200_000)
    clock.now += 2.0
    p.advance(50_000)  # a quarter in two seconds: six seconds left
    assert out.getvalue().endswith("\r\033[Kreading changed files: 25% (50000/200000), 6 s left")
    clock.now += 0.5
    p.advance(150_000)
    p.finish()
    assert out.getvalue().endswith("reading changed files: 100% (200000/200000)\n")


def test_a_terminal_is_redrawn_at_most_ten_times_a_second(clock: Clock) -> None:
    out = Terminal()
    p = StderrProgress(out)
    p.start("scanning", 1000)
    for _ in range(100):  # a hundred steps in 0.5 s
        clock.now += 0.005
        p.advance()
    draws = out.getvalue().count("\r")
    assert 1 + 4 <= draws <= 1 + 5, out.getvalue()  # the start, then one per 0.1 s


def test_no_time_left_is_guessed_in_the_first_second_nor_at_the_end(clock: Clock) -> None:
    out = Terminal()
    p = StderrProgress(out)
    p.start("scanning", 100)
    clock.now += 0.5
    p.advance(50)
    assert out.getvalue().endswith("scanning: 50% (50/100)")
    clock.now += 1.0
    p.advance(50)
    assert out.getvalue().endswith("scanning: 100% (100/100)")


def test_work_without_a_total_shows_a_count(clock: Clock) -> None:
    out = Terminal()
    p = StderrProgress(out)
    p.start("importing")
    clock.now += 1
    p.advance(42)
    assert out.getvalue().endswith("\r\033[Kimporting: 42")


def test_long_work_left_is_said_in_minutes_and_seconds(clock: Clock) -> None:
    out = Terminal()
    p = StderrProgress(out)
    p.start("building the index", 1000)
    clock.now += 65
    p.advance(500)
    assert out.getvalue().endswith("building the index: 50% (500/1000), 1 min 05 s left")


def test_a_ci_log_gets_nothing_from_quick_work(clock: Clock) -> None:
    out = io.StringIO()
    p = StderrProgress(out)
    p.start("reading changed files", 1000)
    clock.now += 1.5
    p.advance(1000)
    p.finish()
    assert out.getvalue() == ""


def test_a_ci_log_gets_a_plain_line_every_five_seconds_of_long_work(clock: Clock) -> None:
    out = io.StringIO()
    p = StderrProgress(out)
    p.start("reading changed files", 200_000)
    for _ in range(40):  # 12 s of work, 5,000 commits each 0.3 s
        clock.now += 0.3
        p.advance(5000)
    p.finish()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "\033" not in out.getvalue()
    assert lines[0] == "git-poison: reading changed files: 17% (35000/200000), 10 s left"
    assert len(lines) == 3, lines  # at 2.1 s, at 7.2 s, and the end
    assert lines[-1] == "git-poison: reading changed files: done, 200000 in 12 s"


def test_a_second_piece_of_work_in_a_ci_log_starts_quiet_again(clock: Clock) -> None:
    out = io.StringIO()
    p = StderrProgress(out)
    p.start("first", 10)
    clock.now += 3
    p.advance(10)
    p.finish()
    logged = out.getvalue()
    assert logged.splitlines()[-1] == "git-poison: first: done, 10 in 3 s"
    p.start("second", 10)  # quick: nothing more, not even a "done"
    clock.now += 1
    p.advance(10)
    p.finish()
    assert out.getvalue() == logged
