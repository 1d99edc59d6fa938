"""Progress of long work: a total and the time left on a terminal; in a CI log, plain
lines every few seconds, but only for work that takes more than two seconds."""

from __future__ import annotations

import io

import pytest

from poison_tools import term
from poison_tools.term import StderrProgress


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
    monkeypatch.setattr(term.time, "monotonic", c)
    return c


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
