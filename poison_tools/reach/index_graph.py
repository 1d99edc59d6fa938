"""The commit graph as first-parent chains: the shape the reachability index stores.

Every indexed commit sits on exactly one *chain*, a first-parent path, at a position
counted from the chain's bottom. Following first parents down a chain never leaves
it, so whatever a commit reaches on a chain is a prefix (positions 0..p) and whatever
reaches it is a suffix. Reachability then only has to follow the edges that leave a
chain, the *jumps*: the non-first parents of merges, and the first parent of each
chain's bottom. Real histories have one long chain per long-lived branch and one
short chain per merged topic, so there are far fewer jumps than commits.

This module turns `git rev-list --parents` output into chains and jumps, appending to
an existing graph (an incremental update is the same operation as a build from empty).
Nothing here looks at commit dates: they are not trustworthy (clock skew).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from poison_tools.progress import Progress, Silent

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bytes = npt.NDArray[np.bytes_]

SHIFT = 32  # a jump key is chain << SHIFT | position


def key(chain: npt.NDArray[np.integer] | int, pos: npt.NDArray[np.integer] | int) -> I64:
    return (np.asarray(chain, dtype=np.int64) << SHIFT) | np.asarray(pos, dtype=np.int64)


@dataclass
class Graph:
    """Arrays indexed by commit id (order of arrival), chain id, or jump."""

    hash_len: int  # bytes per object name: 20 (SHA-1) or 32 (SHA-256)
    sorted_names: Bytes  # raw object names of all commits, sorted, for binary search
    by_name: I32  # the commit id of each name in `sorted_names`
    name_keys: U64  # the first 8 bytes of each sorted name: numbers search faster
    chain: I32
    pos: I32
    chain_len: I32
    down_key: I64  # jumps towards parents, sorted by (chain, position) of the child
    down_chain: I32
    down_pos: I32
    up_key: I64  # the same edges reversed, sorted by (chain, position) of the parent
    up_chain: I32
    up_pos: I32
    shallow: I32  # ids of shallow-boundary commits (their parents are not here)

    @property
    def size(self) -> int:
        return int(self.sorted_names.shape[0])

    @classmethod
    def empty(cls, hash_len: int) -> Graph:
        i32, i64 = np.zeros(0, np.int32), np.zeros(0, np.int64)
        return cls(
            hash_len,
            np.zeros(0, f"S{hash_len}"),
            i32,
            np.zeros(0, np.uint64),
            i32,
            i32,
            i32,
            i64,
            i32,
            i32,
            i64,
            i32,
            i32,
            i32,
        )

    def lookup(self, hexes: Sequence[str]) -> I32:
        """Commit id of each hex object name, -1 where it is not indexed (or not a name)."""
        raw = [_raw(h, self.hash_len) for h in hexes]
        result = np.full(len(raw), -1, np.int32)
        valid = np.array([r is not None for r in raw], dtype=bool)
        if valid.any():
            want = np.array([r for r in raw if r is not None], dtype=f"S{self.hash_len}")
            result[valid] = self.lookup_raw(want)
        return result

    def lookup_raw(self, want: Bytes) -> I32:
        """Commit id of each raw object name, -1 where it is not indexed."""
        return _search(self.sorted_names, self.name_keys, self.by_name, want)


def prefix_keys(names: Bytes) -> U64:
    """The first 8 bytes of each name as a number; the order of names is kept."""
    if names.shape[0] == 0:
        return np.zeros(0, np.uint64)
    first = np.ascontiguousarray(names.view(np.uint8).reshape(names.shape[0], -1)[:, :8])
    return first.view(">u8").ravel().astype(np.uint64)


def _position(sorted_names: Bytes, keys: U64, want: Bytes) -> npt.NDArray[np.intp]:
    """Where each wanted name is, or would be inserted, in `sorted_names`."""
    wkeys = prefix_keys(want)
    at = np.searchsorted(keys, wkeys, side="left")
    # Names sharing the 8-byte prefix (practically never) are placed by full comparison.
    if keys.shape[0] == 0:
        return at
    near = np.minimum(at, keys.shape[0] - 1)
    clash = np.flatnonzero((keys[near] == wkeys) & (sorted_names[near] != want))
    if clash.shape[0]:
        at[clash] = np.searchsorted(sorted_names, want[clash])
    return at


def _search(sorted_names: Bytes, keys: U64, ids: I32, want: Bytes) -> I32:
    if sorted_names.shape[0] == 0:
        return np.full(want.shape[0], -1, np.int32)
    at = np.minimum(_position(sorted_names, keys, want), sorted_names.shape[0] - 1)
    return np.where(sorted_names[at] == want, ids[at], -1).astype(np.int32)


def _raw(hexname: str, hash_len: int) -> bytes | None:
    if len(hexname) != 2 * hash_len:
        return None
    try:
        return bytes.fromhex(hexname)
    except ValueError:
        return None


_HEX = np.full(256, 255, np.uint8)
_HEX[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)


def parse_rev_list(out: bytes, hash_len: int) -> tuple[Bytes, npt.NDArray[np.intp], Bytes]:
    """`git rev-list --parents` output as arrays, without a Python loop per line.

    Every name in that output is 2*hash_len hex digits followed by a space or a
    newline, so the output is a table of fixed-width cells: the cell after a newline
    starts a line (a commit), the others are the parents of the last commit.
    Returns (commit names, for each parent cell its line, parent names).
    """
    width = 2 * hash_len + 1
    buf = np.frombuffer(out, np.uint8)
    if buf.shape[0] % width:
        raise ValueError("unexpected git rev-list output")
    cells = buf.reshape(-1, width)
    ends = cells[:, -1] == ord("\n")
    if cells.shape[0] and (not (ends | (cells[:, -1] == ord(" "))).all() or not ends[-1]):
        raise ValueError("unexpected git rev-list output")
    nib = _HEX[cells[:, :-1]]
    if (nib == 255).any():
        raise ValueError("unexpected git rev-list output")
    raw = np.ascontiguousarray((nib[:, 0::2] << 4) | nib[:, 1::2])
    names = raw.view(f"S{hash_len}").ravel()
    starts = np.ones(cells.shape[0], dtype=bool)
    starts[1:] = ends[:-1]
    line = np.cumsum(starts) - 1
    return names[starts], line[~starts], names[~starts]


def extend(
    graph: Graph,
    rev_list: bytes,
    preferred: Sequence[str] = (),
    shallow: frozenset[str] = frozenset(),
    progress: Progress | None = None,
) -> Graph:
    """`graph` plus the commits of `git rev-list --parents` output `rev_list`.

    The output must be closed under parents relative to `graph`: every parent it names
    is either in it or already indexed (rev-list with the indexed tips negated gives
    exactly that). `preferred` tips are laid out first so that the default branch
    becomes one long chain.
    """
    commits, parent_line, parent_names = parse_rev_list(rev_list, graph.hash_len)
    return extend_parsed(graph, commits, parent_line, parent_names, preferred, shallow, progress)


def extend_parsed(
    graph: Graph,
    commits: Bytes,
    parent_line: npt.NDArray[np.intp],
    parent_names: Bytes,
    preferred: Sequence[str] = (),
    shallow: frozenset[str] = frozenset(),
    progress: Progress | None = None,
) -> Graph:
    """`extend` from the arrays `parse_rev_list` makes (or `commit_graph.read` reads):
    raw commit names, children before parents; for each parent cell the index of its
    commit; the raw parent names, in parent order."""
    progress = progress or Silent()
    hl = graph.hash_len
    # rev-list may list indexed commits again (those reachable only from tips that
    # are no longer refs): their place is already known. It never lists one twice.
    keep = graph.lookup_raw(commits) < 0
    if not keep.all():
        renumber = np.cumsum(keep) - 1
        cell_keep = keep[parent_line]
        commits = commits[keep]
        parent_line, parent_names = renumber[parent_line[cell_keep]], parent_names[cell_keep]
    m = int(commits.shape[0])
    if m == 0:
        return graph
    n0 = graph.size
    progress.start("indexing commits", m)

    order = np.argsort(commits, kind="stable")
    new_sorted, new_by_name = commits[order], (order + n0).astype(np.int32)
    new_keys = prefix_keys(new_sorted)
    pid = _search(new_sorted, new_keys, new_by_name, parent_names)
    outside = pid < 0
    if outside.any():
        pid[outside] = graph.lookup_raw(parent_names[outside])
        if (pid < 0).any():
            raise ValueError("a parent is neither listed nor indexed")
    # A parent cell's rank within its line: 0 for the first parent.
    first_cell = np.ones(parent_line.shape[0], dtype=bool)
    first_cell[1:] = parent_line[1:] != parent_line[:-1]
    fp = np.full(m, -1, np.int64)
    fp[parent_line[first_cell]] = pid[first_cell]
    first = fp.tolist()
    merge_child = (parent_line[~first_cell] + n0).astype(np.int64)
    merge_parent = pid[~first_cell].astype(np.int64)

    old_chain, old_pos = graph.chain, graph.pos
    chain_len = graph.chain_len.tolist()
    new_chain = [-1] * m
    new_pos = [0] * m
    bottoms: list[tuple[int, int]] = []  # (new chain, parent id) for each chain's bottom edge

    def chain_pos(i: int) -> tuple[int, int]:
        if i >= n0:
            return new_chain[i - n0], new_pos[i - n0]
        return int(old_chain[i]), int(old_pos[i])

    pref = [
        int(i)
        for i in _search(
            new_sorted,
            new_keys,
            new_by_name,
            np.array(
                [r for r in (_raw(t, hl) for t in preferred) if r is not None], dtype=f"S{hl}"
            ),
        )
        if i >= 0
    ]
    walk_order = pref + list(range(n0, n0 + m))
    done = 0
    for start in walk_order:
        if new_chain[start - n0] >= 0:
            continue
        path = []
        c = start
        while c >= n0 and new_chain[c - n0] < 0:
            path.append(c)
            new_chain[c - n0] = -2  # on the path being laid out
            c = first[c - n0]
        base = 0
        if c >= 0:
            pc, pp = chain_pos(c)
            if pp == chain_len[pc] - 1:
                ch, base = pc, pp + 1  # the parent is its chain's top: grow that chain
            else:
                ch = len(chain_len)
                chain_len.append(0)
                bottoms.append((ch, c))
        else:
            ch = len(chain_len)
            chain_len.append(0)
        for k, node in enumerate(reversed(path)):
            new_chain[node - n0] = ch
            new_pos[node - n0] = base + k
        chain_len[ch] = base + len(path)
        done += len(path)
        if done >= 65536:
            progress.advance(done)
            done = 0
    progress.advance(done)

    chain = np.concatenate([old_chain, np.array(new_chain, np.int32)])
    pos = np.concatenate([old_pos, np.array(new_pos, np.int32)])

    # Jumps: chain bottoms to their first parent, merges to their other parents.
    b = np.array(bottoms, np.int64).reshape(-1, 2)
    s_chain = np.concatenate([b[:, 0], chain[merge_child]]).astype(np.int32)
    s_pos = np.concatenate([np.zeros(b.shape[0], np.int64), pos[merge_child]]).astype(np.int32)
    dst = np.concatenate([b[:, 1], merge_parent])
    d_chain, d_pos = chain[dst], pos[dst]

    down = _merge_jumps(
        graph.down_key, graph.down_chain, graph.down_pos, key(s_chain, s_pos), d_chain, d_pos
    )
    up = _merge_jumps(
        graph.up_key, graph.up_chain, graph.up_pos, key(d_chain, d_pos), s_chain, s_pos
    )

    sorted_names, by_name, name_keys = _merge_sorted(graph, new_sorted, new_keys, new_by_name)
    found = _search(
        new_sorted,
        new_keys,
        new_by_name,
        np.array([r for r in (_raw(h, hl) for h in shallow) if r is not None], dtype=f"S{hl}"),
    )
    shallow_ids = found[found >= 0]
    progress.finish()
    return Graph(
        graph.hash_len,
        sorted_names,
        by_name,
        name_keys,
        chain,
        pos,
        np.array(chain_len, np.int32),
        *down,
        *up,
        np.concatenate([graph.shallow, shallow_ids]).astype(np.int32),
    )


def _merge_jumps(okey: I64, oc: I32, op: I32, nkey: I64, nc: I32, np_: I32) -> tuple[I64, I32, I32]:
    k = np.concatenate([okey, nkey])
    c = np.concatenate([oc, nc.astype(np.int32)])
    p = np.concatenate([op, np_.astype(np.int32)])
    order = np.argsort(k, kind="stable")
    return k[order], c[order], p[order]


def _merge_sorted(
    graph: Graph, new_sorted: Bytes, new_keys: U64, new_ids: I32
) -> tuple[Bytes, I32, U64]:
    """Insert the new names into the sorted order without re-sorting the old ones."""
    if graph.size == 0:
        return new_sorted, new_ids, new_keys
    at = _position(graph.sorted_names, graph.name_keys, new_sorted)
    return (
        np.insert(graph.sorted_names, at, new_sorted),
        np.insert(graph.by_name, at, new_ids).astype(np.int32),
        np.insert(graph.name_keys, at, new_keys),
    )
