"""Facts about pairs of commits that never change, computed once and kept.

The Checker asks two questions about a few pairs of commits per record, and neither
may cost a git process or a graph walk per record on every check:

- is a recorded cure an ancestor of its record's poison? (A record written by hand
  whose "cure" is older than the bug cures nothing, issue 11.)
- do a copy and the commit its cherry-pick or backport line names change any file in
  common? (A tests-only pick of a split fix is no copy of the fix, issue 11.)

Both answers depend only on the two commits and on what git takes for their parents
(replace refs, grafts, the shallow boundary), so they are kept in
`<git-common-dir>/poison-cache/pairs-v1.json` beside that fingerprint
(`index.fingerprint`) and dropped whole when it changes. Only answers about commits
that are here are kept: a commit fetched later must not meet a stale "no". Like every
cache here the file is safe to delete; an unreadable one is ignored and rewritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from poison_tools import cachefile
from poison_tools.git import SourceRepo, is_sha

if TYPE_CHECKING:
    from poison_tools.reach.answer import Reachability

CACHE_DIR = "poison-cache"
CACHE_FILE = "pairs-v1.json"
ANCESTOR = "ancestor"  # "a b": a is an ancestor of b (or b itself)
SHARED = "shared"  # "a b", a < b: the two change a file in common

Pair = tuple[str, str]


class PairFacts:
    def __init__(self, repo: SourceRepo) -> None:
        self.repo = repo
        self.path = os.path.join(repo.common_dir, CACHE_DIR, CACHE_FILE)
        self._facts: dict[str, dict[str, bool]] | None = None
        self._graph = ""
        self._new: dict[str, dict[str, bool]] = {}  # learnt here, not yet written

    # -- the questions ----------------------------------------------------------------

    def ancestors(self, reach: Reachability, pairs: Iterable[Pair]) -> set[Pair]:
        """The pairs (a, b) where a is b or an ancestor of b. A pair that cannot be
        told here (a commit that is not here, a shallow boundary) is not one."""
        pairs = set(pairs)
        known = self._table(ANCESTOR)
        found = {p for p in pairs if known.get(_key(*p))}
        todo = [p for p in pairs if _key(*p) not in known]
        if todo:
            present = reach.present({c for p in todo for c in p})
            todo = [p for p in todo if p[0] in present and p[1] in present]
        if todo:
            for (a, b), status in self._ask_ancestors(reach, todo).items():
                if status is None:
                    continue  # beyond a shallow boundary: ask again next time
                self._learn(ANCESTOR, _key(a, b), status)
                if status:
                    found.add((a, b))
            self.save()
        return found

    def _ask_ancestors(self, reach: Reachability, pairs: list[Pair]) -> dict[Pair, bool | None]:
        from poison_tools.reach.walk import GitWalk

        if not isinstance(reach, GitWalk):
            # The index answers every poison against every cure in one sweep.
            answers = reach.ancestors_many({b for _, b in pairs}, {a for a, _ in pairs})
            return {(a, b): answers[b].status(a) for a, b in pairs}
        # Plain git would walk the whole history below every poison (80 s for 400 records
        # on 100,000 commits); `merge-base --is-ancestor` stops early (5 s), once per pair.
        result: dict[Pair, bool | None] = {}
        for a, b in pairs:
            proc = self.repo.git(["merge-base", "--is-ancestor", a, b], check=False)
            no = proc.returncode == 1 and not self.repo.shallow_commits()
            result[(a, b)] = True if proc.returncode == 0 else False if no else None
        return result

    def share_files(self, pairs: Iterable[Pair]) -> dict[Pair, bool | None]:
        """For each pair: do the two commits change a file in common (a merge: against
        its first parent)? None when a commit is not here, so nobody can tell."""
        pairs = set(pairs)
        known = self._table(SHARED)
        result: dict[Pair, bool | None] = {}
        todo = []
        for p in pairs:
            k = _key(*sorted(p))
            if k in known:
                result[p] = known[k]
            else:
                todo.append(p)
        if todo:
            paths = changed_paths(self.repo, {c for p in todo for c in p})
            for a, b in todo:
                pa, pb = paths.get(a), paths.get(b)
                result[(a, b)] = None if pa is None or pb is None else bool(pa & pb)
                if pa is not None and pb is not None:
                    self._learn(SHARED, _key(*sorted((a, b))), bool(pa & pb))
            self.save()
        return result

    # -- the file ---------------------------------------------------------------------

    def _table(self, name: str) -> dict[str, bool]:
        if self._facts is None:
            from poison_tools.reach.index import fingerprint

            self._graph = fingerprint(self.repo)
            self._facts = self._read()
        return self._facts.setdefault(name, {})

    def _learn(self, name: str, key: str, value: bool) -> None:
        self._table(name)[key] = value
        self._new.setdefault(name, {})[key] = value

    def _read(self) -> dict[str, dict[str, bool]]:
        # Regular files only (a FIFO would hang), and only for this shape of history.
        data = cachefile.read_json(self.path, graph=self._graph)
        if data is None:
            return {}
        facts: dict[str, dict[str, bool]] = {}
        for name in (ANCESTOR, SHARED):
            table = data.get(name)
            if isinstance(table, dict):
                # Only well-formed entries: the file is a cache, not something to trust.
                facts[name] = {
                    k: v
                    for k, v in table.items()
                    if isinstance(v, bool) and isinstance(k, str) and len(k) <= 129
                }
        return facts

    def save(self) -> None:
        if not self._new:
            return
        # What another process (or another `PairFacts` here) kept meanwhile is kept too.
        data: dict[str, object] = {"graph": self._graph}
        for name, table in self._read().items():
            data[name] = {**table, **self._new.pop(name, {})}
        for name, table in self._new.items():
            data[name] = table
        self._new = {}
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        except OSError:
            return  # a read-only repository still gets its answers, only not kept
        # Whole or not at all; two writers at once lose only facts asked again later.
        cachefile.keep(self.path, json.dumps(data, separators=(",", ":")).encode(), ".pairs-")


def _key(a: str, b: str) -> str:
    return f"{a} {b}"


def changed_paths(repo: SourceRepo, commits: Collection[str]) -> dict[str, frozenset[bytes]]:
    """The paths each commit changes (a merge: against its first parent; a root commit:
    all its files), in one `git diff-tree --stdin`. A commit that is not here is left out."""
    wanted = sorted(c for c in set(commits) if is_sha(c))
    if not wanted:
        return {}
    out = repo.git(
        [
            "diff-tree",
            "--stdin",
            "-r",
            "-z",
            "--name-only",
            "--root",
            "--no-renames",
            "-m",
            "--first-parent",
            "--always",
            "--format=%x01%H",
        ],
        input="".join(c + "\n" for c in wanted).encode(),
    ).stdout
    # Each commit: "\x01<sha>\0", then "\n" and its NUL-terminated paths (none for an
    # empty commit). git says nothing at all for a commit it does not have.
    result: dict[str, frozenset[bytes]] = {}
    for chunk in out.split(b"\x01")[1:]:
        head, _, rest = chunk.partition(b"\0")
        sha = head.decode(errors="replace").strip()
        if not is_sha(sha):
            continue
        rest = rest.removeprefix(b"\n")
        result[sha] = frozenset(p for p in rest.split(b"\0") if p)
    return result
