"""Which of these commits are ancestors of that one? The answer, and the question.

Every verdict of git-poison reduces to this batched question. `Reachability` is the
interface the rest of the code asks (`reach.engine.reachability` gives the engine:
the index, or `reach.walk.GitWalk` with plain git).

An answer has three parts because a missing commit means different things: in a
complete clone a commit that is not in the object database cannot be an ancestor
(`absent`); beyond a shallow boundary, or in a partial clone, it may be (`unknown`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from poison_tools.reach.refs import RefListing


@dataclass
class Answer:
    target: str
    reachable: set[str] = field(default_factory=set)
    absent: set[str] = field(default_factory=set)  # not in this history: cannot be an ancestor
    unknown: set[str] = field(default_factory=set)  # the history needed to decide is not here

    def status(self, sha: str) -> bool | None:
        """True: ancestor of (or equal to) target; False: not; None: cannot tell."""
        if sha in self.reachable:
            return True
        if sha in self.unknown:
            return None
        return False

    def settle(
        self,
        not_reached: Iterable[str],
        present: Collection[str],
        *,
        crossed_boundary: bool,
        partial: bool,
    ) -> None:
        """File the candidates the walk from target did not reach.

        A commit that is here but was not reached is no ancestor, unless the walk was cut
        short by a shallow boundary. A commit that is not here cannot be an ancestor in a
        complete history (a shallow clone whose walk from target never reached the
        boundary has all of target's history), but may be beyond a boundary or missing
        from a partial clone: then nobody can tell.
        """
        incomplete = crossed_boundary or partial
        for c in not_reached:
            if c in present:
                if crossed_boundary:
                    self.unknown.add(c)
            elif incomplete:
                self.unknown.add(c)
            else:
                self.absent.add(c)


class Reachability(Protocol):
    @property
    def listing(self) -> RefListing:
        """The refs these answers are about, read once (`poison_tools.reach.refs`)."""
        ...

    @property
    def notices(self) -> list[str]:
        """One line each about a damaged cache that was rebuilt, for the user to see."""
        ...

    def ref_commits(self, prefixes: Iterable[str]) -> list[tuple[str, str]]:
        """(refname, commit) of each ref under `prefixes` that points, directly or
        through tags, at a commit; aliases such as origin/HEAD left out."""
        ...

    def ancestors(self, target: str, candidates: Collection[str]) -> Answer: ...

    def present(self, candidates: Collection[str]) -> set[str]: ...

    def ancestors_many(
        self, targets: Collection[str], candidates: Collection[str]
    ) -> dict[str, Answer]:
        """The records x refs matrix: one Answer per target."""
        ...

    def refs_containing(self, commit: str, patterns: Iterable[str] = ...) -> list[str]: ...

    def refs_containing_many(
        self, commits: Collection[str], patterns: Iterable[str] = ...
    ) -> dict[str, list[str]]:
        """For each commit, the refs whose history contains it (one question for all)."""
        ...


def refs_holding(reach: Reachability, commits: Iterable[str]) -> dict[str, list[str]]:
    """The branches holding each commit that is in this clone, in one question; a
    commit that is not here holds nowhere (and is left out)."""
    wanted = list(dict.fromkeys(commits))
    present = reach.present(wanted) if wanted else set()
    if not present:
        return {}
    return reach.refs_containing_many([c for c in wanted if c in present])
