"""git's commit-graph file(s), read directly into the arrays the reachability index needs.

Building the index needs every commit and its parents. `git rev-list --parents` over a
million commits costs ~3.4 s with the parsing of its output, almost all of it writing
and reading hex; git's commit-graph (`objects/info/commit-graph`, or the split chain
under `objects/info/commit-graphs/`) already holds the same facts as arrays: sorted
object names, and for each commit the positions of its parents and its topological
level. Reading those with numpy, no Python loop per commit, takes about 0.2 s.

`read()` returns what `index_graph.parse_rev_list` makes of rev-list's output, laid out
the same way, children before parents. The file is untrusted input: anything
inconsistent (sizes, offsets, order, positions, levels, the chain) raises
`CorruptGraph`, never another exception. Damage that stays consistent (a changed byte
inside a name, a parent position changed to another valid one) is only caught by the
trailing checksum, checked on request (`checksum=True`): hashing costs as much as the
rest of the read (~0.16 s for SHA-1 over a million commits), and git never checks it
when it reads the file either, so without it we believe exactly what git's own commands
believe.

When the graph must NOT be used, which the caller decides (it describes the repository
as it was written, not as git would see it now):
- replace refs (`refs/replace/`, unless `GIT_NO_REPLACE_OBJECTS`), grafts
  (`info/grafts`) and shallow clones (`shallow`): git neither writes nor reads the
  graph then, because parents differ from the commit objects';
- `core.commitGraph=false`;
- commits written after the graph are not in it (a stale graph): the caller lists
  those with rev-list; commits no longer reachable from any ref may still be in it;
- alternates: only the graph of `objects_dir` is read; a chain layer kept in an
  alternate's directory counts as missing.
"""

from __future__ import annotations

import hashlib
import mmap
import os
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Bytes = npt.NDArray[np.bytes_]
Index = npt.NDArray[np.intp]
I32 = npt.NDArray[np.int32]
U32 = npt.NDArray[np.uint32]
U8 = npt.NDArray[np.uint8]

SIGNATURE = b"CGPH"
VERSION = 1
HASH_VERSION = {20: 1, 32: 2}  # hash length in bytes -> the header's hash version
HEADER = 8
TOC_ENTRY = 12  # 4-byte chunk id, 8-byte offset
FANOUT = 256 * 4
NO_PARENT = 0x70000000
HIGH_BIT = 0x80000000  # in parent 2: the rest indexes EDGE; in EDGE: the commit's last parent
LEVEL_MAX = 0x3FFFFFFF  # topological levels are capped here (GENERATION_NUMBER_V1_MAX)

_TOC = np.dtype([("id", ">u4"), ("offset", ">u8")])


class CorruptGraph(Exception):
    """The commit-graph is inconsistent or unreadable: list commits with rev-list instead."""


@dataclass(frozen=True)
class Parents:
    """Commits and parents as `index_graph.parse_rev_list` returns them."""

    names: Bytes  # raw object names, children before parents
    parent_line: Index  # for each parent cell, the index in `names` of its commit
    parent_names: Bytes  # raw parent names, grouped by commit, in git's parent order
    generations: bool  # ordered by the graph's topological levels (else sorted here, slower)
    files: tuple[str, ...]  # the files read, base layer first

    @property
    def size(self) -> int:
        return int(self.names.shape[0])

    @property
    def rev_list(self) -> tuple[Bytes, Index, Bytes]:
        """The triple `parse_rev_list` returns."""
        return self.names, self.parent_line, self.parent_names


@dataclass
class _Layer:
    """One file's commits; parent positions are global (counted across layers)."""

    path: str
    trailer: bytes  # the checksum: the name a chain gives this file
    bases: bytes  # the BASE chunk: the hashes of the layers below, concatenated
    names: Bytes
    level: U32  # topological level: 1 for a root, 1 + the highest of the parents' else
    first: I32  # first parent, -1 for none
    second: I32  # second parent of a two-parent commit, -1 otherwise
    octopus: I32  # commits with more than two parents (their parents are in EDGE) ...
    octopus_len: I32  # ... how many beyond the first ...
    octopus_parents: I32  # ... and those, concatenated


def _single_path(objects_dir: str) -> str:
    return os.path.join(objects_dir, "info", "commit-graph")


def _chain_dir(objects_dir: str) -> str:
    return os.path.join(objects_dir, "info", "commit-graphs")


def exists(objects_dir: str) -> bool:
    """Whether git has written a commit-graph here (a single file or a split chain)."""
    return os.path.exists(_single_path(objects_dir)) or os.path.exists(
        os.path.join(_chain_dir(objects_dir), "commit-graph-chain")
    )


def read(objects_dir: str, hash_len: int, *, checksum: bool = False) -> Parents | None:
    """The commits of the repository's commit-graph, None when it has none.

    Raises CorruptGraph on anything inconsistent or unreadable. `checksum` also
    verifies each file's trailing hash.
    """
    if hash_len not in HASH_VERSION:
        raise ValueError(f"hash length {hash_len} is neither SHA-1 nor SHA-256")
    try:
        # git, too, prefers the single file when both exist.
        single = _load(_single_path(objects_dir), hash_len, 0, checksum)
    except FileNotFoundError:
        pass
    else:
        return _combine([single])
    graphs = _chain_dir(objects_dir)
    chain_path = os.path.join(graphs, "commit-graph-chain")
    seen: list[list[str]] = []
    # `git commit-graph write --split` replaces the chain file, then deletes the layers
    # it no longer needs: a layer missing from a chain that has since changed is that
    # race, worth one more try.
    while True:
        chain = _read_chain(chain_path, hash_len)
        if chain is None:
            return None
        layers: list[_Layer] = []
        base = 0
        try:
            for i, hexname in enumerate(chain):
                path = os.path.join(graphs, f"graph-{hexname}.graph")
                layer = _load(path, hash_len, base, checksum, i)
                _check_link(layer, chain[: i + 1])
                layers.append(layer)
                base += layer.names.shape[0]
        except FileNotFoundError as e:
            if chain in seen or len(seen) > 2:
                raise CorruptGraph(f"commit-graph chain layer missing: {e.filename}") from None
            seen.append(chain)
            continue
        return _combine(layers)


def _read_chain(path: str, hash_len: int) -> list[str] | None:
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise CorruptGraph(f"cannot read {path}: {e.strerror}") from None
    lines = text.split(b"\n")
    if not text.endswith(b"\n") or len(lines) < 2:
        raise CorruptGraph(f"{path}: not a list of graph files")
    chain = []
    for line in lines[:-1]:
        try:
            if len(line) != 2 * hash_len:
                raise ValueError
            bytes.fromhex(line.decode("ascii"))
        except ValueError:
            raise CorruptGraph(f"{path}: line {line[:80]!r} is not a hash") from None
        chain.append(line.decode("ascii"))
    return chain


def _check_link(layer: _Layer, chain: list[str]) -> None:
    """A layer must be the file the chain names, on top of the layers the chain lists."""
    if layer.trailer.hex() != chain[-1].lower():
        raise CorruptGraph(f"{layer.path}: its checksum is not the name the chain gives it")
    if layer.bases != b"".join(bytes.fromhex(h) for h in chain[:-1]):
        raise CorruptGraph(
            f"{layer.path}: its base graphs are not the layers below it in the chain"
        )


def _load(path: str, hash_len: int, base: int, checksum: bool, index: int = 0) -> _Layer:
    """Parse and check one file; FileNotFoundError when it does not exist."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < HEADER + TOC_ENTRY + FANOUT + hash_len:
                raise CorruptGraph(f"{path}: too short ({size} bytes) for a commit-graph")
            # Mapped, not read: only the parts used are touched, and nothing is copied
            # twice. The mapping lives as long as an array viewing it.
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as e:  # ValueError: emptied since fstat (git renames, though)
        raise CorruptGraph(f"cannot read {path}: {e}") from None
    return _parse(path, np.frombuffer(data, np.uint8), hash_len, base, checksum, index)


def _parse(path: str, buf: U8, hash_len: int, base: int, checksum: bool, index: int) -> _Layer:
    def corrupt(what: str) -> CorruptGraph:
        return CorruptGraph(f"commit-graph {path}: {what}")

    size = buf.shape[0]
    if bytes(buf[:4]) != SIGNATURE:
        raise corrupt("not a commit-graph (bad signature)")
    version, hash_version, n_chunks, n_bases = (int(x) for x in buf[4:8])
    if version != VERSION:
        raise corrupt(f"unknown version {version}")
    if hash_version != HASH_VERSION[hash_len]:
        raise corrupt(f"hash version {hash_version} does not match the repository's")
    if n_bases != index:
        raise corrupt(f"says it has {n_bases} base graphs, the chain puts {index} below it")
    toc_end = HEADER + (n_chunks + 1) * TOC_ENTRY
    if size < toc_end + FANOUT + hash_len:
        raise corrupt(f"too short for {n_chunks} chunks")
    trailer = bytes(buf[size - hash_len :])
    if checksum:
        algorithm = "sha1" if hash_len == 20 else "sha256"
        if hashlib.new(algorithm, buf[: size - hash_len].data).digest() != trailer:
            raise corrupt("checksum does not match")

    toc = np.frombuffer(buf, _TOC, n_chunks + 1, HEADER)
    ids, offsets = toc["id"].tolist(), toc["offset"].tolist()
    if ids[-1] != 0 or 0 in ids[:-1]:
        raise corrupt("chunk table is not terminated where the header says")
    if len(set(ids)) != len(ids):
        raise corrupt("a chunk appears twice")
    if offsets[0] < toc_end or offsets[-1] > size - hash_len or offsets != sorted(offsets):
        raise corrupt("chunk offsets out of order or out of the file")
    chunks = {
        i.to_bytes(4, "big"): (o, e)
        for i, o, e in zip(ids[:-1], offsets[:-1], offsets[1:], strict=True)
    }

    def chunk(name: bytes, required: bool = True) -> tuple[int, int]:
        if name not in chunks:
            if required:
                raise corrupt(f"no {name.decode()} chunk")
            return 0, 0
        start, end = chunks[name]
        return start, end - start

    at, length = chunk(b"OIDF")
    if length != FANOUT:
        raise corrupt("OID fanout chunk has the wrong size")
    fanout = np.frombuffer(buf, ">u4", 256, at).astype(np.int64)
    n = int(fanout[-1])
    if (np.diff(fanout) < 0).any():
        raise corrupt("OID fanout is not monotonic")

    at, length = chunk(b"OIDL")
    if length != n * hash_len:
        raise corrupt(f"OID lookup chunk holds {length} bytes, not {n} names")
    raw = buf[at : at + length].reshape(n, hash_len)
    if n > 1 and not _increasing(raw):
        raise corrupt("object names are not sorted")
    if (np.cumsum(np.bincount(raw[:, 0], minlength=256)) != fanout).any():
        raise corrupt("OID fanout does not match the object names")
    names: Bytes = raw.copy().view(f"S{hash_len}").ravel()

    at, length = chunk(b"CDAT")
    if length != n * (hash_len + 16):
        raise corrupt(f"commit data chunk holds {length} bytes, not {n} commits")
    # Positions and levels fit 31 bits once checked: int32 halves the memory traffic.
    cdat = np.frombuffer(
        buf,
        np.dtype(
            [
                ("tree", f"V{hash_len}"),
                ("p1", ">u4"),
                ("p2", ">u4"),
                ("level", ">u4"),
                ("date", ">u4"),
            ]
        ),
        n,
        at,
    )
    p1 = cdat["p1"].astype(np.uint32)
    p2 = cdat["p2"].astype(np.uint32)
    level = cdat["level"].astype(np.uint32) >> np.uint32(2)  # the low 2 bits belong to the date

    at, length = chunk(b"BASE", required=n_bases > 0)
    if length != n_bases * hash_len:
        raise corrupt("base graphs chunk has the wrong size")
    bases = bytes(buf[at : at + length])

    # A layer's parents are in it or below it, never above: positions < bound.
    bound = base + n
    if bound >= NO_PARENT:
        raise corrupt(f"{bound} commits: more than a commit-graph can number")
    none1, none2 = p1 == NO_PARENT, p2 == NO_PARENT
    extra = p2 >= HIGH_BIT
    bad = np.flatnonzero(
        (~none1 & (p1 >= bound)) | (~none2 & ~extra & (p2 >= bound)) | (none1 & ~none2)
    )
    if bad.shape[0]:
        i = int(bad[0])
        raise corrupt(
            f"commit {_hex(names, i)} has parent positions {int(p1[i]):#x}, "
            f"{int(p2[i]):#x} (the graph holds {bound} commits)"
        )
    first = np.where(none1, -1, p1.view(np.int32))
    second = np.where(none2 | extra, -1, p2.view(np.int32))

    octopus = np.flatnonzero(extra).astype(np.int32)
    octopus_len = octopus_parents = np.zeros(0, np.int32)
    if octopus.shape[0]:
        at, length = chunk(b"EDGE")
        if length % 4:
            raise corrupt("extra edges chunk has the wrong size")
        edges = np.frombuffer(buf, ">u4", length // 4, at).astype(np.uint32)
        parents = (edges & ~np.uint32(HIGH_BIT)).view(np.int32)
        if (parents >= bound).any():
            raise corrupt(f"an octopus parent position is out of range ({bound} commits)")
        starts = (p2[octopus] & ~np.uint32(HIGH_BIT)).astype(np.int64)
        lasts = np.flatnonzero(edges >= HIGH_BIT)
        k = np.searchsorted(lasts, starts)
        if (starts >= edges.shape[0]).any() or (k >= lasts.shape[0]).any():
            raise corrupt("an octopus merge's parents run past the extra edges chunk")
        octopus_len = (lasts[k] - starts + 1).astype(np.int32)
        octopus_parents = parents[np.repeat(starts, octopus_len) + _ranks(octopus_len)]
    return _Layer(
        path,
        trailer,
        bases,
        names,
        level,
        first,
        second,
        octopus + np.int32(base),
        octopus_len,
        octopus_parents,
    )


def _hex(names: Bytes, i: int) -> str:
    # Not names[i].hex(): numpy drops a name's trailing zero bytes.
    return names[i : i + 1].tobytes().hex()


def _ranks(lengths: I32) -> Index:
    """0, 1, ..., len-1 for each of `lengths`, concatenated."""
    total = int(lengths.sum())
    return np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _increasing(raw: U8) -> bool:
    """Whether the rows of `raw` (names) are strictly increasing as byte strings."""
    # The first 4 bytes as a number decide almost every pair; numpy's comparison of
    # byte strings, several times slower, is left for the pairs they do not.
    head = np.ascontiguousarray(raw[:, :4]).view(">u4").ravel()
    if (head[1:] < head[:-1]).any():
        return False
    tie = np.flatnonzero(head[1:] == head[:-1])
    rows = np.ascontiguousarray(raw).view(f"S{raw.shape[1]}").ravel()
    return bool((rows[tie] < rows[tie + 1]).all())


def _combine(layers: list[_Layer]) -> Parents:
    files = tuple(layer.path for layer in layers)
    _check_unique_across(layers)
    names: Bytes = np.concatenate([layer.names for layer in layers])
    n = names.shape[0]
    level = np.concatenate([layer.level for layer in layers])
    first = np.concatenate([layer.first for layer in layers])
    second = np.concatenate([layer.second for layer in layers])
    octopus = np.concatenate([layer.octopus for layer in layers])
    octopus_len = np.concatenate([layer.octopus_len for layer in layers])
    octopus_parents = np.concatenate([layer.octopus_parents for layer in layers])
    has1, has2 = first >= 0, second >= 0
    octopus_child = np.repeat(octopus, octopus_len)

    generations = bool(level.all())  # git before 2.19 wrote zeros
    if generations:
        # (A missing parent's -1 reads the last level: harmless, masked out.)
        below = (~has1 | (level[first] < level)) & (~has2 | (level[second] < level))
        low = level[octopus_parents] < level[octopus_child]
        if not (below.all() and low.all()):
            if below.all():
                c, p = (int(x[np.flatnonzero(~low)[0]]) for x in (octopus_child, octopus_parents))
            else:
                c = int(np.flatnonzero(~below)[0])
                p = int(first[c] if level[first[c]] >= level[c] else second[c])
            if not level[c] == level[p] == LEVEL_MAX:
                raise CorruptGraph(
                    f"commit-graph {files[-1]}: commit {_hex(names, c)} has level {level[c]}, "
                    f"not above its parent {_hex(names, p)}'s {level[p]}"
                )
            generations = False  # capped levels: over 2^30 commits deep
    if generations:
        # Levels strictly decrease along every edge, so this is a topological order and
        # the graph has no cycle. Sorted as (LEVEL_MAX - level) << 32 | position: a sort
        # of numbers, 15 ms for a million where a stable argsort takes 130 ms.
        key = (np.uint64(LEVEL_MAX) - level.astype(np.uint64)) << np.uint64(32)
        key |= np.arange(n, dtype=np.uint64)
        key.sort()
        order = (key & np.uint64(0xFFFFFFFF)).astype(np.intp)
    else:
        child = np.concatenate([np.flatnonzero(has1), np.flatnonzero(has2), octopus_child])
        parent = np.concatenate([first[has1], second[has2], octopus_parents])
        order = _topological(n, child, parent, files[-1])

    counts = has1.astype(np.int32) + has2
    counts[octopus] += octopus_len  # (each commit is listed once: no repeats to add up)
    counts_out = counts[order]
    starts_out = np.cumsum(counts_out) - counts_out
    start = np.empty(n, np.intp)  # the first parent cell of each commit
    start[order] = starts_out
    cells = np.empty(int(starts_out[-1] + counts_out[-1]) if n else 0, np.intp)
    cells[start[has1]] = first[has1]
    cells[start[has2] + 1] = second[has2]  # a second parent always follows a first
    if octopus.shape[0]:
        cells[np.repeat(start[octopus] + 1, octopus_len) + _ranks(octopus_len)] = octopus_parents
    return Parents(
        np.take(names, order),
        np.repeat(np.arange(n, dtype=np.intp), counts_out),
        np.take(names, cells),
        generations,
        files,
    )


def _check_unique_across(layers: list[_Layer]) -> None:
    """No commit may be in two layers (each layer's names are known to be sorted)."""
    for i, upper in enumerate(layers):
        for lower in layers[:i]:
            if lower.names.shape[0] == 0 or upper.names.shape[0] == 0:
                continue
            at = np.minimum(np.searchsorted(lower.names, upper.names), lower.names.shape[0] - 1)
            same = np.flatnonzero(lower.names[at] == upper.names)
            if same.shape[0]:
                raise CorruptGraph(
                    f"commit-graph {upper.path}: commit "
                    f"{_hex(upper.names, int(same[0]))} is also in {lower.path}"
                )


def _topological(n: int, child: Index, parent: I32, path: str) -> Index:
    """Children before parents without usable levels (Kahn's algorithm).

    Only graphs written by git before 2.19 (no levels) or histories over 2^30 commits
    deep get here: a Python loop per commit, about a second per million.
    """
    by_child = np.argsort(child, kind="stable")  # keeps each commit's parents in order
    ptr = np.searchsorted(child[by_child], np.arange(n + 1)).tolist()
    parents = parent[by_child].tolist()
    waiting = np.bincount(parent, minlength=n).tolist()  # children not yet placed
    # A stack, first parents popped first: close to --topo-order.
    stack = np.flatnonzero(np.asarray(waiting) == 0)[::-1].tolist()
    order = []
    while stack:
        c = stack.pop()
        order.append(c)
        for p in reversed(parents[ptr[c] : ptr[c + 1]]):
            waiting[p] -= 1
            if waiting[p] == 0:
                stack.append(p)
    if len(order) != n:
        raise CorruptGraph(f"commit-graph {path}: parents form a cycle")
    return np.asarray(order, np.intp)
