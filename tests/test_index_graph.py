"""Chains and name lookup on `git rev-list --parents` text.

Real repositories cannot produce two object names sharing their first 8 bytes, so
that case (the lookup's slow path) is tested on hand-written rev-list output.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poison_tools.reach import index_graph, index_query
from poison_tools.reach.index_graph import Graph, extend


def name(prefix: str, tail: str) -> str:
    return (prefix + tail).ljust(40, "0")


def test_names_sharing_an_8_byte_prefix_are_told_apart() -> None:
    a, b, c = name("ab" * 8, "01"), name("ab" * 8, "02"), name("ab" * 8, "03")
    root = name("11", "")
    text = f"{c} {a} {b}\n{b} {root}\n{a} {root}\n{root}\n".encode()
    g = extend(Graph.empty(20), text)
    ids = g.lookup([a, b, c, root, name("ab" * 8, "04")]).tolist()
    assert min(ids[:4]) >= 0 and len(set(ids[:4])) == 4
    assert ids[4] == -1
    # Grown with yet another name of the same prefix: inserted in order.
    d = name("ab" * 8, "00")
    g2 = extend(g, f"{d} {c}\n".encode())
    assert g2.lookup([a, b, c, d]).tolist()[:3] == ids[:3]
    assert list(g2.sorted_names) == sorted(g2.sorted_names)
    down = index_query.reach_down(g2, int(g2.lookup([d])[0]))
    assert index_query.below(g2, down, g2.lookup([a, b, c, root])).all()


def test_rev_list_output_that_is_not_names_is_refused() -> None:
    with pytest.raises(ValueError):
        index_graph.parse_rev_list(b"not a name\n", 20)
    with pytest.raises(ValueError):
        index_graph.parse_rev_list(("g" * 40 + "\n").encode(), 20)


def test_merge_with_an_unindexed_parent_is_refused() -> None:
    text = f"{name('22', '')} {name('33', '')}\n".encode()
    with pytest.raises(ValueError):
        extend(Graph.empty(20), text)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_both_ways_of_moving_chain_bounds_agree(data: st.DataObject) -> None:
    # The scatter and the sort are picked by size; both must give the same bounds.
    n = data.draw(st.integers(1, 40))
    highest = data.draw(st.booleans())
    start = data.draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    jumps = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 50)), max_size=60))
    chains = np.array([c for c, _ in jumps], np.int32)
    positions = np.array([p for _, p in jumps], np.int32)
    bound = np.array(start, np.int32)
    a = index_query._scatter(bound, chains, positions, highest)
    b = index_query._sorted(bound, chains, positions, highest)
    assert a[0].tolist() == sorted(b[0].tolist())
    assert dict(zip(*map(np.ndarray.tolist, a), strict=True)) == dict(
        zip(*map(np.ndarray.tolist, b), strict=True)
    )
