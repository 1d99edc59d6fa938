"""What the terminal allows: colour only on a terminal, never with NO_COLOR; progress drawn
on a terminal and, for slow work only, as a plain line every few seconds in a log; and
record text only once it can no longer drive the terminal."""

from __future__ import annotations

import os
import re
import sys
import time
from typing import TextIO

from poison_tools.progress import describe, duration

# Characters a record (anyone with push access writes them) must not send to a terminal
# or an editor: C0 controls (ESC starts the sequences that clear the screen or set the
# window title), DEL, C1 controls (0x9b is a one-byte CSI), the line and paragraph
# separators, the bidirectional overrides and isolates that make text read other than it
# is (CVE-2021-42574, "Trojan Source"), and lone surrogates (undecodable file-name bytes).
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with every character that could act on a terminal shown as an escape
    (`\\x1b`, `\\u202e`). Newlines and tabs are kept only in `multiline` text.
    For display only: JSON output and the records keep the exact text."""
    return (_MULTI_LINE if multiline else _ONE_LINE).sub(_escape, text)


# What json.dumps(ensure_ascii=False) leaves raw but a terminal may still obey (it
# escapes C0 itself): DEL, C1 (U+009B is a CSI), separators and bidi controls. They can
# only occur inside JSON strings, so escaping them keeps the data exact.
_JSON_RAW = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}]")


def json_text(text: str) -> str:
    """JSON text from `json.dumps(..., ensure_ascii=False)` that decodes to the same
    data and holds no character a terminal would act on."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
    """Progress of long work on stderr, with the total and the time left when known.

    On a terminal: one line, redrawn at most ten times a second. Elsewhere (a CI log, a
    pipe): nothing for work done within `LOG_AFTER` seconds, so that scripts reading
    stderr see nothing from quick runs; past that, a plain line every `LOG_EVERY`
    seconds and one when it is done, so that a long first scan is no silent pause."""

    LOG_AFTER = 2.0
    LOG_EVERY = 5.0

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = ""
        self.total: int | None = None
        self.done = 0
        self._drawn = 0.0
        self._started = 0.0
        self._logged = 0.0  # when the last plain line was written; 0: none yet

    def start(self, label: str, total: int | None = None) -> None:
        self.label, self.total, self.done = label, total, 0
        self._started = time.monotonic()
        self._logged = 0.0
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def finish(self) -> None:
        if self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
        elif self._logged:
            took = time.monotonic() - self._started
            self.stream.write(f"git-poison: {self.label}: done, {self.done} in {duration(took)}\n")
            self.stream.flush()

    def text(self, now: float) -> str:
        return describe(self.label, self.done, self.total, now - self._started)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled:
            if now - self._started >= self.LOG_AFTER and now - self._logged >= self.LOG_EVERY:
                self._logged = now
                self.stream.write(f"git-poison: {self.text(now)}\n")
                self.stream.flush()
            return
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        self.stream.write("\r\033[K" + self.text(now))
        self.stream.flush()
