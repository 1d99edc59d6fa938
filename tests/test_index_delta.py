"""Index updates go to a small delta beside the graph file, not a whole rewrite (issue 12).

Real repositories (fast-import, the real `git poison` CLI); every answer read from the
graph and its delta is compared with `GitWalk`, the git-walking reference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poison_tools.git import SourceRepo
from poison_tools.reach import index_delta
from poison_tools.reach.index import IndexedReach, index_path
from tests.gitrepo import Repo, git
from tests.test_index import FAST, History, assert_same_as_git, fast_import, histories, make_repo

NOTICE = "reachability index delta damaged"


def _identity(path: str) -> tuple[int, int, int, int]:
    st_ = os.stat(path)
    return st_.st_dev, st_.st_ino, st_.st_size, st_.st_mtime_ns


def _load(path: Path) -> index_delta.index_file.Stored:
    stored = index_delta.load(index_path(SourceRepo.discover(str(path))))
    assert stored is not None
    return stored


def _grow(
    path: Path, parents: History, more: History, shas: dict[int, str], branch: str
) -> tuple[History, dict[int, str]]:
    grown = parents + more
    shas = fast_import(path, grown, start=len(parents), marks=shas)
    git(path, "update-ref", f"refs/heads/{branch}", shas[len(grown) - 1])
    return grown, shas


def test_one_new_commit_on_a_new_branch_goes_to_the_delta_the_graph_file_untouched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r"
    parents: History = [(), (0,), (1,), (1,), (2, 3)]
    shas = make_repo(path, parents, [4], [])
    graph = index_path(SourceRepo.discover(str(path)))
    IndexedReach(SourceRepo.discover(str(path))).update()
    before = _identity(graph)
    parents, shas = _grow(path, parents, [(3,)], shas, "lts")
    IndexedReach(SourceRepo.discover(str(path))).update()
    assert _identity(graph) == before  # same inode, size and mtime: not rewritten
    stored = _load(path)
    assert stored.delta_commits == 1 and stored.graph.size == 6
    assert os.path.getsize(index_delta.delta_path(graph)) < 1000
    assert_same_as_git(path, list(shas.values()))


@FAST
@given(
    histories(max_commits=10),
    st.lists(
        st.lists(st.lists(st.integers(0, 10**6), min_size=1, max_size=2), min_size=1, max_size=4),
        min_size=1,
        max_size=3,
    ),
)
def test_merges_and_new_branches_added_in_several_updates_answer_as_git(  # type: ignore[no-untyped-def]
    tmp_path_factory, first, rounds
) -> None:
    parents, branches, tags = first
    path = tmp_path_factory.mktemp("h")
    shas = make_repo(path, parents, branches, tags)
    graph = index_path(SourceRepo.discover(str(path)))
    IndexedReach(SourceRepo.discover(str(path))).update()
    before = _identity(graph)
    for r, raw_round in enumerate(rounds):
        n = len(parents)
        # Each new commit on any earlier one, old or new: merges across updates included.
        more = [tuple(dict.fromkeys(x % (n + i) for x in raw)) for i, raw in enumerate(raw_round)]
        parents, shas = _grow(path, parents, more, shas, f"new{r}")
        assert_same_as_git(path, list(shas.values()), pairs=2)
        assert _identity(graph) == before
    stored = _load(path)
    assert stored.graph.size == len(set(shas.values()))
    # A block per round, and one per commit no ref holds that a question indexed.
    assert len(stored.delta) >= len(rounds)


def _poison_in_the_delta(repo: Repo) -> str:
    """A history indexed by a first `check`; then the bug and later work, indexed by a
    second `check` into the delta. Returns the record id."""
    for _ in range(4):
        repo.commit()
    assert repo.poison("check", timeout=60).rc == 0
    repo.branch("side")
    repo.checkout("side")
    bug = repo.commit("bug: service hangs")
    repo.checkout("master")
    repo.commit()
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    repo.commit("later work")
    record_id = repo.add_poison(bug, "service hangs")
    first = repo.poison("check", timeout=60)
    assert first.rc == 1 and record_id in first.out, first.out + first.err
    assert _load(repo.path).delta_commits == 4
    return record_id


@pytest.mark.parametrize("damage", ["torn", "flipped"])
def test_torn_or_damaged_delta_is_dropped_with_one_notice_and_the_poison_still_found(
    repo: Repo, damage: str
) -> None:
    record_id = _poison_in_the_delta(repo)
    delta = Path(index_delta.delta_path(index_path(SourceRepo.discover(str(repo.path)))))
    data = delta.read_bytes()
    if damage == "torn":  # a crash in the middle of the last block
        delta.write_bytes(data[:-7])
    else:  # one byte of a commit name in the last block
        delta.write_bytes(data[:-30] + bytes([data[-30] ^ 0x01]) + data[-29:])
    damaged = repo.poison("check", timeout=60)
    assert damaged.rc == 1 and record_id in damaged.out, damaged.out + damaged.err
    notices = [ln for ln in damaged.err.splitlines() if NOTICE in ln]
    assert len(notices) == 1 and "Traceback" not in damaged.err, damaged.err
    again = repo.poison("check", timeout=60)
    assert again.rc == 1 and record_id in again.out and NOTICE not in again.err, again.err
    # Indexed again from git, into a fresh delta.
    assert _load(repo.path).delta_commits == 4


def test_a_delta_naming_another_graph_is_ignored_even_where_it_would_lie(tmp_path: Path) -> None:
    # master a-b-c-d; after indexing, e on b. A forged delta says e's parent is a.
    path = tmp_path / "r"
    parents: History = [(), (0,), (1,), (2,)]
    shas = make_repo(path, parents, [3], [])
    repo = SourceRepo.discover(str(path))
    graph = index_path(repo)
    IndexedReach(repo).update()
    parents, shas = _grow(path, parents, [(1,)], shas, "lts")
    stored = _load(path)
    lie = index_delta.block(f"{shas[4]} {shas[0]}\n".encode(), [], frozenset(), {})
    other = "1:00000000"  # another graph file (an older one, a crashed writer's)
    index_delta.write(index_delta.delta_path(graph), other, [lie])
    reach = IndexedReach(SourceRepo.discover(str(path)))
    assert reach.ancestors(shas[4], [shas[1]]).reachable == {shas[1]}
    assert reach.notices == []
    # The same delta naming this graph is believed: the tie is what kept the lie out.
    index_delta.write(index_delta.delta_path(graph), stored.file_id, [lie])
    believed = IndexedReach(SourceRepo.discover(str(path)))
    assert believed.ancestors(shas[4], [shas[1]]).reachable == set()


def test_updates_past_the_threshold_merge_the_delta_into_the_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_delta, "MAX_COMMITS", 3)
    path = tmp_path / "r"
    parents: History = [(), (0,), (1,)]
    shas = make_repo(path, parents, [2], [])
    graph = index_path(SourceRepo.discover(str(path)))
    IndexedReach(SourceRepo.discover(str(path))).update()
    built = _identity(graph)
    parents, shas = _grow(path, parents, [(2,), (3,)], shas, "a")  # 2 commits: delta
    IndexedReach(SourceRepo.discover(str(path))).update()
    assert _identity(graph) == built and _load(path).delta_commits == 2
    parents, shas = _grow(path, parents, [(1,), (5, 4)], shas, "b")  # 4 > 3: merged
    IndexedReach(SourceRepo.discover(str(path))).update()
    assert _identity(graph) != built
    assert not os.path.exists(index_delta.delta_path(graph))
    assert _load(path).graph.size == 7 and _load(path).delta_commits == 0
    assert_same_as_git(path, list(shas.values()))


def test_many_pushes_of_one_commit_merge_after_max_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_delta, "MAX_BLOCKS", 2)
    path = tmp_path / "r"
    parents: History = [(), (0,)]
    shas = make_repo(path, parents, [1], [])
    graph = index_path(SourceRepo.discover(str(path)))
    IndexedReach(SourceRepo.discover(str(path))).update()
    built = _identity(graph)
    for k in range(3):
        parents, shas = _grow(path, parents, [(len(parents) - 1,)], shas, "master")
        IndexedReach(SourceRepo.discover(str(path))).update()
        assert (_identity(graph) == built) == (k < 2), k
    assert _load(path).delta == [] and _load(path).graph.size == 5


def test_git_poison_index_merges_the_delta_and_says_how_many_commits_it_held(repo: Repo) -> None:
    repo.add_poison(repo.rev("HEAD"))
    assert repo.poison("index", "--json").rc == 0
    graph = index_path(SourceRepo.discover(str(repo.path)))
    built = _identity(graph)
    repo.commit()
    repo.commit()
    assert repo.poison("check", timeout=60).rc == 1
    assert _identity(graph) == built and _load(repo.path).delta_commits == 2
    out = repo.poison("index", "--json")
    assert out.rc == 0, out.err
    data = json.loads(out.out)
    assert data["delta_commits"] == 2 and data["commits"] == 3
    assert not os.path.exists(index_delta.delta_path(graph))
    assert _load(repo.path).graph.size == 3
    assert json.loads(repo.poison("index", "--json").out)["delta_commits"] == 0


def test_git_replace_after_a_delta_rebuilds_everything_and_drops_it(tmp_path: Path) -> None:
    # a - b - c on master, x alone; d on c after indexing (delta); then c grafted onto x.
    path = tmp_path / "r"
    parents: History = [(), (0,), (1,), ()]
    shas = make_repo(path, parents, [2, 3], [])
    graph = index_path(SourceRepo.discover(str(path)))
    IndexedReach(SourceRepo.discover(str(path))).update()
    parents, shas = _grow(path, parents, [(2,)], shas, "master")
    IndexedReach(SourceRepo.discover(str(path))).update()
    assert os.path.exists(index_delta.delta_path(graph))
    git(path, "replace", "--graft", shas[2], shas[3])
    reach = IndexedReach(SourceRepo.discover(str(path)))
    assert reach.ancestors(shas[4], [shas[0], shas[3]]).reachable == {shas[3]}
    assert not os.path.exists(index_delta.delta_path(graph))
    assert_same_as_git(path, list(shas.values()))


_UPDATER = """
import sys
from poison_tools.git import SourceRepo
from poison_tools.reach.index import IndexedReach
IndexedReach(SourceRepo.discover(sys.argv[1])).update(sys.argv[2:])
"""
_READER = """
import sys
from poison_tools.reach import index_delta
from poison_tools.reach.index import index_path
from poison_tools.git import SourceRepo
path = index_path(SourceRepo.discover(sys.argv[1]))
for _ in range(200):
    notices = []
    stored = index_delta.load(path, notices)
    assert stored is not None and not notices, notices
"""


def test_concurrent_updaters_each_adding_a_dangling_commit_lose_none(tmp_path: Path) -> None:
    # master of 50 commits; six commits that no ref holds, each on an old commit, are
    # indexed by six processes at once (and two readers load the index meanwhile).
    path = tmp_path / "r"
    parents: History = [()] + [(i,) for i in range(49)]
    shas = make_repo(path, parents, [49], [])
    graph = index_path(SourceRepo.discover(str(path)))
    IndexedReach(SourceRepo.discover(str(path))).update()
    built = _identity(graph)
    grown = parents + [(7 * k,) for k in range(6)]
    shas = fast_import(path, grown, start=50, marks=shas)
    dangling = [shas[50 + k] for k in range(6)]
    readers = [subprocess.Popen([sys.executable, "-c", _READER, str(path)]) for _ in range(2)]
    updaters = [subprocess.Popen([sys.executable, "-c", _UPDATER, str(path), d]) for d in dangling]
    assert [p.wait(timeout=120) for p in updaters] == [0] * 6
    assert [p.wait(timeout=120) for p in readers] == [0] * 2
    assert _identity(graph) == built
    stored = _load(path)
    assert stored.delta_commits == 6 and len(stored.delta) == 6
    assert (stored.graph.lookup(dangling) >= 0).all()
    assert_same_as_git(path, list(shas.values()), pairs=4)
