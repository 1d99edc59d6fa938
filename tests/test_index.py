"""The reachability index answers exactly what git answers, on random histories.

Histories are written with `git fast-import` (real repositories, real git); every
answer of `IndexedReach` is compared with `git merge-base --is-ancestor`, with
`git rev-list` and with `git for-each-ref --contains`, including after the history is
rewritten under the index (force-moved branches, `git replace`, a deepened shallow
clone) and with several processes updating the index at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poison_tools.git import SourceRepo
from poison_tools.reach import index_delta, index_file
from poison_tools.reach.index import IndexedReach, index_path
from poison_tools.reach.walk import GitWalk
from tests.gitrepo import git

# parents[i] lists earlier commit numbers; () is a root commit.
History = list[tuple[int, ...]]


@st.composite
def histories(draw: st.DrawFn, max_commits: int = 18) -> tuple[History, list[int], list[int]]:
    n = draw(st.integers(1, max_commits))
    parents: History = []
    for i in range(n):
        if i == 0 or draw(st.integers(0, 12)) == 0:
            parents.append(())
            continue
        k = draw(st.sampled_from([1, 1, 1, 2, 2, 3]))
        ps = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=k, unique=True))
        parents.append(tuple(ps))
    branches = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    tags = draw(st.lists(st.integers(0, n - 1), max_size=3))
    return parents, branches, tags


def fast_import(
    path: Path, parents: History, start: int = 0, marks: dict[int, str] | None = None
) -> dict[int, str]:
    """Write commits `start..` of `parents`; returns commit number -> SHA."""
    marks = dict(marks or {})
    lines = []
    for i in range(start, len(parents)):
        lines.append("reset refs/scratch\n")
        msg = f"c{i}"
        lines.append(
            f"commit refs/scratch\nmark :{i + 1}\n"
            f"committer T <t@example.com> {1_700_000_000 - 37 * i} +0000\n"
            f"data {len(msg)}\n{msg}\n"
        )
        for j, p in enumerate(parents[i]):
            ref = f":{p + 1}" if p >= start else marks[p]
            lines.append(f"{'from' if j == 0 else 'merge'} {ref}\n")
        lines.append("\n")
    marks_file = path / "marks.txt"
    subprocess.run(
        ["git", "fast-import", "--quiet", f"--export-marks={marks_file}"],
        cwd=path,
        input="".join(lines),
        text=True,
        check=True,
    )
    for line in marks_file.read_text().splitlines():
        mark, sha = line.split()
        marks[int(mark[1:]) - 1] = sha
    git(path, "update-ref", "-d", "refs/scratch")
    return marks


def make_repo(path: Path, parents: History, branches: list[int], tags: list[int]) -> dict[int, str]:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "master")
    shas = fast_import(path, parents)
    for k, b in enumerate(branches):
        git(path, "update-ref", "refs/heads/master" if k == 0 else f"refs/heads/b{k}", shas[b])
    for k, t in enumerate(tags):
        if k % 2:
            git(path, "tag", f"t{k}", shas[t])
        else:
            git(path, "tag", "-a", "-m", "annotated", f"t{k}", shas[t])
    return shas


def git_is_ancestor(path: Path, a: str, b: str) -> bool:
    rc = subprocess.run(["git", "merge-base", "--is-ancestor", a, b], cwd=path).returncode
    assert rc in (0, 1)
    return rc == 0


def assert_same_as_git(path: Path, shas: list[str], pairs: int = 12) -> IndexedReach:
    repo = SourceRepo.discover(str(path))
    index, walk = IndexedReach(repo), GitWalk(repo)
    candidates = [*shas, "0" * 40]
    for target in shas:
        a, b = index.ancestors(target, candidates), walk.ancestors(target, candidates)
        assert (a.reachable, a.absent, a.unknown) == (b.reachable, b.absent, b.unknown), target
    # The reference itself, pair by pair, on a sample (one git process per pair).
    for k in range(min(pairs, len(shas) ** 2)):
        x, y = shas[(7 * k) % len(shas)], shas[(3 * k + 1) % len(shas)]
        assert index.ancestors(y, [x]).status(x) == git_is_ancestor(path, x, y), (x, y)
    for c in shas:
        for patterns in (("refs/heads",), ("refs/heads", "refs/tags")):
            assert index.refs_containing(c, patterns) == walk.refs_containing(c, patterns), c
    # The matrix both ways round: more targets than candidates, and fewer.
    for targets, cands in ((shas, shas[:2]), (shas[:2], candidates)):
        for target, a in index.ancestors_many(targets, cands).items():
            b = walk.ancestors(target, cands)
            assert (a.reachable, a.absent, a.unknown) == (b.reachable, b.absent, b.unknown)
    return index


FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(histories())
def test_random_history_answers_equal_git(tmp_path_factory, history) -> None:  # type: ignore[no-untyped-def]
    parents, branches, tags = history
    path = tmp_path_factory.mktemp("h")
    shas = make_repo(path, parents, branches, tags)
    assert_same_as_git(path, list(shas.values()))


@FAST
@given(
    histories(max_commits=12),
    st.lists(st.lists(st.integers(0, 10**6), min_size=1, max_size=2), min_size=1, max_size=10),
    st.integers(0, 10**6),
)
def test_history_grown_and_branch_force_moved_after_indexing(  # type: ignore[no-untyped-def]
    tmp_path_factory, first, more, moved_to
) -> None:
    parents, branches, tags = first
    path = tmp_path_factory.mktemp("h")
    shas = make_repo(path, parents, branches, tags)
    assert_same_as_git(path, list(shas.values()), pairs=0)
    built = index_delta.load(index_path(SourceRepo.discover(str(path))))
    assert built is not None
    # More commits, each on any earlier commit (old or new, merges included); then
    # master is force-moved to one of them, so its old commits may be left behind.
    n = len(parents)
    grown = parents + [tuple(dict.fromkeys(r % (n + i) for r in raw)) for i, raw in enumerate(more)]
    shas = fast_import(path, grown, start=n, marks=shas)
    git(path, "update-ref", "refs/heads/master", shas[n + moved_to % len(more)])
    git(path, "update-ref", "refs/heads/grown", shas[len(grown) - 1])
    assert_same_as_git(path, list(shas.values()))
    after = index_delta.load(index_path(SourceRepo.discover(str(path))))
    assert after is not None
    # Incremental: the old layout was kept and only the new commits were appended.
    assert after.graph.size == len(set(shas.values()))
    assert after.chains_at_build == built.chains_at_build


def test_git_replace_after_indexing_changes_the_answer(tmp_path: Path) -> None:
    # a - b - c on master, x alone on side; then `git replace --graft c x`.
    path = tmp_path / "r"
    shas = make_repo(path, [(), (0,), (1,), ()], [2, 3], [])
    a, b, c, x = (shas[i] for i in range(4))
    repo = SourceRepo.discover(str(path))
    assert IndexedReach(repo).ancestors(c, [a, x]).reachable == {a}
    git(path, "replace", "--graft", c, x)
    assert git_is_ancestor(path, x, c) and not git_is_ancestor(path, a, c)
    assert IndexedReach(SourceRepo.discover(str(path))).ancestors(c, [a, b, x]).reachable == {x}
    assert_same_as_git(path, [a, b, c, x])
    git(path, "replace", "-d", c)
    assert IndexedReach(SourceRepo.discover(str(path))).ancestors(c, [a, x]).reachable == {a}


def test_grafts_file_is_honoured_like_git(tmp_path: Path) -> None:
    path = tmp_path / "r"
    shas = make_repo(path, [(), (0,), ()], [1, 2], [])
    assert_same_as_git(path, list(shas.values()), pairs=0)
    (path / ".git" / "info").mkdir(exist_ok=True)
    (path / ".git" / "info" / "grafts").write_text(f"{shas[1]} {shas[2]}\n")
    assert git_is_ancestor(path, shas[2], shas[1])
    assert IndexedReach(SourceRepo.discover(str(path))).ancestors(shas[1], [shas[2]]).reachable == {
        shas[2]
    }


def test_shallow_clone_answers_unknown_then_deepened_answers_exactly(tmp_path: Path) -> None:
    # A line of 8 commits with a side branch merged at the top.
    parents: History = [(), (0,), (1,), (2,), (3,), (4,), (1,), (5, 6)]
    origin = tmp_path / "origin"
    shas = make_repo(origin, parents, [7], [])
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{origin}", str(clone))
    repo = SourceRepo.discover(str(clone))
    old = shas[0]
    answer = IndexedReach(repo).ancestors(shas[7], [old, shas[6]])
    walk = GitWalk(repo).ancestors(shas[7], [old, shas[6]])
    assert answer.status(old) is None, "beyond the shallow boundary: unknown, never a guess"
    assert (answer.reachable, answer.unknown, answer.absent) == (
        walk.reachable,
        walk.unknown,
        walk.absent,
    )
    git(clone, "fetch", "-q", "--deepen=10")
    assert not (clone / ".git" / "shallow").exists()
    deepened = IndexedReach(SourceRepo.discover(str(clone))).ancestors(shas[7], [old])
    assert deepened.status(old) is True


def test_concurrent_processes_leave_a_valid_index(tmp_path: Path) -> None:
    path = tmp_path / "r"
    parents: History = [()] + [(i,) for i in range(300)] + [(150,), (301, 300)]
    shas = make_repo(path, parents, [302, 301], [])
    code = (
        "import sys; from poison_tools.git import SourceRepo; "
        "from poison_tools.reach.index import IndexedReach; "
        "r = IndexedReach(SourceRepo.discover(sys.argv[1])); "
        "a = r.ancestors(sys.argv[2], [sys.argv[3]]); sys.exit(0 if a.reachable else 5)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path), shas[302], shas[k]])
        for k in (0, 10, 100, 150, 200, 250)
    ]
    assert [p.wait() for p in procs] == [0] * 6
    stored = index_delta.load(index_path(SourceRepo.discover(str(path))))
    assert stored is not None and stored.graph.size == len(shas)
    # No temporary file left behind (the verification stamp and the build lock, which
    # stays so that no process ever locks a file another one just deleted, are none).
    leftovers = [
        f
        for f in os.listdir(path / ".git" / "poison-index")
        if f not in ("graph", "graph" + index_file.VERIFIED, "graph.lock")
    ]
    assert leftovers == []
    assert_same_as_git(path, [shas[i] for i in (0, 150, 151, 300, 301, 302)], pairs=0)


def test_corrupt_index_file_is_rebuilt_not_believed(tmp_path: Path) -> None:
    path = tmp_path / "r"
    shas = make_repo(path, [(), (0,), (1,)], [2], [])
    repo = SourceRepo.discover(str(path))
    IndexedReach(repo).ancestors(shas[2], [shas[0]])
    index_file_path = Path(index_path(repo))
    data = bytearray(index_file_path.read_bytes())
    index_file_path.write_bytes(bytes(data[: len(data) // 2]))
    assert IndexedReach(repo).ancestors(shas[2], [shas[0]]).reachable == {shas[0]}
    index_file_path.write_bytes(b"")
    assert IndexedReach(repo).ancestors(shas[2], [shas[0]]).reachable == {shas[0]}


def test_commit_outside_every_ref_is_indexed_on_demand(tmp_path: Path) -> None:
    # c2 is dangling (no ref): asking about it must index it, not call it unknown.
    path = tmp_path / "r"
    shas = make_repo(path, [(), (0,), (0,)], [1], [])
    repo = SourceRepo.discover(str(path))
    index = IndexedReach(repo)
    assert index.ancestors(shas[1], [shas[2]]).status(shas[2]) is False
    assert index.present([shas[2]]) == {shas[2]}
    assert index.ancestors(shas[2], [shas[0], shas[1]]).reachable == {shas[0]}


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(0, 2**16))
def test_benchmark_shaped_history_with_lts_branches_answers_equal_git(  # type: ignore[no-untyped-def]
    tmp_path_factory, seed
) -> None:
    # The benchmark's shape (mainline, merged features, LTS branches, tags), big enough
    # that chains nest and both ways of moving bounds are taken.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from gen_history import generate

    path = tmp_path_factory.mktemp("gen") / "repo.git"
    generate(str(path), 3000, seed=seed, refs=120)
    repo = SourceRepo.discover(str(path))
    index, walk = IndexedReach(repo), GitWalk(repo)
    commits = git(path, "rev-list", "--all").split()
    sample = commits[:: max(1, len(commits) // 60)]
    tips = [line.split()[0] for line in git(path, "for-each-ref", "--format=%(objectname)").split()]
    for target in [*tips[:: max(1, len(tips) // 15)], *sample[:10]]:
        assert index.ancestors(target, sample).reachable == walk.ancestors(target, sample).reachable
    for c in sample[::6]:
        for patterns in (["refs/heads"], ["refs/heads", "refs/tags"]):
            assert index.refs_containing(c, patterns) == walk.refs_containing(c, patterns)
    matrix = index.ancestors_many(tips, sample[:40])
    for t in tips[:: max(1, len(tips) // 10)]:
        assert matrix[t].reachable == walk.ancestors(t, sample[:40]).reachable
    x, y = sample[-1], tips[0]
    assert index.ancestors(y, [x]).status(x) == git_is_ancestor(path, x, y)


def test_many_small_updates_trigger_a_fresh_layout(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from poison_tools.reach import index as index_module

    monkeypatch.setattr(index_module, "REBUILD_SLACK", 0)
    path = tmp_path / "r"
    parents: History = [(), (0,), (1,)]
    shas = make_repo(path, parents, [2], [])
    repo = SourceRepo.discover(str(path))
    IndexedReach(repo).ancestors(shas[2], [shas[0]])
    first = index_delta.load(index_path(repo))
    assert first is not None
    # Side branches off old commits: each update adds chains until a rebuild is due.
    for k in range(4):
        parents = parents + [(k % 3,)]
        shas = fast_import(path, parents, start=len(parents) - 1, marks=shas)
        git(path, "update-ref", f"refs/heads/side{k}", shas[len(parents) - 1])
        IndexedReach(SourceRepo.discover(str(path))).ancestors(shas[len(parents) - 1], [shas[0]])
    last = index_delta.load(index_path(repo))
    assert last is not None and last.chains_at_build > first.chains_at_build
    assert_same_as_git(path, list(shas.values()), pairs=4)


def test_unreadable_index_is_worked_around_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "r"
    shas = make_repo(path, [(), (0,)], [1], [])
    repo = SourceRepo.discover(str(path))
    # A directory where the index file should be: cannot be read nor replaced.
    Path(index_path(repo)).mkdir(parents=True)
    assert IndexedReach(repo).ancestors(shas[1], [shas[0]]).reachable == {shas[0]}


def test_abandoned_temporary_files_are_cleaned_up_fresh_ones_kept(tmp_path: Path) -> None:
    path = tmp_path / "r"
    shas = make_repo(path, [(), (0,)], [1], [])
    repo = SourceRepo.discover(str(path))
    directory = Path(index_path(repo)).parent
    directory.mkdir(parents=True)
    old, fresh = directory / ".graph-dead.tmp", directory / ".graph-live.tmp"
    old.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(old, (0, 0))
    IndexedReach(repo).ancestors(shas[1], [shas[0]])
    assert not old.exists() and fresh.exists()


@FAST
@given(
    histories(),
    st.sampled_from(["none", "whole", "split", "stale"]),
    st.lists(st.integers(0, 10**6), min_size=1, max_size=2),
)
def test_index_built_from_git_commit_graph_answers_equal_git(  # type: ignore[no-untyped-def]
    tmp_path_factory, history, graph, raw_parents
) -> None:
    # History, plus a commit "left" that only a since-deleted branch held; git's
    # commit-graph (one file, two split layers, or written before the last commit)
    # lists it, rev-list from the refs does not: whether the index holds it shows
    # which one the index was built from.
    parents, branches, tags = history
    path = tmp_path_factory.mktemp("h")
    shas = make_repo(path, parents, branches, tags)
    n = len(parents)
    grown = parents + [tuple(dict.fromkeys(r % n for r in raw_parents))]
    shas = fast_import(path, grown, start=n, marks=shas)
    left = shas[n]
    git(path, "update-ref", "refs/heads/doomed", left)
    if graph != "none":
        git(path, "commit-graph", "write", "--reachable")
    git(path, "update-ref", "-d", "refs/heads/doomed")
    more = grown + [(0, n - 1) if n > 1 else (0,)]
    shas = fast_import(path, more, start=n + 1, marks=shas)
    git(path, "update-ref", "refs/heads/late", shas[n + 1])
    if graph == "split":
        git(path, "commit-graph", "write", "--reachable", "--split=no-merge")
    repo = SourceRepo.discover(str(path))
    IndexedReach(repo).ancestors(shas[n + 1], [shas[0]])  # builds, never asking about left
    stored = index_delta.load(index_path(repo))
    assert stored is not None
    assert (stored.graph.lookup([left])[0] >= 0) == (graph != "none")
    assert_same_as_git(path, list(shas.values()))


def _graph_a_b_c_and_x(path: Path) -> list[str]:
    """a - b - c on master, x alone on side, git's commit-graph written."""
    shas = make_repo(path, [(), (0,), (1,), ()], [2, 3], [])
    git(path, "commit-graph", "write", "--reachable")
    return [shas[i] for i in range(4)]


def test_commit_graph_is_not_believed_where_replace_refs_change_parents(tmp_path: Path) -> None:
    a, b, c, x = _graph_a_b_c_and_x(tmp_path / "r")
    git(tmp_path / "r", "replace", "--graft", c, x)
    assert IndexedReach(SourceRepo.discover(str(tmp_path / "r"))).ancestors(
        c, [a, x]
    ).reachable == {x}
    assert_same_as_git(tmp_path / "r", [a, b, c, x])


def test_commit_graph_is_not_believed_where_grafts_change_parents(tmp_path: Path) -> None:
    a, b, c, x = _graph_a_b_c_and_x(tmp_path / "r")
    (tmp_path / "r" / ".git" / "info").mkdir(exist_ok=True)
    (tmp_path / "r" / ".git" / "info" / "grafts").write_text(f"{c} {x}\n")
    assert IndexedReach(SourceRepo.discover(str(tmp_path / "r"))).ancestors(
        c, [a, x]
    ).reachable == {x}


def test_a_damaged_commit_graph_is_read_around_with_rev_list(tmp_path: Path) -> None:
    a, b, c, x = _graph_a_b_c_and_x(tmp_path / "r")
    graph = tmp_path / "r" / ".git" / "objects" / "info" / "commit-graph"
    data = graph.read_bytes()
    graph.chmod(0o644)
    graph.write_bytes(data[: len(data) - 7])
    reach = IndexedReach(SourceRepo.discover(str(tmp_path / "r")))
    assert reach.ancestors(c, [a, b, x]).reachable == {a, b}
    assert reach.graph.size == 4
