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
        return cls(hash_len, np.zeros(0, f"S{hash_len}"), i32, i32, i32, i32,
                   i64, i32, i32, i64, i32, i32, i32)

    def lookup(self, hexes: Sequence[str]) -> I32:
        """Commit id of each hex object name, -1 where it is not indexed (or not a name)."""
        raw = [_raw(h, self.hash_len) for h in hexes]
        result = np.full(len(raw), -1, np.int32)
        valid = np.array([r is not None for r in raw], dtype=bool)
        if self.size == 0 or not valid.any():
            return result
        want = np.array([r for r in raw if r is not None], dtype=f"S{self.hash_len}")
        at = np.minimum(np.searchsorted(self.sorted_names, want), self.size - 1)
        found = self.sorted_names[at] == want
        result[valid] = np.where(found, self.by_name[at], -1)
        return result


def _raw(hexname: str, hash_len: int) -> bytes | None:
    if len(hexname) != 2 * hash_len:
        return None
    try:
        return bytes.fromhex(hexname)
    except ValueError:
        return None


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
    progress = progress or Silent()
    lines = [line.split() for line in rev_list.split(b"\n")]
    lines = [toks for toks in lines if toks]
    if graph.size:
        # rev-list may list indexed commits again (those reachable only from tips
        # that are no longer refs): their place is already known.
        seen = graph.lookup([toks[0].decode() for toks in lines])
        lines = [toks for toks, i in zip(lines, seen.tolist(), strict=True) if i < 0]
    new_ids: dict[bytes, int] = {}
    parents: list[list[bytes]] = []
    n0 = graph.size
    for toks in lines:
        if toks[0] in new_ids:
            continue
        new_ids[toks[0]] = n0 + len(parents)
        parents.append(toks[1:])
    m = len(parents)
    if m == 0:
        return graph
    progress.start("indexing commits", m)

    # Parents that are not new must already be indexed; look them up in one batch.
    outside = sorted({p for ps in parents for p in ps if p not in new_ids})
    old_ids = dict(zip(outside, graph.lookup([p.decode() for p in outside]).tolist(), strict=True))
    missing = [p for p, i in old_ids.items() if i < 0]
    if missing:
        raise ValueError(f"parent {missing[0].decode()} is neither new nor indexed")

    def gid(name: bytes) -> int:
        i = new_ids.get(name)
        return old_ids[name] if i is None else i

    first = [gid(ps[0]) if ps else -1 for ps in parents]

    old_chain, old_pos = graph.chain, graph.pos
    chain_len = graph.chain_len.tolist()
    new_chain = [-1] * m
    new_pos = [0] * m
    bottoms: list[tuple[int, int]] = []  # (new chain, parent id) for each chain's bottom edge

    def chain_pos(i: int) -> tuple[int, int]:
        if i >= n0:
            return new_chain[i - n0], new_pos[i - n0]
        return int(old_chain[i]), int(old_pos[i])

    starts = [new_ids[t.encode()] for t in preferred if t.encode() in new_ids]
    order = starts + list(range(n0, n0 + m))
    done = 0
    for start in order:
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
    src: list[int] = []
    dst: list[int] = []
    for ch, parent in bottoms:
        src.append(-1 - ch)  # marks "bottom of chain ch" (position 0)
        dst.append(parent)
    for i, ps in enumerate(parents):
        for p in ps[1:]:
            src.append(n0 + i)
            dst.append(gid(p))
    s = np.array(src, np.int64)
    d = np.array(dst, np.int64)
    is_bottom = s < 0
    s_chain = np.where(is_bottom, -1 - s, chain[np.maximum(s, 0)]).astype(np.int32)
    s_pos = np.where(is_bottom, 0, pos[np.maximum(s, 0)]).astype(np.int32)
    d_chain, d_pos = chain[d], pos[d]

    down = _merge_jumps(graph.down_key, graph.down_chain, graph.down_pos,
                        key(s_chain, s_pos), d_chain, d_pos)
    up = _merge_jumps(graph.up_key, graph.up_chain, graph.up_pos,
                      key(d_chain, d_pos), s_chain, s_pos)

    names = np.array([bytes.fromhex(n.decode()) for n in new_ids], dtype=f"S{graph.hash_len}")
    sorted_names, by_name = _merge_sorted(graph, names, n0)

    shallow_ids = [new_ids[s.encode()] for s in shallow if s.encode() in new_ids]
    progress.finish()
    return Graph(
        graph.hash_len, sorted_names, by_name, chain, pos, np.array(chain_len, np.int32),
        *down, *up, np.concatenate([graph.shallow, np.array(shallow_ids, np.int32)]),
    )


def _merge_jumps(okey: I64, oc: I32, op: I32, nkey: I64, nc: I32, np_: I32) -> tuple[I64, I32, I32]:
    k = np.concatenate([okey, nkey])
    c = np.concatenate([oc, nc.astype(np.int32)])
    p = np.concatenate([op, np_.astype(np.int32)])
    order = np.argsort(k, kind="stable")
    return k[order], c[order], p[order]


def _merge_sorted(graph: Graph, names: Bytes, n0: int) -> tuple[Bytes, I32]:
    """Insert the new names into the sorted order without re-sorting the old ones."""
    order = np.argsort(names, kind="stable")
    new_sorted = names[order]
    ids = (order + n0).astype(np.int32)
    if n0 == 0:
        return new_sorted, ids
    at = np.searchsorted(graph.sorted_names, new_sorted)
    return (np.insert(graph.sorted_names, at, new_sorted),
            np.insert(graph.by_name, at, ids).astype(np.int32))
