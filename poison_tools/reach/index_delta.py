"""The commits indexed since the graph file was written: `graph.delta`, beside it.

Writing the whole graph after every push cost 0.17 s of the pre-push hook's 0.4 s on
1,000,000 commits (41 MB written and checksummed, then checksummed again by the next
reader, issue 12). An update now writes only what it added: the `git rev-list
--parents` lines of its new commits (and the tags it peeled), as one more block of
the delta. Readers map the graph and replay the delta on top of it
(`index_graph.extend_parsed`, the operation an update does in memory): the same
answers as the whole file. Past `MAX_COMMITS` commits or `MAX_BLOCKS` updates, or on
`git poison index`, the next write is the whole graph again and the delta is dropped.

Layout: `MAGIC`, then blocks, each an 8-byte length, the 4-byte CRC-32 of its payload
and the payload (little-endian). The first block is the header: JSON with the format
version and the identity of the graph file it extends (`index_file.Stored.file_id`:
its size and trailing CRC-32, which covers its fingerprint and every name). A delta
whose header names another graph (an older one, left by a writer that died between
writing the graph and removing the delta) is ignored: its commits are found again.
Every other block is one update: a JSON line (the tips laid out first, new shallow-
boundary commits, newly peeled tags), a newline, then the rev-list lines.

The delta is small, so it is rewritten whole with one block more (temporary file +
`os.replace`), never appended to in place: a reader sees the old delta or the new one,
never a half-written block. A block that fails its length or CRC check (a torn or
damaged file) makes the whole delta unbelievable: it is dropped with one notice and
its commits are indexed again from git. Writers hold the index's build lock.
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Any

import numpy as np

from poison_tools import cachefile
from poison_tools.reach import index_file, index_graph

SUFFIX = ".delta"
MAGIC = b"git-poison-index-delta\n"
VERSION = 1
_FRAME = 12  # 8-byte payload length, 4-byte CRC-32 of the payload
# When the next write is the whole graph instead. Every command replays the delta:
# ~2 microseconds per commit and a JSON line per block, on top of one copy of the
# graph's arrays (~5 ms on 1,000,000 commits, paid whatever the delta's size). 2,000
# commits keep that under ~10 ms while a push of a few commits at a time merges about
# once per 100 pushes: one full rewrite (0.1-0.2 s) instead of a hundred.
MAX_COMMITS = 2000
MAX_BLOCKS = 100
# A delta larger than this was not written by us (MAX_COMMITS lines are ~200 kB).
MAX_BYTES = 16 * 1024 * 1024


class DamagedDelta(ValueError):
    pass


def delta_path(graph_path: str) -> str:
    return graph_path + SUFFIX


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(8, "little") + zlib.crc32(payload).to_bytes(4, "little") + payload


def block(
    rev_list: bytes, preferred: list[str], shallow: frozenset[str], peeled: dict[str, str]
) -> bytes:
    """The payload of one update: what `extend` needs to lay its commits out again."""
    meta = {"preferred": preferred, "shallow": sorted(shallow), "peeled": peeled}
    return json.dumps(meta).encode() + b"\n" + rev_list


def commits_in(payload: bytes) -> int:
    return payload.count(b"\n") - 1


def fits(stored: index_file.Stored, payload: bytes) -> bool:
    """Whether `payload` may join the delta of `stored` rather than a whole rewrite."""
    return (
        bool(stored.file_id)
        and len(stored.delta) < MAX_BLOCKS
        and stored.delta_commits + commits_in(payload) <= MAX_COMMITS
    )


def write(path: str, graph_id: str, payloads: list[bytes]) -> None:
    """The delta extending the graph file `graph_id`, written whole and swapped in."""
    header = json.dumps({"version": VERSION, "graph": graph_id}).encode()
    data = b"".join([MAGIC, _frame(header), *(_frame(p) for p in payloads)])
    # The graph's prefix: its writer removes abandoned temporary files of both.
    cachefile.replace(path, data, ".graph-")


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read(path: str, graph_id: str) -> list[bytes] | None:
    """The update payloads of the delta at `path` if it extends the graph `graph_id`;
    None when there is none or it extends another graph; DamagedDelta otherwise."""
    try:
        data = cachefile.read_regular(path, MAX_BYTES)
    except FileNotFoundError:
        return None
    except OSError as e:  # NotRegular included: a FIFO, a directory, too large
        raise DamagedDelta(
            str(e) if isinstance(e, cachefile.NotRegular) else f"cannot read it: {e.strerror}"
        ) from None
    if not data.startswith(MAGIC):
        raise DamagedDelta("not a git-poison index delta")
    payloads = []
    at = len(MAGIC)
    while at < len(data):
        if len(data) - at < _FRAME:
            raise DamagedDelta("torn block")
        size = int.from_bytes(data[at : at + 8], "little")
        crc = int.from_bytes(data[at + 8 : at + _FRAME], "little")
        if size > len(data) - at - _FRAME:
            raise DamagedDelta("torn block")
        payload = data[at + _FRAME : at + _FRAME + size]
        if zlib.crc32(payload) != crc:
            raise DamagedDelta("checksum mismatch")
        payloads.append(payload)
        at += _FRAME + size
    if not payloads:
        raise DamagedDelta("no header")
    try:
        header = json.loads(payloads[0])
    except ValueError:
        raise DamagedDelta("unreadable header") from None
    if not isinstance(header, dict) or header.get("version") != VERSION:
        # Another format: written by another version of git-poison, replaced quietly.
        return None
    if header.get("graph") != graph_id:
        return None
    return payloads[1:]


def apply(stored: index_file.Stored, payloads: list[bytes]) -> index_file.Stored:
    """`stored` with the delta's commits and peeled tags, as one extend of its graph
    (one copy of the arrays, however many blocks). DamagedDelta if they do not fit."""
    if not payloads:
        return stored
    hl = stored.graph.hash_len
    commits, lines, parents = [], [], []
    preferred: list[str] = []
    shallow: set[str] = set()
    peeled = dict(stored.peeled)
    count = 0
    try:
        for payload in payloads:
            meta_raw, _, rev_list = payload.partition(b"\n")
            meta: Any = json.loads(meta_raw)
            if not isinstance(meta, dict):
                raise DamagedDelta("block header is not a mapping")
            preferred = [str(t) for t in meta["preferred"]]
            shallow.update(str(s) for s in meta["shallow"])
            peeled.update({str(k): str(v) for k, v in dict(meta["peeled"]).items()})
            c, line, p = index_graph.parse_rev_list(rev_list, hl)
            commits.append(c)
            lines.append(line + count)
            parents.append(p)
            count += int(c.shape[0])
        names = np.concatenate(commits)
        parent_line = np.concatenate(lines)
        parent_names = np.concatenate(parents)
        # Each commit once (two writers that could not lock may both have listed it).
        _, first = np.unique(names, return_index=True)
        if first.shape[0] != names.shape[0]:
            keep = np.zeros(names.shape[0], dtype=bool)
            keep[first] = True
            renumber = np.cumsum(keep) - 1
            cells = keep[parent_line]
            names, parent_line = names[keep], renumber[parent_line[cells]]
            parent_names = parent_names[cells]
        graph = index_graph.extend_parsed(
            stored.graph, names, parent_line, parent_names, preferred, frozenset(shallow)
        )
    except DamagedDelta:
        raise
    except (ValueError, KeyError, TypeError) as e:  # a parent neither listed nor indexed
        raise DamagedDelta(f"malformed: {e.__class__.__name__}") from None
    return index_file.Stored(
        graph,
        stored.fingerprint,
        stored.tips,
        stored.chains_at_build,
        peeled,
        stored.file_id,
        list(payloads),
        sum(commits_in(p) for p in payloads),
    )


def load(graph_path: str, notices: list[str] | None = None) -> index_file.Stored | None:
    """The graph file at `graph_path` with its delta applied (`index_file.read` for the
    graph's own errors). A damaged delta is removed, told in `notices`, and the graph
    alone returned: the commits it held are indexed again from git."""
    stored = index_file.read(graph_path, notices)
    if stored is None:
        return None
    path = delta_path(graph_path)
    try:
        payloads = read(path, stored.file_id)
        return stored if payloads is None else apply(stored, payloads)
    except DamagedDelta as e:
        if notices is not None:
            notices.append(f"reachability index delta damaged ({e}), dropped: {path}")
        _discard(path)
        return stored


def _discard(path: str) -> None:
    """Remove a damaged delta (a directory in its place stays, and is told each time)."""
    try:
        os.unlink(path)
    except OSError:
        pass
