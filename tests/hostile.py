"""Hostile content planted into a poisons repository with real git.

`git add` refuses some of the paths an attacker can put in a tree (`x/../e.json`,
`x/.git/e.json`), so the tree is built with `git mktree`, committed on top of the
branch tip with `git commit-tree` in a scratch repository, and `git push`ed into the
poisons repository, exactly as someone with push access could.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.gitrepo import Repo, git


def run(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def _tree(scratch: Path, base: str | None, files: dict[tuple[bytes, ...], bytes]) -> str:
    """`base` (a tree id or None) with `files` (path components -> content) added."""
    entries: dict[bytes, bytes] = {}
    if base:
        for line in run(scratch, "ls-tree", "-z", base).split(b"\0"):
            if line:
                meta, _, name = line.partition(b"\t")
                entries[name] = meta
    here = {p[0]: c for p, c in files.items() if len(p) == 1}
    below: dict[bytes, dict[tuple[bytes, ...], bytes]] = {}
    for p, c in files.items():
        if len(p) > 1:
            below.setdefault(p[0], {})[p[1:]] = c
    for name, content in here.items():
        oid = run(scratch, "hash-object", "-w", "--stdin", input=content).strip()
        entries[name] = b"100644 blob " + oid
    for name, sub in below.items():
        old = entries.get(name, b"").split()
        child = _tree(
            scratch, old[2].decode() if len(old) == 3 and old[1] == b"tree" else None, sub
        )
        entries[name] = b"040000 tree " + child.encode()
    text = b"".join(meta + b"\t" + name + b"\0" for name, meta in entries.items())
    return run(scratch, "mktree", "-z", input=text).decode().strip()


def plant(poisons: Path, branch: str, files: dict[bytes, bytes], message: str = "hostile") -> str:
    """Commit `files` (raw path -> content) on `branch` of the poisons repository at
    `poisons` (a bare repository) and push it there; the new commit."""
    scratch = poisons.parent / (poisons.name + "-scratch")
    if not scratch.exists():
        run(poisons.parent, "init", "-q", "--bare", str(scratch))
    run(scratch, "fetch", "-q", str(poisons), f"+refs/heads/{branch}:refs/heads/base")
    base_tree = run(scratch, "rev-parse", "refs/heads/base^{tree}").decode().strip()
    tree = _tree(scratch, base_tree, {tuple(p.split(b"/")): c for p, c in files.items()})
    commit = (
        run(scratch, "commit-tree", tree, "-p", "refs/heads/base", "-m", message, input=b"")
        .decode()
        .strip()
    )
    run(scratch, "push", "-q", str(poisons), f"{commit}:refs/heads/{branch}")
    return commit


def project(repo: Repo) -> str:
    return json.loads(repo.poison("list", "--json", "--all").out)["project"]  # type: ignore[no-any-return]


def store_of(repo: Repo) -> Path:
    return repo.path / ".git" / "poison"


def legacy(poison: str, comment: str, cure: str | None = None) -> bytes:
    return json.dumps(
        {"poison": poison, "cure": cure, "comment": comment, "editor": "Old <o@x>"}
    ).encode()


def records_cache(repo: Repo) -> Path:
    return store_of(repo) / "git-poison-records.json"


__all__ = ["git"]
