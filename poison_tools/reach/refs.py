"""The refs of a repository and HEAD, read by one git process per question.

A check needs the ref tips twice (the copy cache asks what moved since its last scan;
naming the branches that hold a cure asks which refs contain it), scope needs them
once more, and each listing of 3,000 refs costs a git process of 20-45 ms. One
listing serves them all, and it is started in the background as soon as a command
knows it will ask reachability questions, so git reads the refs on the other core
while Python imports and loads the records.

A listing is a snapshot: it lives as long as the `Reachability` that holds it (one
command, one push, one editor refresh), never longer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import NamedTuple

from poison_tools.git import SourceRepo, is_sha


class Ref(NamedTuple):
    name: str  # refs/heads/main
    object: str  # what the ref points at: a commit, or a tag object to peel
    symref: str  # the ref this one aliases (refs/remotes/origin/HEAD), else ""


class RefListing:
    """Every ref (`git for-each-ref`) and HEAD, read once."""

    def __init__(self, repo: SourceRepo, *, background: bool = False) -> None:
        self.repo = repo
        self._refs: list[Ref] | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(
                target=self._read_in_thread, name="ref-listing", daemon=True
            )
            self._thread.start()

    def _read_in_thread(self) -> None:
        try:
            self._refs = self._read()
        except BaseException as e:  # handed to the reader, raised where it is asked
            self._error = e

    def _read(self) -> list[Ref]:
        out = self.repo.git_out(
            ["for-each-ref", "--format=%(objectname)%00%(symref)%00%(refname)"], check=False
        )
        refs = []
        for line in out.splitlines():
            parts = line.split("\0")
            if len(parts) == 3 and parts[2]:
                refs.append(Ref(parts[2], parts[0], parts[1]))
        return refs

    def refs(self) -> list[Ref]:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            if self._error is not None:
                raise self._error
        if self._refs is None:
            self._refs = self._read()
        return self._refs

    def under(self, prefixes: Iterable[str]) -> list[Ref]:
        """The refs under any of `prefixes` (`refs/heads`, `refs/tags/`...); all for none."""
        roots = tuple(p.rstrip("/") + "/" for p in prefixes)
        refs = self.refs()
        return [r for r in refs if r.name.startswith(roots)] if roots else list(refs)

    def head(self) -> str | None:
        """The commit HEAD points at, or None (an unborn branch).

        Read from the HEAD file and the listing, which is how git resolves it; anything
        unusual (a symref to a symref, a ref backend that keeps HEAD elsewhere) is
        left to `git rev-parse`.
        """
        try:
            with open(
                os.path.join(self.repo.git_dir, "HEAD"), encoding="utf-8", errors="replace"
            ) as f:
                content = f.read(4096).strip()
        except OSError:
            content = ""
        if content.startswith("ref: "):
            name = content[5:].strip()
            for ref in self.refs():
                if ref.name == name and not ref.symref:
                    return ref.object
        elif is_sha(content):
            return content
        out = self.repo.git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], check=False)
        sha = out.stdout.decode().strip()
        return sha or None
