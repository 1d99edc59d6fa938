"""Would `git cherry-pick <cure>` apply cleanly on a branch? Asked without a work tree.

git 2.39's `merge-tree --write-tree` has no `--merge-base`, so the cherry-pick's
three-way merge (base = the cure's parent, ours = the branch, theirs = the cure) is
staged with throwaway commits whose only common ancestor holds the cure's parent
tree. All of them are written in two `hash-object` calls and merged in one
`merge-tree --stdin`, whatever the number of questions: five git processes, not five
per question. Every object goes to a temporary object directory that borrows the
repository's objects as an alternate, so the repository itself is not touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection

from poison_tools.git import SourceRepo

_WHO = "git-poison <git-poison@localhost> 1700000000 +0000"


class CherryPickProbe:
    def __init__(self, repo: SourceRepo) -> None:
        self.repo = repo
        self._tmp: str | None = None
        self._memo: dict[tuple[str, str], bool | None] = {}

    def _env(self) -> dict[str, str]:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="git-poison-probe-")
        objects = os.path.join(self.repo.common_dir, "objects")
        return {
            "GIT_OBJECT_DIRECTORY": os.path.join(self._tmp, "objects"),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": objects,
        }

    def applies(self, target: str, cure: str) -> bool | None:
        """True: clean; False: conflicts; None: cannot tell (a merge, a root commit)."""
        return self.applies_many([(target, cure)])[(target, cure)]

    def applies_many(
        self, pairs: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], bool | None]:
        todo = [p for p in dict.fromkeys(pairs) if p not in self._memo]
        if todo:
            self._memo.update(self._probe(todo))
        return {p: self._memo.get(p) for p in pairs}

    def _probe(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], bool | None]:
        result: dict[tuple[str, str], bool | None] = dict.fromkeys(pairs)
        info = self._trees_and_parents({c for p in pairs for c in p})
        parents = {
            cure: info[cure][1][0] for _, cure in pairs if cure in info and len(info[cure][1]) == 1
        }  # a merge or a root: no answer
        info.update(self._trees_and_parents(set(parents.values())))
        cures = sorted(c for c in parents if parents[c] in info)
        env = self._env()
        bases = dict(
            zip(
                cures,
                self._write([self._commit(info[parents[c]][0], None) for c in cures], env),
                strict=True,
            )
        )
        asked = [(t, c) for t, c in pairs if c in bases and t in info]
        if not asked:
            return result
        sides = self._write(
            [self._commit(tree, bases[c]) for t, c in asked for tree in (info[t][0], info[c][0])],
            env,
        )
        lines = "".join(f"{sides[2 * i]} {sides[2 * i + 1]}\n" for i in range(len(asked)))
        proc = self.repo.git(
            ["merge-tree", "--write-tree", "--stdin", "--name-only", "--no-messages"],
            input=lines.encode(),
            check=False,
            env=env,
        )
        if proc.returncode not in (0, 1):
            return result
        fields = proc.stdout.decode(errors="replace").split("\0")
        pos = 0
        for pair in asked:
            if pos >= len(fields):
                break
            status = fields[pos]
            pos += 2  # status, tree
            while pos < len(fields) and fields[pos]:
                pos += 1  # conflicted paths
            pos += 1  # the empty field that ends this merge
            result[pair] = {"1": True, "0": False}.get(status)
        return result

    def _trees_and_parents(self, commits: set[str]) -> dict[str, tuple[str, list[str]]]:
        if not commits:
            return {}
        proc = self.repo.git(
            ["log", "--no-walk=unsorted", "--stdin", "--format=%H %T %P"],
            input="".join(c + "\n" for c in sorted(commits)).encode(),
            check=False,
        )
        out = {}
        for line in proc.stdout.decode().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                out[parts[0]] = (parts[1], parts[2:])
        return out

    @staticmethod
    def _commit(tree: str, parent: str | None) -> str:
        head = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
        return f"{head}author {_WHO}\ncommitter {_WHO}\n\ngit-poison probe\n"

    def _write(self, texts: list[str], env: dict[str, str]) -> list[str]:
        """Write commit objects; their ids in order."""
        if not texts:
            return []
        assert self._tmp is not None
        os.makedirs(os.path.join(self._tmp, "objects"), exist_ok=True)
        # Each cure's side recurs once per branch asked about: one file per distinct
        # object (a file costs ~0.5 ms to create on a busy disk; `scope` over a whole
        # matrix asks thousands).
        unique = list(dict.fromkeys(texts))
        paths = []
        for i, text in enumerate(unique):
            path = os.path.join(self._tmp, f"c{i}")
            with open(path, "w") as f:
                f.write(text)
            paths.append(path)
        out = self.repo.git(
            ["hash-object", "-w", "-t", "commit", "--stdin-paths"],
            input="".join(p + "\n" for p in paths).encode(),
            env=env,
        ).stdout.decode()
        ids = dict(zip(unique, out.split(), strict=True))
        return [ids[t] for t in texts]

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
