"""Which commits are copies of a recorded one: cherry-picks, backports, same change.

Copies form an undirected graph: "B says it was cherry-picked from A" links A and B
both ways (a poison recorded on the LTS copy also poisons master, which holds the
original), equal `git patch-id --stable` links commits that make the same change,
an equal Gerrit Change-Id links the uploads of one change. Everything connected to
a recorded commit stands for it; each copy carries the kind of link that found it,
so a verdict can say why.

A cure is held to more than that (`Copies.unsure`): a link made only by a cherry-pick
or backport line, between two commits that change no file in common, is a claim the
change does not back up (a tests-only pick of a split fix): for a cure it is a
"probable cure, confirm?" hint, never evidence. For a poison the same link still
counts: believing a copy of a poison poisoned fails closed, doubting it would not.

`default_equivalence(repo)` is what `check.open_checker` gives every `Checker`, so
`check`, `scope`, the hook and the editor share these rules; with no records the
factory asks nothing of it (no cache is touched). `git config poison.equivalence`
chooses: `full` (default), `trailers` (no patch-ids: for huge histories on slow
disks) or `none` (plain ancestry).

Where git cannot read some commits' diffs (a partial clone, lost objects), their
patch-ids are unknown, and `gap()` says which of them could be copies of each
recorded commit (`poison_tools.check.Doubt`): its own patch-id or a known copy's is
unknown (a copy could be anywhere), or an unreadable commit changes exactly the files
one of them changes (a patch-id covers the file names). In a partial clone, the blobs
those commits lack are fetched first, in one batch bounded in time
(`PatchIdCache.fetch_missing`; not with `GIT_POISON_NO_FETCH=1`). `trailers` mode
computes no patch-ids, so nothing is ever unknown there.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING

from poison_tools.copies import diffs, trailers
from poison_tools.copies.pair_facts import PairFacts
from poison_tools.copies.patchid import PatchIdCache
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.progress import Progress

if TYPE_CHECKING:
    from poison_tools.copies.protocol import CopiesGap, Doubt, Equivalence
    from poison_tools.reach.answer import Reachability

MODES = ("full", "trailers", "none")
# A patch that recurs this often ("bump version", a one-line revert) says nothing
# about one change: stop before it links unrelated commits.
MAX_COPIES = 200
# Picks of picks of picks: a chain longer than this is not one change any more.
MAX_HOPS = 16
# Unreadable commits named as possible copies of one recorded commit; past that, a copy
# could be anywhere (they are asked about in every target's history otherwise).
MAX_SUSPECTS = 1000
# Fetch-and-look-again rounds in a partial clone: a fetched commit can bring new copies
# whose own blobs are missing.
FETCH_ROUNDS = 3
# Links that only a commit message makes: what they claim is checked for cures.
_SAID = (trailers.CHERRY_PICK, trailers.BACKPORT)

Graph = dict[str, dict[str, str]]


class Copies:
    """Equivalence by cherry-pick/backport lines, patch-id and Change-Id."""

    def __init__(
        self,
        repo: SourceRepo,
        *,
        patch_ids: bool = True,
        progress: Progress | None = None,
        cache: PatchIdCache | None = None,
        reach: Reachability | None = None,
        fetch: bool = True,
    ) -> None:
        self.repo = repo
        self.reach = reach
        self.patch_ids = patch_ids
        self.progress = progress
        self.fetch = fetch
        self._cache = cache
        self._gap: CopiesGap | None = None
        # The last copy graph: (the commits it started from, it, the pairs linked by
        # more than a message, the commits in the cache). `unsure` asks after `expand`.
        self._last: tuple[frozenset[str], Graph, set[frozenset[str]], set[str]] | None = None
        self._facts: PairFacts | None = None

    @property
    def cache(self) -> PatchIdCache:
        if self._cache is None:
            self._cache = PatchIdCache(
                self.repo, patch_ids=self.patch_ids, progress=self.progress, reach=self.reach
            )
        return self._cache

    def expand(self, commits: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        self._gap = None
        if not commits:
            return {}
        cache = self.cache
        cache.ensure(commits)
        result = self._expand(cache, commits)
        if self.patch_ids:
            # Patch-ids are computed per group of commits changing the same files, when
            # asked: the copies found at the graph's edge have their groups diffed too, so
            # that an unreadable commit among them is known before `incomplete` is asked.
            cache.prepare({*commits, *(c for found in result.values() for c, _ in found)})
        if self.patch_ids and cache.incomplete():
            result = self._settle(cache, commits, result)
        return result

    def _expand(
        self, cache: PatchIdCache, commits: Collection[str]
    ) -> dict[str, list[tuple[str, str]]]:
        graph, _strong, known = self._build(cache, commits)
        result = {}
        for recorded in commits:
            found = self._component(graph, recorded, known)
            if found:
                result[recorded] = found
        return result

    def _built(self, commits: Collection[str]) -> tuple[Graph, set[frozenset[str]], set[str]]:
        """The copy graph of `commits`: the one `expand` last built when it covers them."""
        if self._last is not None and self._last[0].issuperset(commits):
            return self._last[1:]
        cache = self.cache
        cache.ensure(commits)
        return self._build(cache, commits)

    def _build(
        self, cache: PatchIdCache, commits: Collection[str]
    ) -> tuple[Graph, set[frozenset[str]], set[str]]:
        strong: set[frozenset[str]] = set()
        graph = self._graph(cache, set(commits), strong)
        known = cache.known(graph)
        self._last = (frozenset(commits), graph, strong, known)
        return graph, strong, known

    def _settle(
        self,
        cache: PatchIdCache,
        commits: Collection[str],
        result: dict[str, list[tuple[str, str]]],
    ) -> dict[str, list[tuple[str, str]]]:
        """Fetch what the doubts need (a partial clone), look again; record the rest."""
        from poison_tools.copies.protocol import CopiesGap

        failed: str | None = None
        tried: set[str] = set()
        doubts = self._doubts(cache, commits, result)
        for round_ in range(FETCH_ROUNDS + 1):
            wanted = {c for d in doubts.values() for c in d.commits} - tried
            if not wanted:
                break
            # Round 0: objects may have arrived since (a fetch, a restored object);
            # later rounds fetch what is still missing, in a partial clone.
            if round_ > 0:
                if not self.fetch or not self.repo.partial:
                    break
                tried |= wanted
                failed = cache.fetch_missing(wanted)
                if failed is not None:
                    break
            # A doubt that holds anywhere: the clone lacks much; all of it is tried
            # again when objects arrived.
            everything = any(d.anywhere for d in doubts.values())
            if not cache.retry(wanted, everything=everything):
                if round_ > 0:
                    break
                continue
            result = self._expand(cache, commits)
            doubts = self._doubts(cache, commits, result)
        if doubts:
            self._gap = CopiesGap(doubts, _remote(self.repo), failed)
        return result

    def _doubts(
        self,
        cache: PatchIdCache,
        commits: Collection[str],
        result: dict[str, list[tuple[str, str]]],
    ) -> dict[str, Doubt]:
        """For each recorded commit, the unreadable commits that could be its copies."""
        from poison_tools.copies.protocol import Doubt

        groups = {r: [r, *(c for c, _ in result.get(r, []))] for r in commits}
        everyone = {c for g in groups.values() for c in g}
        lost = cache.unreadable_among(everyone)
        files = cache.changed_files(everyone)
        keys = {f for f in files.values() if f is not None}
        changing = cache.unreadable_changing(keys, MAX_SUSPECTS)
        out: dict[str, Doubt] = {}
        for recorded, group in groups.items():
            # Its own unreadable ones, and the unreadable commits that change the same
            # files as one of the group: all fetched in one batch, where fetching is.
            own = sorted(c for c in group if c in lost)
            lists = [changing.get(files.get(c)) or [] for c in group] + [changing[None]]
            suspects = sorted({s for lst in lists for s in lst} - set(group))
            if own or any(len(lst) > MAX_SUSPECTS for lst in lists):
                out[recorded] = Doubt(tuple(own + suspects), anywhere=True)
            elif suspects:
                out[recorded] = Doubt(tuple(suspects))
        return out

    def gap(self) -> CopiesGap | None:
        return self._gap

    def notices(self) -> list[str]:
        return list(self._cache.notices) if self._cache is not None else []

    def _graph(self, cache: PatchIdCache, start: set[str], strong: set[frozenset[str]]) -> Graph:
        """Every copy link reachable from the recorded commits, one batch per hop;
        `strong` gets the pairs linked by more than a message (patch-id, Change-Id)."""
        graph: Graph = {}
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
                    if how not in _SAID:
                        strong.add(frozenset((sha, other)))
                    if other not in visited:
                        frontier.add(other)
        return graph

    @staticmethod
    def _component(
        graph: Graph,
        recorded: str,
        known: set[str],
        shared: dict[tuple[str, str], bool | None] | None = None,
        strong: set[frozenset[str]] | None = None,
    ) -> list[tuple[str, str]]:
        """The copies connected to `recorded`; with `shared`, only through links that a
        message alone makes if the two commits change a file in common (see `unsure`)."""
        seen: dict[str, str] = {recorded: ""}
        todo = [recorded]
        while todo and len(seen) <= MAX_COPIES:
            sha = todo.pop()
            for other, how in graph.get(sha, {}).items():
                if other in seen:
                    continue
                if shared is not None and frozenset((sha, other)) not in (strong or ()):
                    backed = shared.get((sha, other), shared.get((other, sha)))
                    if backed is False:
                        continue
                    if backed is None and other not in known:
                        # `other` is not here: what its picks change is compared with
                        # what `sha` changes (what cannot be told either: followed).
                        seen[other] = how
                        for far, far_how in graph.get(other, {}).items():
                            beyond = shared.get((sha, far), shared.get((far, sha)))
                            if far not in seen and beyond is not False:
                                seen[far] = far_how
                                todo.append(far)
                        continue
                seen[other] = how
                todo.append(other)
        # Only commits in this repository's history can stand for anything; a source
        # named by a trailer but never fetched (another fork's SHA) is left out rather
        # than turned into "cannot decide".
        return [(c, how) for c, how in seen.items() if c != recorded and c in known]

    def unsure(self, cures: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        """For each cure, the copies `expand` gives it that hang on a cherry-pick or
        backport line between two commits changing no file in common: hints, not copies.

        A link whose two ends cannot both be seen (a commit named by trailers that is
        not in this clone) is judged across that commit: the picks on either side of
        it are compared with each other. Only these few pairs are diffed, in one `git
        diff-tree`, and the answers are kept (`pair_facts`).
        """
        if not cures:
            return {}
        graph, strong, known = self._built(cures)
        said = {c: self._said_links(graph, c, strong, known) for c in cures}
        pairs = {p for links in said.values() for p in links}
        if not pairs:
            return {}
        if self._facts is None:
            self._facts = PairFacts(self.repo)
        shared = self._facts.share_files(pairs)
        result = {}
        for cure in cures:
            if not said[cure]:
                continue
            everything = self._component(graph, cure, known)
            backed = {c for c, _ in self._component(graph, cure, known, shared, strong)}
            doubtful = [(c, how) for c, how in everything if c not in backed]
            if doubtful:
                result[cure] = doubtful
        return result

    @staticmethod
    def _said_links(
        graph: Graph, start: str, strong: set[frozenset[str]], known: set[str]
    ) -> set[tuple[str, str]]:
        """The pairs of commits whose sharing of a file decides links of `start`'s
        copies: each end of a message-only link, or, across a commit at the end of
        such links that is not here (no links of its own), the commits on either side."""
        seen, todo, pairs = {start}, [start], set()
        while todo and len(seen) <= MAX_COPIES:
            sha = todo.pop()
            for other in graph.get(sha, {}):
                if frozenset((sha, other)) not in strong:
                    pairs.add((sha, other))
                    if other not in known:  # not here: its picks are compared instead
                        pairs.update((sha, far) for far in graph.get(other, {}) if far != sha)
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return pairs

    def reverts(self, commits: Collection[str]) -> dict[str, list[str]]:
        """For each commit, the commits whose message says they revert it."""
        return self.cache.reverts_of(commits) if commits else {}

    def probable(self, commit: str) -> list[str]:
        """Commits with the same subject line as `commit`: a hint to confirm by hand."""
        return self.cache.same_subject(commit)


def default_equivalence(
    repo: SourceRepo, progress: Progress | None = None, reach: Reachability | None = None
) -> Equivalence:
    """`progress` shows the first scan; `reach` (the command's reachability engine)
    spares the scan new refs that point into history already scanned."""
    from poison_tools.copies.protocol import Identity

    mode = (repo.config_get("poison.equivalence") or "full").strip().lower()
    if mode not in MODES:
        raise FatalError(f"poison.equivalence must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "none":
        return Identity()
    return Copies(
        repo,
        patch_ids=mode != "trailers",
        progress=progress,
        reach=reach,
        fetch=os.environ.get("GIT_POISON_NO_FETCH") != "1",
    )


def _remote(repo: SourceRepo) -> str:
    """The remote to name in "git fetch --refetch <remote>"."""
    promisor = diffs.promisor(repo)
    if promisor:
        return promisor
    remotes = sorted(
        {
            k.split(".")[1]
            for k in repo.config
            if k.startswith("remote.") and k.endswith(".url") and k.count(".") == 2
        }
    )
    if "origin" in remotes:
        return "origin"
    return remotes[0] if len(remotes) == 1 else "<remote>"
