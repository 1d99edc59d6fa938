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
