"""What the terminal allows: colour and progress only on a terminal, never with NO_COLOR."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "dim": "2", "bold": "1"}


def use_color(stream: TextIO) -> bool:
    if "NO_COLOR" in os.environ:  # https://no-color.org: present, whatever its value
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


class Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *names: str) -> str:
        if not self.enabled or not names:
            return text
        codes = ";".join(_CODES[n] for n in names)
        return f"\033[{codes}m{text}\033[0m"


class StderrProgress:
    """A one-line counter on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = ""
        self.total: int | None = None
        self.done = 0
        self._drawn = 0.0

    def start(self, label: str, total: int | None = None) -> None:
        self.label, self.total, self.done = label, total, 0
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def finish(self) -> None:
        if self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._drawn < 0.1):
            return
        self._drawn = now
        if self.total:
            pct = 100 * self.done // max(1, self.total)
            text = f"{self.label}: {pct}% ({self.done}/{self.total})"
        else:
            text = f"{self.label}: {self.done}"
        self.stream.write("\r\033[K" + text)
        self.stream.flush()
