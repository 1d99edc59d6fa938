"""Edit a tree of the poisons repository without an index.

`git read-tree` (and so any index) refuses a tree holding `x/../e.json` or
`x/.git/e.json`: anyone with push access could plant one and stop every write. Trees
are rebuilt here with `git mktree`, only along the paths written, from the entries as
they are: every other entry is carried over byte for byte, whatever its name or mode.
"""

from __future__ import annotations

import subprocess
from typing import Protocol

from poison_tools.errors import FatalError
from poison_tools.records.record import display_path
from poison_tools.term import printable


class Git(Protocol):
    def __call__(self, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]: ...


def _name(raw: bytes) -> str:
    return printable(display_path(raw.decode("utf-8", "surrogateescape")))


def edit_tree(
    git: Git, tree: str | None, edits: dict[tuple[bytes, ...], str | None], *, top: bool = False
) -> str | None:
    """`tree` (a tree or commit id) with blobs set (an oid) or removed (None) at the
    paths of `edits` (split into raw components); None when a folder becomes empty
    (git has no empty folders), but the `top` tree always exists. An edit that would
    need a folder where a file is, or that meets two entries of one name, is refused."""
    entries: list[tuple[bytes, bytes]] = []  # (name, "mode type oid")
    if tree is not None:
        for line in git(["ls-tree", "-z", tree]).stdout.split(b"\0"):
            if line:
                meta, _, name = line.partition(b"\t")
                entries.append((name, meta))
    here: dict[bytes, str | None] = {}
    below: dict[bytes, dict[tuple[bytes, ...], str | None]] = {}
    for path, oid in edits.items():
        if len(path) == 1:
            here[path[0]] = oid
        else:
            below.setdefault(path[0], {})[path[1:]] = oid
    for name in [*here, *below]:
        found = [meta for n, meta in entries if n == name]
        if len(found) > 1:
            raise FatalError(
                f"the poisons repository holds two entries named {_name(name)!r} in one "
                "folder; nothing was recorded"
            )
        old = found[0].split() if found else None
        entries = [(n, m) for n, m in entries if n != name]
        if name in here:
            oid = here[name]
            if old is not None and old[1] != b"blob":
                raise FatalError(
                    f"cannot write {_name(name)}: "
                    "the poisons repository has a folder or link there; nothing was recorded"
                )
            if oid is not None:
                entries.append((name, b"100644 blob " + oid.encode()))
            continue
        if old is not None and old[1] != b"tree":
            if all(o is None for o in below[name].values()):
                entries.append((name, found[0]))  # nothing to remove below a file
                continue
            raise FatalError(
                f"cannot write into {_name(name)}/: "
                "the poisons repository has a file there, not a folder; nothing was recorded"
            )
        child = edit_tree(git, old[2].decode() if old is not None else None, below[name])
        if child is not None:
            entries.append((name, b"040000 tree " + child.encode()))
    if not entries and not top:
        return None
    text = b"".join(meta + b"\t" + name + b"\0" for name, meta in entries)
    return git(["mktree", "-z", "--missing"], input=text).stdout.decode().strip() or None
