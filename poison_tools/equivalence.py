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
from poison_tools.trailers import CHANGE_ID, PATCH_ID

if TYPE_CHECKING:
    from poison_tools.check import Equivalence

MODES = ("full", "trailers", "none")
# A patch that recurs this often ("bump version", a one-line revert) says nothing
# about one change: stop before it links unrelated commits.
MAX_COPIES = 200


class Copies:
    """Equivalence by cherry-pick/backport lines, patch-id and Change-Id."""

    def __init__(self, repo: SourceRepo, *, patch_ids: bool = True,
                 progress: Progress | None = None, cache: PatchIdCache | None = None) -> None:
        self.repo = repo
        self.patch_ids = patch_ids
        self.progress = progress
        self._cache = cache

    @property
    def cache(self) -> PatchIdCache:
        if self._cache is None:
            self._cache = PatchIdCache(self.repo, patch_ids=self.patch_ids, progress=self.progress)
        return self._cache

    def expand(self, commits: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        if not commits:
            return {}
        cache = self.cache
        cache.ensure(commits)
        result = {}
        for recorded in commits:
            found = self._component(cache, recorded)
            if found:
                result[recorded] = found
        return result

    def _neighbours(self, cache: PatchIdCache, sha: str) -> list[tuple[str, str]]:
        links = [*cache.sources(sha), *cache.copies(sha)]
        if self.patch_ids:
            links += [(c, PATCH_ID) for c in cache.same_patch(sha)]
        links += [(c, CHANGE_ID) for c in cache.same_change(sha)]
        return links

    def _component(self, cache: PatchIdCache, recorded: str) -> list[tuple[str, str]]:
        seen: dict[str, str] = {recorded: ""}
        todo = [recorded]
        while todo and len(seen) <= MAX_COPIES:
            sha = todo.pop()
            for other, how in self._neighbours(cache, sha):
                if other not in seen:
                    seen[other] = how
                    todo.append(other)
        # Only commits in this repository's history can stand for anything; a source
        # named by a trailer but never fetched (another fork's SHA) is left out rather
        # than turned into "cannot decide".
        known = cache.known(seen)
        return [(c, how) for c, how in seen.items() if c != recorded and c in known]


def default_equivalence(repo: SourceRepo, progress: Progress | None = None) -> Equivalence:
    from poison_tools.check import Identity

    mode = (repo.config_get("poison.equivalence") or "full").strip().lower()
    if mode not in MODES:
        raise FatalError(f"poison.equivalence must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "none":
        return Identity()
    return Copies(repo, patch_ids=mode != "trailers", progress=progress)
