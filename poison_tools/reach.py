"""Which of these commits are ancestors of that one?

Every verdict of git-poison reduces to this batched question. `Reachability` is the
interface the rest of the code asks; `GitWalk` answers it with one `git cat-file`
and one `git rev-list` walk per target, never one git process per record.

An answer has three parts because a missing commit means different things: in a
complete clone a commit that is not in the object database cannot be an ancestor
(`absent`); beyond a shallow boundary, or in a partial clone, it may be (`unknown`).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from poison_tools import git
from poison_tools.git import SourceRepo
from poison_tools.progress import Progress
from poison_tools.refs import RefListing


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

    def settle(self, not_reached: Iterable[str], present: Collection[str], *,
               crossed_boundary: bool, partial: bool) -> None:
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
        """The refs these answers are about, read once (`poison_tools.refs`)."""
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

    def ancestors_many(self, targets: Collection[str], candidates: Collection[str]) -> dict[str, Answer]:
        """The records x refs matrix: one Answer per target."""
        ...

    def refs_containing(self, commit: str, patterns: Iterable[str] = ...) -> list[str]: ...

    def refs_containing_many(
        self, commits: Collection[str], patterns: Iterable[str] = ...
    ) -> dict[str, list[str]]:
        """For each commit, the refs whose history contains it (one question for all)."""
        ...


class GitWalk:
    """Answer reachability questions with plain git, batched."""

    def __init__(self, repo: SourceRepo) -> None:
        self.repo = repo
        self._present: dict[str, bool] = {}
        self._listing: RefListing | None = None
        self.notices: list[str] = []  # no cache of its own: always empty

    @property
    def listing(self) -> RefListing:
        if self._listing is None:
            self._listing = RefListing(self.repo)
        return self._listing

    def ref_commits(self, prefixes: Iterable[str]) -> list[tuple[str, str]]:
        roots = [p.rstrip("/") for p in prefixes]
        if not roots:
            return []
        out = self.repo.git_out(["for-each-ref", "--format=%(objecttype)%00%(objectname)"
                                 "%00%(*objecttype)%00%(*objectname)%00%(symref)%00%(refname)",
                                 *roots])
        pairs = []
        for line in out.splitlines():
            otype, oid, ptype, pid, symref, ref = line.split("\0")
            commit = oid if otype == "commit" else pid if ptype == "commit" else None
            if commit is not None and not symref:  # a tag of a tree or blob has no history
                pairs.append((ref, commit))
        return pairs

    def present(self, candidates: Collection[str]) -> set[str]:
        """The candidates that are commits in the object database."""
        todo = [c for c in dict.fromkeys(candidates) if c not in self._present]
        if todo:
            out = self.repo.git(
                ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                input="".join(c + "\n" for c in todo).encode(),
            ).stdout.decode()
            for line in out.splitlines():
                parts = line.split()
                if len(parts) >= 2 and parts[1] in ("missing", "ambiguous"):
                    self._present[parts[0]] = False
                elif len(parts) >= 2:
                    self._present[parts[0]] = parts[1] == "commit"
            for c in todo:
                self._present.setdefault(c, False)
        return {c for c in candidates if self._present.get(c)}

    def ancestors(self, target: str, candidates: Collection[str]) -> Answer:
        answer = Answer(target)
        cands = set(candidates)
        present = self.present(cands)
        shallow = self.repo.shallow_commits()
        crossed_boundary = False
        wanted = set(present)
        if target in wanted:
            answer.reachable.add(target)
            wanted.discard(target)
        if wanted or shallow:
            proc = subprocess.Popen(
                ["git", "--git-dir", self.repo.git_dir, "rev-list", "--end-of-options", target],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                env=git.clean_env(),
            )
            assert proc.stdout is not None
            for raw in proc.stdout:
                sha = raw[:-1].decode()
                if sha in shallow:
                    crossed_boundary = True
                if sha in wanted:
                    answer.reachable.add(sha)
                    wanted.discard(sha)
                    # Stop early only once nothing more can change the answer.
                    if not wanted and (crossed_boundary or not shallow):
                        break
            proc.kill()
            proc.wait()
        answer.settle(cands - answer.reachable, present,
                      crossed_boundary=crossed_boundary, partial=self.repo.partial)
        return answer

    def ancestors_many(self, targets: Collection[str], candidates: Collection[str]) -> dict[str, Answer]:
        return {t: self.ancestors(t, candidates) for t in dict.fromkeys(targets)}

    def refs_containing(
        self, commit: str, patterns: Iterable[str] = ("refs/heads", "refs/remotes")
    ) -> list[str]:
        out = self.repo.git_out(
            ["for-each-ref", "--format=%(refname)", f"--contains={commit}", *patterns],
            check=False,
        )
        return [r for r in out.splitlines() if r and not r.endswith("/HEAD")]

    def refs_containing_many(
        self, commits: Collection[str], patterns: Iterable[str] = ("refs/heads", "refs/remotes")
    ) -> dict[str, list[str]]:
        patterns = list(patterns)
        return {c: self.refs_containing(c, patterns) for c in dict.fromkeys(commits)}


def refs_holding(reach: Reachability, commits: Iterable[str]) -> dict[str, list[str]]:
    """The branches holding each commit that is in this clone, in one question; a
    commit that is not here holds nowhere (and is left out)."""
    wanted = list(dict.fromkeys(commits))
    present = reach.present(wanted) if wanted else set()
    if not present:
        return {}
    return reach.refs_containing_many([c for c in wanted if c in present])


def cherry_pick_line(commit: str) -> str:
    """The line that carries a cure onto the current branch, as every face prints it."""
    return f"git cherry-pick -x {commit}"


def warm_index_imports() -> None:
    """Start importing numpy (0.1-0.2 s) on another thread, for the index to use.

    A check first waits for git (the repository, the records, a fetch, the copy
    cache); the import runs on the other core meanwhile. Only numpy, which imports
    nothing of ours, so the two threads never wait on each other's imports.
    """
    if os.environ.get("GIT_POISON_INDEX") == "0" or os.environ.get("GIT_POISON_NO_WARM") == "1":
        return

    def run() -> None:
        try:
            import numpy  # noqa: F401
        except Exception:  # the index reports it, if it is used at all
            pass

    threading.Thread(target=run, name="warm-numpy", daemon=True).start()


def reachability(repo: SourceRepo, progress: Progress | None = None) -> Reachability:
    """The engine every command uses: the index (`poison_tools.index`), or plain git
    with `GIT_POISON_INDEX=0` (the reference the index is tested against)."""
    if os.environ.get("GIT_POISON_INDEX") == "0":
        return GitWalk(repo)
    # Imported here, and numpy only at the first question (`index._OnFirstUse`):
    # it costs a tenth of a second that commands without such questions should not pay.
    from poison_tools.index import IndexedReach

    return IndexedReach(repo, progress, prefetch_refs=True)
