"""Index updates by a short walk down from the new tips, and its fall-back to git's
whole difference: both must answer exactly as git does.

The step sizes are made tiny here so that random histories exercise both ways (the
walk finishing within its steps, and running out of steps) with a few commits each.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from poison_tools.git import SourceRepo
from poison_tools.reach import index, index_delta
from poison_tools.reach.index import IndexedReach, index_path
from tests.gitrepo import git
from tests.test_index import FAST, assert_same_as_git, fast_import, histories, make_repo


@FAST
@given(
    histories(max_commits=10),
    st.lists(st.lists(st.integers(0, 10**6), min_size=1, max_size=2), min_size=1, max_size=12),
    st.integers(1, 3),
    st.integers(1, 3),
)
def test_commits_added_after_indexing_answer_as_git_with_short_or_long_walks(  # type: ignore[no-untyped-def]
    tmp_path_factory, first, more, batch, steps
) -> None:
    saved = index.NEW_COMMIT_BATCH, index.NEW_COMMIT_STEPS
    index.NEW_COMMIT_BATCH, index.NEW_COMMIT_STEPS = batch, steps
    try:
        parents, branches, tags = first
        path = tmp_path_factory.mktemp("h")
        shas = make_repo(path, parents, branches, tags)
        assert_same_as_git(path, list(shas.values()), pairs=0)
        n = len(parents)
        grown = parents + [
            tuple(dict.fromkeys(r % (n + i) for r in raw)) for i, raw in enumerate(more)
        ]
        shas = fast_import(path, grown, start=n, marks=shas)
        git(path, "update-ref", "refs/heads/grown", shas[len(grown) - 1])
        assert_same_as_git(path, list(shas.values()), pairs=4)
        after = index_delta.load(index_path(SourceRepo.discover(str(path))))
        assert after is not None and after.graph.size == len(set(shas.values()))
    finally:
        index.NEW_COMMIT_BATCH, index.NEW_COMMIT_STEPS = saved


def test_one_commit_on_a_branch_forked_long_ago_is_indexed_by_the_short_walk(
    tmp_path: Path,
) -> None:
    # master: 400 commits; lts forks at commit 5 and gets one new commit after indexing.
    path = tmp_path / "r"
    parents = [()] + [(i - 1,) for i in range(1, 400)] + [(5,)]
    shas = make_repo(path, parents[:400], [399], [])
    repo = SourceRepo.discover(str(path))
    IndexedReach(repo).update()
    shas = fast_import(path, parents, start=400, marks=shas)
    git(path, "update-ref", "refs/heads/lts", shas[400])
    reach = IndexedReach(SourceRepo.discover(str(path)))
    stored = reach._load()
    todo = [shas[400]]
    # The walk alone finds exactly the one new commit, closed under parents.
    out = reach._new_commits(todo, stored.graph)
    assert out == f"{shas[400]} {shas[5]}\n".encode()
    answer = reach.ancestors(shas[400], [shas[5], shas[6], shas[0]])
    assert answer.reachable == {shas[5], shas[0]}


def test_many_new_branches_at_once_are_all_indexed_when_the_walk_takes_few_per_step(
    tmp_path: Path,
) -> None:
    # Six new branches, each one commit on a different old commit; the walk lists one
    # commit per step at first, so the tips it did not reach must stay to do.
    path = tmp_path / "r"
    parents: list[tuple[int, ...]] = [()] + [(i - 1,) for i in range(1, 30)]
    shas = make_repo(path, parents, [29], [])
    IndexedReach(SourceRepo.discover(str(path))).update()
    grown = parents + [(3 * k,) for k in range(6)]
    shas = fast_import(path, grown, start=30, marks=shas)
    for k in range(6):
        git(path, "update-ref", f"refs/heads/new{k}", shas[30 + k])
    saved = index.NEW_COMMIT_BATCH, index.NEW_COMMIT_STEPS
    index.NEW_COMMIT_BATCH, index.NEW_COMMIT_STEPS = 1, 5  # 1, 4, 16, 64, 256 commits
    try:
        reach = IndexedReach(SourceRepo.discover(str(path)))
        out = reach._new_commits([shas[30 + k] for k in range(6)], reach._load().graph)
        assert out is not None and len(out.splitlines()) == 6
        reach.update()
    finally:
        index.NEW_COMMIT_BATCH, index.NEW_COMMIT_STEPS = saved
    after = index_delta.load(index_path(SourceRepo.discover(str(path))))
    assert after is not None and after.graph.size == 36
    assert_same_as_git(path, list(shas.values()), pairs=4)
