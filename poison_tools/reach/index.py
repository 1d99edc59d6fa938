"""The reachability index: `Reachability` answered from a precomputed commit graph.

The index lives in `<git-common-dir>/poison-index/graph` and records, for every
commit it has seen, where it sits on the first-parent chains (`index_graph`). What it
stores about a commit (its parents) can never change, because a commit's name is the
hash of its parents, with three exceptions that change what git *counts* as the
parents: replace refs, grafts and the shallow file. Those are fingerprinted; when the
fingerprint changes (`git replace`, a deepened shallow clone) the index is rebuilt,
never consulted. New commits (fetches, force-moved branches, a detached HEAD) are
added incrementally: one `git rev-list --parents` over the new part only, written
to a small delta beside the graph file (`index_delta`), merged into it now and then.

The index is a cache: any failure to read or write it falls back to building in
memory or to `GitWalk`, never to a guess; a damaged file (`index_file`) is rebuilt
with a notice in `notices`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from poison_tools import git
from poison_tools.git import SourceRepo, read_packed_refs
from poison_tools.lazy import OnFirstUse
from poison_tools.progress import Progress, Silent
from poison_tools.reach.answer import Answer
from poison_tools.reach.refs import RefListing
from poison_tools.reach.walk import GitWalk

# `reachability()` hands out an `IndexedReach` before the records and the copy cache
# are read: numpy is imported at the first question (`poison_tools.lazy`).
if TYPE_CHECKING:
    import numpy as np

    from poison_tools.reach import index_delta, index_file, index_graph, index_query
else:
    np = OnFirstUse("numpy")
    index_delta = OnFirstUse("poison_tools.reach.index_delta")
    index_file = OnFirstUse("poison_tools.reach.index_file")
    index_graph = OnFirstUse("poison_tools.reach.index_graph")
    index_query = OnFirstUse("poison_tools.reach.index_query")

INDEX_DIR = "poison-index"
INDEX_FILE = "graph"
# Where the default branch is most likely; laid out first so it becomes one chain.
_PREFERRED = (
    "refs/heads/main",
    "refs/heads/master",
    "refs/heads/trunk",
    "refs/remotes/origin/main",
    "refs/remotes/origin/master",
)
# Incremental updates lay new commits out less well than a build (a mainline commit
# may start a chain of its own); past this many chains, the next update rebuilds.
REBUILD_GROWTH = 1.5
REBUILD_SLACK = 1000
# An update first walks down from the new tips in growing steps (256, 1,024, ...
# commits); past the last step it asks git for the whole difference at once.
NEW_COMMIT_BATCH = 256
NEW_COMMIT_STEPS = 4
# How long a process waits for another one building the index before building it too
# (a hung process must not stop every check).
LOCK_WAIT = 120.0


class IndexUnavailable(Exception):
    """git could not list the history needed (e.g. a missing commit in a partial clone)."""


def index_path(repo: SourceRepo) -> str:
    return os.path.join(repo.common_dir, INDEX_DIR, INDEX_FILE)


def fingerprint(repo: SourceRepo) -> str:
    """What, besides the commits themselves, decides a commit's parents for git."""
    h = hashlib.sha256()
    for var in (
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_GRAFT_FILE",
        "GIT_SHALLOW_FILE",
    ):
        h.update(f"{var}={os.environ.get(var)}\n".encode())
    h.update(f"usereplacerefs={repo.config_get('core.usereplacerefs')}\n".encode())
    base = os.environ.get("GIT_REPLACE_REF_BASE", "refs/replace/").rstrip("/") + "/"
    for name, target in sorted(_refs_under(repo.common_dir, base).items()):
        h.update(f"replace {name} {target}\n".encode())
    for name in ("shallow", "info/grafts"):
        try:
            with open(os.path.join(repo.common_dir, name), "rb") as f:
                h.update(name.encode() + b"\n" + f.read())
        except FileNotFoundError:
            h.update(name.encode() + b" absent\n")
    return h.hexdigest()


def write_commit_graph(repo: SourceRepo, *, show_progress: bool) -> None:
    """Have git write its commit-graph of every reachable commit, from which the index
    (and git's own walks) read parents fastest. Asked for by the user, never done
    behind their back: `git maintenance start` or fetch.writeCommitGraph keep it fresh.
    """
    # The progress meter is shown as git draws it, and kept for the error if git fails.
    with git.stream(
        [
            "--git-dir",
            repo.git_dir,
            "commit-graph",
            "write",
            "--reachable",
            "--progress" if show_progress else "--no-progress",
        ],
        echo_stderr=show_progress,
    ) as out:
        out.read()


def commit_graph_usable(repo: SourceRepo) -> bool:
    """Whether git itself would read parents from the commit-graph file here."""
    if not repo.config_bool("core.commitgraph", True):
        return False
    if os.environ.get("GIT_GRAFT_FILE") or os.path.exists(
        os.path.join(repo.common_dir, "info", "grafts")
    ):
        return False
    if os.environ.get("GIT_SHALLOW_FILE") or repo.shallow_commits():
        return False
    replace_off = os.environ.get("GIT_NO_REPLACE_OBJECTS") or not repo.config_bool(
        "core.usereplacerefs", True
    )
    if not replace_off:
        base = os.environ.get("GIT_REPLACE_REF_BASE", "refs/replace/").rstrip("/") + "/"
        if _refs_under(repo.common_dir, base):
            return False
    return True


def _refs_under(common_dir: str, prefix: str) -> dict[str, str]:
    """Refs under `prefix`, read from the files (cheaper than a git process per query)."""
    packed = read_packed_refs(common_dir)
    if packed is None:
        # Unreadable or odd: say so in the fingerprint rather than guess at its refs.
        refs: dict[str, str] = {"packed-refs": "unreadable"}
    else:
        refs = {name: sha for name, sha in packed.items() if name.startswith(prefix)}
    top = os.path.join(common_dir, *prefix.strip("/").split("/"))
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, common_dir).replace(os.sep, "/")
            try:
                with open(full, "rb") as f:
                    refs[rel] = f.read().strip().decode(errors="replace")
            except OSError:
                refs[rel] = "unreadable"
    return refs


class IndexedReach:
    """`Reachability` from the index; same answers as `GitWalk`, without walking."""

    def __init__(
        self, repo: SourceRepo, progress: Progress | None = None, *, prefetch_refs: bool = False
    ) -> None:
        self.repo = repo
        self.progress = progress or Silent()
        self.path = index_path(repo)
        self._stored: index_file.Stored | None = None
        self._fallback = GitWalk(repo)
        # With `prefetch_refs`, read on the other core while the caller loads records
        # and the copy cache (`reachability()` asks for it: every command lists refs).
        self._listing = RefListing(repo, background=prefetch_refs)
        # What the last build from scratch read: "commit-graph" or "rev-list".
        self.built_from: str | None = None
        self._peeled_changed = False
        self._peeled_new: dict[str, str] = {}  # tags peeled since the index was last written
        # One line each about a damaged index that was rebuilt (`Reachability.notices`).
        self.notices: list[str] = []
        self._tips: dict[
            tuple[str, ...], tuple[list[tuple[str, str]], np.ndarray, index_graph.Graph]
        ] = {}
        self._locked = False  # this process holds the build lock

    # -- the index itself -------------------------------------------------------------

    @property
    def graph(self) -> index_graph.Graph:
        return self._load().graph

    @property
    def listing(self) -> RefListing:
        return self._listing

    def _load(self) -> index_file.Stored:
        if self._stored is None:
            fp = fingerprint(self.repo)
            try:
                stored = index_delta.load(self.path, self.notices)
            except index_file.OtherVersion:
                stored = None
            except index_file.CorruptIndex as e:
                # Rebuilt, never believed (issue 11); the caller shows the notice.
                self.notices.append(f"reachability index damaged ({e}), rebuilt: {self.path}")
                stored = None
            if (
                stored is None
                or stored.fingerprint != fp
                or stored.graph.hash_len != self._hash_len()
            ):
                stored = self._build(fp, None)
            self._stored = stored
        return self._stored

    def _hash_len(self) -> int:
        fmt = self.repo.config_get("extensions.objectformat", "sha1")
        return 32 if fmt == "sha256" else 20

    def rebuild(self) -> index_file.Stored:
        """Build the index from scratch (e.g. `git poison index --rebuild`)."""
        self._listing = RefListing(self.repo)
        self._stored = self._build(fingerprint(self.repo), None, reuse=False)
        return self._stored

    def update(self, extra: Sequence[str] = ()) -> index_file.Stored:
        """Index every ref tip, HEAD and `extra` commits that are not indexed yet."""
        # Asked for because something new appeared: read the refs again.
        self._listing = RefListing(self.repo)
        return self._update(extra)

    def merge(self) -> int:
        """Write the index whole, its delta merged in (`git poison index`); returns how
        many commits the delta held."""
        from poison_tools.filelock import FileLock

        stored = self._load()
        if not stored.delta:
            return 0
        with FileLock(
            self.path + ".lock",
            self.progress,
            "another git-poison indexing this repository",
            LOCK_WAIT,
        ):
            # What is on disk now: another process may have added to the delta meanwhile.
            newer = self._read_written(stored.fingerprint)
            if newer is not None and newer.delta:
                stored = newer
            held = stored.delta_commits
            self._stored = self._write_whole(stored)
        return held

    def _update(self, extra: Sequence[str] = ()) -> index_file.Stored:
        # Within one question the refs are those listed at its start.
        stored = self._load()
        if (
            stored.graph.chain_len.shape[0]
            > REBUILD_GROWTH * stored.chains_at_build + REBUILD_SLACK
        ):
            # Many small updates fragment the chains; a fresh layout keeps queries fast.
            self._stored = self._build(stored.fingerprint, None, extra, reuse=False)
        else:
            self._stored = self._build(stored.fingerprint, stored, extra)
        return self._stored

    def _build(
        self,
        fp: str,
        base: index_file.Stored | None,
        extra: Sequence[str] = (),
        *,
        reuse: bool = True,
    ) -> index_file.Stored:
        """The index of `base` and every new tip, written to disk. With `reuse`, an index
        another process wrote meanwhile stands for `base` (see `_build_locked`)."""
        if base is None and not self._locked:
            return self._build_locked(fp, base, extra, reuse)
        graph = base.graph if base else index_graph.Graph.empty(self._hash_len())
        peeled = dict(base.peeled) if base else {}
        head = self._listing.head()
        # Laid out first, so that the default branch becomes one long chain.
        first = [
            *([head] if head else []),
            *(r.object for r in self._listing.refs() if r.name in _PREFERRED),
        ]
        if base is None:
            from_file = self._from_commit_graph(first)
            self.built_from = "rev-list" if from_file is None else "commit-graph"
            graph = from_file or graph
        refs = self._ref_tips((), graph, peeled)
        tips = list(dict.fromkeys([*first, *(sha for _, sha in refs), *extra]))
        known = graph.lookup(tips)
        todo = [t for t, i in zip(tips, known.tolist(), strict=True) if i < 0]
        if base is not None and not todo and not self._peeled_changed:
            return base
        if base is not None and not todo:
            # Only tags newly peeled: one more block for the delta, like `ref_commits`.
            base.peeled.update(peeled)
            self._save_peeled(base)
            return base
        if todo and not self._locked:
            return self._build_locked(fp, base, extra, reuse)
        out = b""
        if todo:
            negatives = [t for t, i in zip(tips, known.tolist(), strict=True) if i >= 0]
            stdin = "".join(f"{t}\n" for t in todo) + "".join(f"^{t}\n" for t in negatives)
            # Only a build from scratch takes long enough to be worth a progress line.
            progress = self.progress if base is None else Silent()
            try:
                progress.start("reading history (git rev-list)")
                # What git's commit-graph left out (commits made since it was written)
                # is a short walk down from the new tips, like an update.
                walked = self._new_commits(todo, graph) if graph.size else None
                out = self._rev_list(stdin.encode()) if walked is None else walked
                progress.finish()
                graph = index_graph.extend(graph, out, first, self.repo.shallow_commits(), progress)
            except ValueError as e:
                raise IndexUnavailable(str(e)) from None
        stored = index_file.Stored(
            graph,
            fp,
            [t for t in tips if t],
            base.chains_at_build if base else int(graph.chain_len.shape[0]),
            peeled,
        )
        if base is not None:
            # An update: its commits join the delta while it is small (issue 12).
            payload = index_delta.block(out, first, self.repo.shallow_commits(), self._peeled_new)
            if index_delta.fits(base, payload):
                return self._write_delta(stored, base, payload)
        return self._write_whole(stored)

    def _write_whole(self, stored: index_file.Stored) -> index_file.Stored:
        """`stored` written as the graph file, its delta dropped."""
        self._peeled_changed = False
        self._peeled_new = {}
        stored.delta, stored.delta_commits, stored.file_id = [], 0, ""
        try:
            stored.file_id = index_file.write(self.path, stored)
        except OSError:
            return stored  # a read-only repository: answer from memory this time
        # After the graph: a delta left by a crash here names the old graph, ignored.
        try:
            index_delta.remove(index_delta.delta_path(self.path))
        except OSError:
            pass
        return stored

    def _write_delta(
        self, stored: index_file.Stored, base: index_file.Stored, payload: bytes
    ) -> index_file.Stored:
        """`stored`, written as the delta of `base`'s graph file with one block more."""
        self._peeled_changed = False
        self._peeled_new = {}
        payloads = [*base.delta, payload]
        stored.file_id = base.file_id
        stored.delta, stored.delta_commits = (
            payloads,
            base.delta_commits + index_delta.commits_in(payload),
        )
        try:
            index_delta.write(index_delta.delta_path(self.path), base.file_id, payloads)
        except OSError:
            pass  # a read-only repository: answer from memory this time
        return stored

    def _build_locked(
        self, fp: str, base: index_file.Stored | None, extra: Sequence[str], reuse: bool
    ) -> index_file.Stored:
        """`_build`, holding the build lock: two processes that need the same new commits
        indexed (the first check and the editor, a push and a check) share one build.
        The one that waited reads what the other wrote and adds only what is left."""
        from poison_tools.filelock import FileLock

        with FileLock(
            self.path + ".lock",
            self.progress,
            "another git-poison indexing this repository",
            LOCK_WAIT,
        ) as held:
            self._locked = True
            try:
                if held and reuse:
                    newer = self._read_written(fp)
                    if newer is not None:
                        base = newer
                return self._build(fp, base, extra, reuse=reuse)
            finally:
                self._locked = False

    def _read_written(self, fp: str) -> index_file.Stored | None:
        """The index on disk, if it is usable here (written by another process)."""
        try:
            stored = index_delta.load(self.path, self.notices)
        except (index_file.OtherVersion, index_file.CorruptIndex):
            return None
        if stored is None or stored.fingerprint != fp or stored.graph.hash_len != self._hash_len():
            return None
        return stored

    def _from_commit_graph(self, first: Sequence[str]) -> index_graph.Graph | None:
        """The graph of every commit in git's commit-graph file, when git would believe it.

        Reading the file takes ~0.2 s on a million commits where `git rev-list
        --parents --all` and parsing its output take 2-2.5 s. git ignores the file where
        replace refs, grafts or a shallow boundary change parents (and where
        core.commitGraph is off): so does the index, and lists with rev-list instead.
        """
        from poison_tools.reach import commit_graph

        if not commit_graph_usable(self.repo):
            return None
        try:
            # The checksum costs ~0.15 s on a million commits: paid, because what the
            # index takes from the file it keeps (git, which does not check, re-reads).
            parents = commit_graph.read(
                os.path.join(self.repo.common_dir, "objects"), self._hash_len(), checksum=True
            )
        except commit_graph.CorruptGraph:
            return None  # git rev-list, which reads the commits themselves, will do
        if parents is None:
            return None
        try:
            return index_graph.extend_parsed(
                index_graph.Graph.empty(self._hash_len()),
                *parents.rev_list,
                first,
                frozenset(),
                self.progress,
            )
        except ValueError:
            return None

    def _save_peeled(self, stored: index_file.Stored | None = None) -> None:
        """Keep the tags peeled meanwhile: a block of the delta with no commits, written
        under the lock and only onto the delta this process read (else they are peeled
        again next time: one cat-file), so that no other writer's block is lost."""
        from poison_tools.filelock import FileLock

        stored = stored or self._load()
        payload = index_delta.block(b"", [], frozenset(), self._peeled_new)
        self._peeled_changed = False
        self._peeled_new = {}
        if not index_delta.fits(stored, payload):
            return  # the next update writes the whole index, these tags included
        if self._locked:  # a second flock of our own would wait for ourselves
            self._append_if_unchanged(stored, payload)
            return
        with FileLock(
            self.path + ".lock",
            self.progress,
            "another git-poison indexing this repository",
            LOCK_WAIT,
        ) as held:
            if held:
                self._append_if_unchanged(stored, payload)

    def _append_if_unchanged(self, stored: index_file.Stored, payload: bytes) -> None:
        try:
            on_disk = index_delta.read(index_delta.delta_path(self.path), stored.file_id)
        except index_delta.DamagedDelta:
            return
        if (on_disk or []) == stored.delta:
            self._write_delta(stored, stored, payload)

    def _new_commits(self, todo: Sequence[str], graph: index_graph.Graph) -> bytes | None:
        """`rev-list --parents` lines of the commits reachable from `todo` and not indexed,
        found by walking down from `todo` in small steps; None when there are too many.

        The general update (`todo` and every indexed tip negated) makes git paint the
        indexed side down to the merge bases: 0.26 s for one new commit on a branch
        forked 99,000 commits ago, paid on every push. A push or a pull brings a few
        new commits, so a short walk from the new tips, stopped where the index
        already knows the commits, finds them in a few milliseconds.
        """
        found: dict[str, bytes] = {}
        frontier = list(dict.fromkeys(todo))
        for step in range(NEW_COMMIT_STEPS):
            if not frontier:
                return b"".join(found.values())
            limit = NEW_COMMIT_BATCH << (2 * step)
            out = self._rev_list(
                "".join(f"{c}\n" for c in frontier).encode(), [f"--max-count={limit}"]
            )
            lines = out.splitlines(keepends=True)
            names = [ln.split(b" ", 1)[0].strip().decode() for ln in lines]
            fresh = {
                n: ln
                for n, ln, i in zip(names, lines, graph.lookup(names).tolist(), strict=True)
                if i < 0 and n not in found
            }
            found.update(fresh)
            listed = set(names)
            parents = [p.decode() for ln in fresh.values() for p in ln.split()[1:]]
            unseen = [p for p in dict.fromkeys(parents) if p not in listed and p not in found]
            # Tips the count cut off are still to do (they are not indexed: they are tips).
            left = [c for c in frontier if c not in listed]
            frontier = left + [
                p
                for p, i in zip(unseen, graph.lookup(unseen).tolist(), strict=True)
                if i < 0 and p not in left
            ]
        return b"".join(found.values()) if not frontier else None

    def _rev_list(self, stdin: bytes, args: Sequence[str] = ()) -> bytes:
        """`git rev-list --parents --stdin`, its output read in one piece.

        (`communicate()` polls both pipes in small chunks: on a million commits that
        alone cost seconds.) rev-list reads all of stdin before it writes anything.
        """
        try:
            with git.stream(
                ["--git-dir", self.repo.git_dir, "rev-list", "--parents", *args, "--stdin"],
                input=stdin,
            ) as out:
                return out.read()
        except git.GitError as e:
            raise IndexUnavailable(str(e)) from None

    def ref_commits(self, prefixes: Iterable[str]) -> list[tuple[str, str]]:
        prefixes = list(prefixes)
        if not prefixes:
            return []
        aliases = {r.name for r in self._listing.under(prefixes) if r.symref}
        try:
            stored = self._load()
            pairs = self._ref_tips(prefixes, stored.graph, stored.peeled)
            if self._peeled_changed:
                self._save_peeled()
        except IndexUnavailable:
            return self._fallback.ref_commits(prefixes)
        return [(n, c) for n, c in pairs if n not in aliases]

    def _ref_tips(
        self, patterns: Iterable[str], graph: index_graph.Graph, peeled: dict[str, str]
    ) -> list[tuple[str, str]]:
        """(refname, commit) of every ref that points, directly or via tags, at a commit.

        Asking for-each-ref to peel reads every tag object (0.15 s for 3,000 refs);
        instead, names already indexed are commits, tags seen before are in `peeled`
        (a tag object never changes), and only the rest are peeled by one cat-file.
        """
        pairs = [(r.object, r.name) for r in self._listing.under(patterns)]
        objs = list(dict.fromkeys(o for o, _ in pairs))
        commits = {o for o, i in zip(objs, graph.lookup(objs).tolist(), strict=True) if i >= 0}
        unknown = [o for o in objs if o not in commits and o not in peeled]
        if unknown:
            lines = (
                self.repo.git(
                    ["cat-file", "--batch-check=%(objecttype) %(objectname)"],
                    input="".join(f"{o}^{{commit}}\n" for o in unknown).encode(),
                    check=False,
                )
                .stdout.decode(errors="replace")
                .splitlines()
            )
            for o, line in zip(unknown, lines, strict=False):
                kind, _, sha = line.partition(" ")
                if kind == "commit" and sha == o:
                    commits.add(o)  # a commit not indexed yet
                else:
                    peeled[o] = sha if kind == "commit" else ""
                    self._peeled_new[o] = peeled[o]
                    self._peeled_changed = True
        tips = []
        for o, name in pairs:
            commit = o if o in commits else peeled.get(o, "")
            if commit:
                tips.append((name, commit))
        return tips

    def _ids(self, commits: Sequence[str]) -> np.ndarray:
        """Index ids of `commits`, indexing the missing ones that are commits."""
        ids = self.graph.lookup(commits)
        missing = [c for c, i in zip(commits, ids.tolist(), strict=True) if i < 0]
        if missing:
            real = list(self._fallback.present(missing))
            if real:
                self._update(real)
                ids = self.graph.lookup(commits)
        return ids

    # -- Reachability -----------------------------------------------------------------

    def present(self, candidates: Collection[str]) -> set[str]:
        cands = list(dict.fromkeys(candidates))
        try:
            ids = self.graph.lookup(cands)
        except IndexUnavailable:
            return self._fallback.present(cands)
        indexed = {c for c, i in zip(cands, ids.tolist(), strict=True) if i >= 0}
        others = [c for c in cands if c not in indexed]
        return indexed | (self._fallback.present(others) if others else set())

    def ancestors(self, target: str, candidates: Collection[str]) -> Answer:
        try:
            t = self._ids([target])
        except IndexUnavailable:
            return self._fallback.ancestors(target, candidates)
        if t[0] < 0:
            return self._fallback.ancestors(target, candidates)
        graph = self.graph
        bound = index_query.reach_down(graph, int(t[0]))
        return self._answer(target, bound, candidates)

    def _answer(self, target: str, bound: np.ndarray, candidates: Collection[str]) -> Answer:
        graph = self.graph
        cands = list(dict.fromkeys(candidates))
        ids = graph.lookup(cands)
        inside = ids >= 0
        reached = np.zeros(len(cands), dtype=bool)
        if inside.any():
            reached[inside] = index_query.below(graph, bound, ids[inside])
        crossed = bool(graph.shallow.shape[0]) and bool(
            index_query.below(graph, bound, graph.shallow).any()
        )
        answer = Answer(target)
        not_reached = []
        for c, hit in zip(cands, reached.tolist(), strict=True):
            if hit:
                answer.reachable.add(c)
            else:
                not_reached.append(c)
        if not not_reached:
            return answer
        answer.settle(
            not_reached,
            self.present(not_reached),
            crossed_boundary=crossed,
            partial=self.repo.partial,
        )
        return answer

    def ancestors_many(
        self, targets: Collection[str], candidates: Collection[str]
    ) -> dict[str, Answer]:
        targets = list(dict.fromkeys(targets))
        cands = list(dict.fromkeys(candidates))
        try:
            # One call, so that both sets of ids come from the same index.
            ids = self._ids([*targets, *cands])
            tids, cids = ids[: len(targets)], ids[len(targets) :]
        except IndexUnavailable:
            return self._fallback.ancestors_many(targets, cands)
        graph = self.graph
        few_targets = len(targets) <= max(4, len(cands) // 200)
        if few_targets or graph.shallow.shape[0] or (tids < 0).any():
            return {t: self.ancestors(t, cands) for t in targets}
        # Many targets (records x every ref): one matrix, walking up from the
        # candidates (see `contains_matrix`) rather than down from every target.
        known = cids >= 0
        known_cands = [c for c, k in zip(cands, known.tolist(), strict=True) if k]
        matrix = index_query.contains_matrix(graph, cids[known], tids)
        present = self.present(cands)
        missing = [c for c in cands if c not in present]  # never reached by anything
        # One nonzero() for the whole matrix: one per target cost 13 ms on 3,000 refs.
        held: list[set[str]] = [set() for _ in targets]
        rows, cols = np.nonzero(matrix)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            held[j].add(known_cands[i])
        result = {}
        partial = self.repo.partial
        for j, t in enumerate(targets):
            answer = Answer(t, reachable=held[j])
            (answer.unknown if partial else answer.absent).update(missing)
            result[t] = answer
        return result

    def refs_containing(
        self, commit: str, patterns: Iterable[str] = ("refs/heads", "refs/remotes")
    ) -> list[str]:
        return self.refs_containing_many([commit], patterns)[commit]

    def refs_containing_many(
        self, commits: Collection[str], patterns: Iterable[str] = ("refs/heads", "refs/remotes")
    ) -> dict[str, list[str]]:
        """For each commit, the refs (matching `patterns`) whose history contains it."""
        patterns = list(patterns)
        commits = list(dict.fromkeys(commits))
        try:
            # The refs and their ids are read once per process: `check` asks this for
            # every poisoned record's cures.
            cached = self._tips.get(tuple(patterns))
            if cached is None:
                stored = self._load()
                tips = [
                    (n, s)
                    for n, s in self._ref_tips(patterns, stored.graph, stored.peeled)
                    if not n.endswith("/HEAD")
                ]
                tip_ids = self._ids([s for _, s in tips])
                if self._peeled_changed:
                    self._save_peeled()
            else:
                tips, tip_ids, graph_then = cached
                if graph_then is not self.graph:  # rebuilt meanwhile: ids changed
                    tip_ids = self._ids([s for _, s in tips])
            before = self.graph
            cids = self._ids(commits)
            if self.graph is not before:  # indexing the commits rebuilt the index
                tip_ids = self._ids([s for _, s in tips])
            self._tips[tuple(patterns)] = (tips, tip_ids, self.graph)
        except IndexUnavailable:
            return {c: self._fallback.refs_containing(c, patterns) for c in commits}
        graph = self.graph
        result: dict[str, list[str]] = {c: [] for c in commits}
        ok_tips, ok_commits = tip_ids >= 0, cids >= 0
        names = [n for (n, _), k in zip(tips, ok_tips.tolist(), strict=True) if k]
        matrix = index_query.contains_matrix(graph, cids[ok_commits], tip_ids[ok_tips])
        found = [c for c, k in zip(commits, ok_commits.tolist(), strict=True) if k]
        for c, row in zip(found, matrix.tolist(), strict=True):
            result[c] = [n for n, h in zip(names, row, strict=True) if h]
        return result
