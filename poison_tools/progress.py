"""Progress of long work (index builds, patch-id scans, imports), reported as data.

The core calls a `Progress`; the CLI hands in one that draws on stderr when it is a
terminal, the language server one that logs, tests the silent default.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, label: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def finish(self) -> None: ...


class Silent:
    def start(self, label: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


def describe(label: str, done: int, total: int | None, spent: float) -> str:
    """One line for progress: `label: 25% (50000/200000), 6 s left`, the same words on a
    terminal, in a CI log and in the editor. The time left is the pace so far carried to
    the total, said only after a second of work (before that it is noise)."""
    if not total:
        return f"{label}: {done}"
    text = f"{label}: {percentage(done, total)}% ({done}/{total})"
    if done and spent >= 1.0 and done < total:
        text += f", {duration(spent * (total - done) / done)} left"
    return text


def percentage(done: int, total: int | None) -> int | None:
    """0-100, or None without a total."""
    return 100 * min(done, total) // max(1, total) if total else None


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
