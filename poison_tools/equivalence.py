"""Which commits are copies of a recorded one: cherry-picks, backports, same change.

Copies form an undirected graph: "B says it was cherry-picked from A" links A and B
both ways (a poison recorded on the LTS copy also poisons master, which holds the
original), equal `git patch-id --stable` links commits that make the same change,
an equal Gerrit Change-Id links the uploads of one change. Everything connected to
a recorded commit stands for it; each copy carries the kind of link that found it,
so a verdict can say why.

`default_equivalence(repo)` is what `Checker` uses unless told otherwise, so
`check`, `scope`, the hook and the editor share these rules. It does nothing (and
touches no cache) when there are no records. `git config poison.equivalence`
chooses: `full` (default), `trailers` (no patch-ids: for huge histories on slow
disks) or `none` (plain ancestry).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.patchid import PatchIdCache
from poison_tools.progress import Progress

if TYPE_CHECKING:
    from poison_tools.check import Equivalence
    from poison_tools.reach import Reachability

MODES = ("full", "trailers", "none")
# A patch that recurs this often ("bump version", a one-line revert) says nothing
# about one change: stop before it links unrelated commits.
MAX_COPIES = 200
# Picks of picks of picks: a chain longer than this is not one change any more.
MAX_HOPS = 16


class Copies:
    """Equivalence by cherry-pick/backport lines, patch-id and Change-Id."""

    def __init__(self, repo: SourceRepo, *, patch_ids: bool = True,
                 progress: Progress | None = None, cache: PatchIdCache | None = None,
                 reach: Reachability | None = None) -> None:
        self.repo = repo
        self.reach = reach
        self.patch_ids = patch_ids
        self.progress = progress
        self._cache = cache

    @property
    def cache(self) -> PatchIdCache:
        if self._cache is None:
            self._cache = PatchIdCache(self.repo, patch_ids=self.patch_ids, progress=self.progress,
                                       reach=self.reach)
        return self._cache

    def expand(self, commits: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        if not commits:
            return {}
        cache = self.cache
        cache.ensure(commits)
        graph = self._graph(cache, set(commits))
        known = cache.known(graph)
        result = {}
        for recorded in commits:
            found = self._component(graph, recorded, known)
            if found:
                result[recorded] = found
        return result

    def _graph(self, cache: PatchIdCache, start: set[str]) -> dict[str, dict[str, str]]:
        """Every copy link reachable from the recorded commits, one batch per hop."""
        graph: dict[str, dict[str, str]] = {}
        visited: set[str] = set()
        frontier = set(start)
        budget = MAX_COPIES * len(start)
        for _hop in range(MAX_HOPS):
            if not frontier or len(visited) > budget:
                break
            found = cache.links(frontier, patch_ids=self.patch_ids, max_group=MAX_COPIES)
            visited |= frontier
            frontier = set()
            for sha, links in found.items():
                for other, how in links:
                    graph.setdefault(sha, {}).setdefault(other, how)
                    graph.setdefault(other, {}).setdefault(sha, how)
                    if other not in visited:
                        frontier.add(other)
        return graph

    @staticmethod
    def _component(graph: dict[str, dict[str, str]], recorded: str, known: set[str]) -> list[tuple[str, str]]:
        seen: dict[str, str] = {recorded: ""}
        todo = [recorded]
        while todo and len(seen) <= MAX_COPIES:
            sha = todo.pop()
            for other, how in graph.get(sha, {}).items():
                if other not in seen:
                    seen[other] = how
                    todo.append(other)
        # Only commits in this repository's history can stand for anything; a source
        # named by a trailer but never fetched (another fork's SHA) is left out rather
        # than turned into "cannot decide".
        return [(c, how) for c, how in seen.items() if c != recorded and c in known]

    def reverts(self, commits: Collection[str]) -> dict[str, list[str]]:
        """For each commit, the commits whose message says they revert it."""
        return self.cache.reverts_of(commits) if commits else {}

    def probable(self, commit: str) -> list[str]:
        """Commits with the same subject line as `commit`: a hint to confirm by hand."""
        return self.cache.same_subject(commit)


def default_equivalence(repo: SourceRepo, progress: Progress | None = None,
                        reach: Reachability | None = None) -> Equivalence:
    """`progress` shows the first scan; `reach` (the command's reachability engine)
    spares the scan new refs that point into history already scanned."""
    from poison_tools.check import Identity

    mode = (repo.config_get("poison.equivalence") or "full").strip().lower()
    if mode not in MODES:
        raise FatalError(f"poison.equivalence must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "none":
        return Identity()
    return Copies(repo, patch_ids=mode != "trailers", progress=progress, reach=reach)
