"""What a checker asks of a copy search, and the search that finds no copies.

A recorded commit stands also for its copies (cherry-picks, backports): an
`Equivalence` says which they are, which commits revert which, and what it could not
see, and which commits look like copies by a looser rule (`probable`: hints to
confirm). `copies.equivalence.default_equivalence` is the one used; `Identity` finds
none (`poison.equivalence=none`, no records, and tests that want ancestry alone).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple, Protocol


class Doubt(NamedTuple):
    """Commits whose patch-id is unknown here that could be copies of one recorded
    commit. `anywhere`: the recorded commit's own patch-id (or a known copy's) is among
    them, or they are too many to name, so a copy could be anywhere; else only these
    commits could be copies, and only where they are in the history."""

    commits: tuple[str, ...]
    anywhere: bool = False


class CopiesGap(NamedTuple):
    """What the copy search could not see: the doubt per recorded commit, the remote
    that would complete the clone, and why fetching what was needed failed, if it did."""

    doubts: dict[str, Doubt]
    remote: str
    fetch_error: str | None = None


class Equivalence(Protocol):
    def expand(self, commits: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        """For each recorded commit, its equivalent commits and how each was found."""
        ...

    def reverts(self, commits: Collection[str]) -> dict[str, list[str]]:
        """For each commit, the commits that say they revert it."""
        ...

    def unsure(self, cures: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        """For each cure, the copies `expand` gave it that are only claimed (a message
        naming it, no file in common): hints to confirm, never evidence of a cure."""
        ...

    def gap(self) -> CopiesGap | None:
        """After `expand`: what it could not see (None: nothing)."""
        ...

    def probable(self, commit: str) -> list[str]:
        """Commits that may be copies of `commit` by a looser rule than `expand`'s (the
        same subject line): "probable cure, confirm?" hints in scope, never evidence."""
        ...

    def notices(self) -> list[str]:
        """One line each: things set right on the way (a damaged cache rebuilt)."""
        ...


class Identity:
    """No equivalents: a commit stands only for itself (and no revert is looked for)."""

    def expand(self, commits: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        return {}

    def reverts(self, commits: Collection[str]) -> dict[str, list[str]]:
        return {}

    def unsure(self, cures: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        return {}

    def gap(self) -> CopiesGap | None:
        return None

    def probable(self, commit: str) -> list[str]:
        return []

    def notices(self) -> list[str]:
        return []
