"""Reachability over first-parent chains (see `index_graph`), in vectorised rounds.

What a commit reaches is, per chain, a prefix: one number per chain, the highest
position reached (`reach_down`). What reaches a commit is, per chain, a suffix: the
lowest position (`reach_up`). Both are fixpoints over the jumps: when a chain's bound
moves, the jumps leaving the newly covered positions are followed, all chains of a
round at once with numpy. Every jump is followed at most once per query, and the
number of rounds is the nesting depth of branches (a handful in real histories).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from poison_tools.reach.index_graph import Graph, key

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
NONE_UP = np.iinfo(np.int32).max


def _ranges(keys: I64, lo: I64, hi: I64) -> npt.NDArray[np.intp]:
    """Indices of all `keys` in the closed intervals [lo, hi] (keys sorted)."""
    start = np.searchsorted(keys, lo, side="left")
    stop = np.searchsorted(keys, hi, side="right")
    lengths = np.maximum(stop - start, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.intp)
    # Concatenated aranges without a Python loop.
    offsets = np.repeat(start - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(total) + offsets


def _improve(bound: I32, chains: I32, positions: I32, highest: bool) -> tuple[I32, I32, I32]:
    """Raise (or lower) `bound` by the jumps' targets; return the chains that moved,
    their new and their old bounds."""
    # Many jumps at once (the first round from a mainline tip): a scatter over a copy
    # of the bounds beats sorting the jumps; a few: sorting them beats the copy.
    pick = _scatter if chains.shape[0] * 16 > bound.shape[0] else _sorted
    which, new = pick(bound, chains, positions, highest)
    old = bound[which].copy()
    bound[which] = new
    return which, new, old


def _scatter(bound: I32, chains: I32, positions: I32, highest: bool) -> tuple[I32, I32]:
    moved = bound.copy()
    (np.maximum if highest else np.minimum).at(moved, chains, positions)
    which = np.flatnonzero(moved != bound).astype(np.int32)
    return which, moved[which]


def _sorted(bound: I32, chains: I32, positions: I32, highest: bool) -> tuple[I32, I32]:
    # One sort of (chain, position) packed in an int64, best position last in each
    # chain: far faster than a lexsort on two arrays.
    p64 = positions.astype(np.int64) if highest else NONE_UP - positions.astype(np.int64)
    packed = np.sort((chains.astype(np.int64) << 32) | p64)
    last = np.ones(packed.shape[0], dtype=bool)
    last[:-1] = (packed[1:] >> 32) != (packed[:-1] >> 32)
    packed = packed[last]
    c = (packed >> 32).astype(np.int32)
    low = packed & 0xFFFFFFFF
    p = (low if highest else NONE_UP - low).astype(np.int32)
    better = p > bound[c] if highest else p < bound[c]
    return c[better], p[better]


def reach_down(graph: Graph, start: int) -> I32:
    """For each chain, the highest position `start` reaches (-1: none)."""
    bound = np.full(graph.chain_len.shape[0], -1, np.int32)
    c0, p0 = int(graph.chain[start]), int(graph.pos[start])
    bound[c0] = p0
    chains = np.array([c0], np.int32)
    old = np.array([-1], np.int32)
    new = np.array([p0], np.int32)
    while chains.shape[0]:
        hit = _ranges(graph.down_key, key(chains, old + 1), key(chains, new))
        if hit.shape[0] == 0:
            break
        chains, new, old = _improve(bound, graph.down_chain[hit], graph.down_pos[hit], True)
    return bound


def reach_up(graph: Graph, start: int) -> I32:
    """For each chain, the lowest position that reaches `start` (NONE_UP: none)."""
    bound = np.full(graph.chain_len.shape[0], NONE_UP, np.int32)
    _climb(graph, bound, int(graph.chain[start]), int(graph.pos[start]))
    return bound


def _climb(graph: Graph, bound: I32, c0: int, p0: int, frozen: int = -1) -> None:
    """Lower `bound[c0]` to `p0` and propagate upwards; `frozen` is lowered, not followed."""
    old = np.array([min(int(bound[c0]), int(graph.chain_len[c0]))], np.int32)
    if p0 >= old[0]:
        return
    bound[c0] = p0
    if c0 == frozen:
        return
    chains = np.array([c0], np.int32)
    new = np.array([p0], np.int32)
    while chains.shape[0]:
        lo = key(chains, new)
        hi = key(chains, old.astype(np.int64) - 1)
        hit = _ranges(graph.up_key, lo, hi)
        if hit.shape[0] == 0:
            break
        tc, tp, old = _improve(bound, graph.up_chain[hit], graph.up_pos[hit], False)
        old = np.minimum(old, graph.chain_len[tc])
        follow = tc != frozen
        chains, new, old = tc[follow], tp[follow], old[follow]


def contains_matrix(graph: Graph, commits: I32, tips: I32) -> npt.NDArray[np.bool_]:
    """m[i, j]: does the history of `tips[j]` contain `commits[i]`? (all ids indexed)

    Asked one commit at a time, an old commit costs a walk over most of the graph.
    But nearly everything above an old commit is reached through the longest chain
    (the mainline), so each commit is followed only until it enters that chain, at
    some lowest position q; what lies above the mainline from q is computed once for
    all commits, in one sweep down the mainline, reusing each step's work.
    """
    result = np.zeros((commits.shape[0], tips.shape[0]), dtype=bool)
    if commits.shape[0] == 0 or tips.shape[0] == 0:
        return result
    hub = int(np.argmax(graph.chain_len))
    tip_chain, tip_pos = graph.chain[tips], graph.pos[tips]
    entry = np.full(commits.shape[0], NONE_UP, np.int64)
    blank = np.full(graph.chain_len.shape[0], NONE_UP, np.int32)
    for i, c in enumerate(commits.tolist()):
        bound = blank.copy()
        _climb(graph, bound, int(graph.chain[c]), int(graph.pos[c]), frozen=hub)
        result[i] = tip_pos >= bound[tip_chain]
        entry[i] = bound[hub]
    # The sweep: from the mainline's top down to the lowest entry point.
    bound = np.full(graph.chain_len.shape[0], NONE_UP, np.int32)
    order = np.argsort(-entry, kind="stable")
    last_q, row = -1, np.zeros(tips.shape[0], dtype=bool)
    for i in order.tolist():
        q = int(entry[i])
        if q == NONE_UP:
            continue
        if q != last_q:
            _climb(graph, bound, hub, q)
            row = tip_pos >= bound[tip_chain]
            last_q = q
        result[i] |= row
    return result


def below(graph: Graph, bound: I32, ids: I32) -> npt.NDArray[np.bool_]:
    """Which `ids` (all indexed) lie inside a `reach_down` result."""
    return graph.pos[ids] <= bound[graph.chain[ids]]


def above(graph: Graph, bound: I32, ids: I32) -> npt.NDArray[np.bool_]:
    """Which `ids` (all indexed) lie inside a `reach_up` result."""
    return graph.pos[ids] >= bound[graph.chain[ids]]
