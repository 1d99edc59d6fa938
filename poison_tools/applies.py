"""Would `git cherry-pick <cure>` apply cleanly on a branch? Asked without a work tree.

git 2.39's `merge-tree --write-tree` has no `--merge-base`, so the cherry-pick's
three-way merge (base = the cure's parent, ours = the branch, theirs = the cure) is
staged with three throwaway commits whose only common ancestor is the cure's parent
tree. Every object this writes goes to a temporary object directory that borrows
the repository's objects as an alternate, so the repository itself is not touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from poison_tools.git import SourceRepo

_IDENT = {"GIT_AUTHOR_NAME": "git-poison", "GIT_AUTHOR_EMAIL": "git-poison@localhost",
          "GIT_COMMITTER_NAME": "git-poison", "GIT_COMMITTER_EMAIL": "git-poison@localhost",
          "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}


class CherryPickProbe:
    def __init__(self, repo: SourceRepo) -> None:
        self.repo = repo
        self._tmp: str | None = None
        self._memo: dict[tuple[str, str], bool | None] = {}

    def _env(self) -> dict[str, str]:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="git-poison-probe-")
        objects = os.path.join(self.repo.common_dir, "objects")
        return {**_IDENT, "GIT_OBJECT_DIRECTORY": self._tmp,
                "GIT_ALTERNATE_OBJECT_DIRECTORIES": objects}

    def applies(self, target: str, cure: str) -> bool | None:
        """True: clean; False: conflicts; None: cannot tell (a merge, a root commit)."""
        key = (target, cure)
        if key not in self._memo:
            self._memo[key] = self._probe(target, cure)
        return self._memo[key]

    def _probe(self, target: str, cure: str) -> bool | None:
        env = self._env()
        parents = self.repo.git_out(["rev-list", "--parents", "-n1", cure], check=False).split()
        if len(parents) != 2:
            return None  # a root commit or a merge: cherry-pick needs -m, say nothing
        base = self._commit(f"{parents[1]}^{{tree}}", [], env)
        ours = self._commit(f"{target}^{{tree}}", [base], env)
        theirs = self._commit(f"{cure}^{{tree}}", [base], env)
        if not (base and ours and theirs):
            return None
        proc = self.repo.git(["merge-tree", "--write-tree", "--no-messages", ours, theirs],
                             check=False, env=env)
        if proc.returncode in (0, 1):
            return proc.returncode == 0
        return None

    def _commit(self, tree: str, parents: list[str | None], env: dict[str, str]) -> str | None:
        args = ["commit-tree", tree, "-m", "git-poison probe"]
        for p in parents:
            if p is None:
                return None
            args += ["-p", p]
        proc = self.repo.git(args, check=False, env=env)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
