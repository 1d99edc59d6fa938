"""`GitWalk`: the reachability question answered with plain git, batched: one
`git cat-file` and one `git rev-list` walk per target, never one git process per
record. It is the reference the index (`reach.index`) is tested against, and the
engine with `GIT_POISON_INDEX=0`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from poison_tools import git
from poison_tools.git import SourceRepo
from poison_tools.reach.answer import Answer
from poison_tools.reach.refs import RefListing


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
        out = self.repo.git_out(
            [
                "for-each-ref",
                "--format=%(objecttype)%00%(objectname)"
                "%00%(*objecttype)%00%(*objectname)%00%(symref)%00%(refname)",
                *roots,
            ]
        )
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
            # Stopped early only once nothing more can change the answer; a walk that
            # git could not finish (a missing commit) raises GitError: no answer.
            with git.stream(
                ["--git-dir", self.repo.git_dir, "rev-list", "--end-of-options", target]
            ) as out:
                for raw in out:
                    sha = raw[:-1].decode()
                    if sha in shallow:
                        crossed_boundary = True
                    if sha in wanted:
                        answer.reachable.add(sha)
                        wanted.discard(sha)
                        if not wanted and (crossed_boundary or not shallow):
                            break
        answer.settle(
            cands - answer.reachable,
            present,
            crossed_boundary=crossed_boundary,
            partial=self.repo.partial,
        )
        return answer

    def ancestors_many(
        self, targets: Collection[str], candidates: Collection[str]
    ) -> dict[str, Answer]:
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
