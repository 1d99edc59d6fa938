"""`git poison` answers through the index, and gives the same verdicts as plain git.

Each test builds a real repository, runs the real `git poison` with the index
(the default) and with `GIT_POISON_INDEX=0` (GitWalk, the reference), and compares.
"""

from __future__ import annotations

import json
from pathlib import Path

from poison_tools.git import SourceRepo
from poison_tools.reach.engine import reachability
from poison_tools.reach.index import IndexedReach
from poison_tools.reach.walk import GitWalk
from tests.gitrepo import Repo

NO_INDEX = {"GIT_POISON_INDEX": "0"}


def verdict(
    repo: Repo, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    r = repo.poison("--no-fetch", "check", *args, "--json", env=env)
    assert r.rc in (0, 1, 2), r.err
    return r.rc, json.loads(r.out)


def same_verdict(repo: Repo, *args: str) -> tuple[int, dict[str, object]]:
    indexed = verdict(repo, *args)
    walked = verdict(repo, *args, env=NO_INDEX)
    assert indexed == walked
    return indexed


def test_reachability_is_the_index_unless_switched_off(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    source = SourceRepo.discover(str(repo.path))
    assert isinstance(reachability(source), IndexedReach)
    monkeypatch.setenv("GIT_POISON_INDEX", "0")
    assert isinstance(reachability(source), GitWalk)


def test_check_on_lts_branch_with_cherry_picked_cure_matches_git(repo: Repo) -> None:
    base = repo.rev("HEAD")
    bad = repo.commit("introduce the bug")
    repo.branch("lts", bad)
    fix = repo.commit("fix the bug on master")
    record = repo.add_poison(bad, "hangs on io error")
    repo.add_cure(record, fix)
    assert same_verdict(repo, "master")[0] == 0
    assert same_verdict(repo, "lts")[0] == 1
    assert same_verdict(repo, base)[0] == 0
    # The index was built by the first check and lives beside the repository.
    assert (repo.path / ".git" / "poison-index" / "graph").is_file()


def test_check_after_force_push_rewrites_the_branch_under_the_index(repo: Repo) -> None:
    base = repo.rev("HEAD")
    bad = repo.commit("the bug")
    record = repo.add_poison(bad, "corrupts the cache")
    assert same_verdict(repo, "master")[0] == 1
    # History rewritten: master no longer holds the poisoned commit.
    repo.git("reset", "-q", "--hard", base)
    repo.commit("the same change done right")
    rc, data = same_verdict(repo, "master")
    assert rc == 0 and data["poisoned"] == [] and data["undecided"] == []
    # Still present (dangling) and known to the index, yet not in master's history.
    assert IndexedReach(SourceRepo.discover(str(repo.path))).present([bad]) == {bad}
    assert record


def test_check_of_a_detached_commit_outside_every_ref(repo: Repo) -> None:
    bad = repo.commit("the bug")
    repo.add_poison(bad, "leaks file handles")
    repo.git("checkout", "-q", "--detach")
    dangling = repo.commit("an experiment on no branch")
    repo.git("checkout", "-q", "master")
    assert same_verdict(repo, dangling)[0] == 1


def test_check_in_shallow_clone_beyond_the_boundary_is_undecided(
    tmp_path: Path, repo: Repo, remote: Path
) -> None:
    repo.git("config", "poison.remote", str(remote))
    repo.git("config", "poison.project", "svc")
    old = repo.rev("HEAD")
    for _ in range(3):
        repo.commit()
    repo.add_poison(old, "an old bug")
    clone = Repo.clone(f"file://{repo.path}", tmp_path / "shallow", "--depth", "1")
    clone.git("config", "poison.remote", str(remote))
    clone.git("config", "poison.project", "svc")
    assert clone.poison("sync").rc == 0
    # The poisoned commit is beyond the boundary: never "healthy" without the history.
    rc, data = same_verdict(clone, "HEAD")
    assert rc == 2 and len(data["undecided"]) == 1  # type: ignore[arg-type]
    clone.git("fetch", "-q", "--unshallow")
    assert same_verdict(clone, "HEAD")[0] == 1


def test_index_is_rebuilt_when_git_replace_changes_the_parents(repo: Repo) -> None:
    repo.git("checkout", "-q", "--orphan", "other")
    other = repo.commit("unrelated history")
    repo.git("checkout", "-q", "master")
    tip = repo.commit("on master")
    repo.add_poison(other, "bug in the other history")
    assert same_verdict(repo, tip)[0] == 0
    repo.git("replace", "--graft", tip, other)
    assert same_verdict(repo, tip)[0] == 1


def test_index_command_builds_quietly_off_a_terminal(repo: Repo) -> None:
    repo.branch("side")
    repo.commit()
    r = repo.poison("index", "--json")
    assert r.rc == 0 and r.err == ""  # progress is drawn only on a terminal
    data = json.loads(r.out)
    assert data["commits"] == int(repo.git("rev-list", "--all", "--count"))
    rebuilt = repo.poison("index", "--rebuild")
    assert rebuilt.rc == 0 and rebuilt.out.startswith(f"{data['commits']} commits")


def test_index_command_writes_git_commit_graph_when_asked_and_builds_from_it(repo: Repo) -> None:
    repo.branch("side")
    repo.commit()
    plain = repo.poison("index", "--rebuild")
    assert plain.rc == 0 and "built from git rev-list" in plain.out
    assert plain.err == ""  # no hint: on a small history a build takes no time anyway
    graph = repo.path / ".git" / "objects" / "info" / "commit-graph"
    assert not graph.exists()  # never written behind the user's back
    r = repo.poison("index", "--write-commit-graph", "--rebuild", "--json")
    assert r.rc == 0 and r.err == "" and graph.exists()
    data = json.loads(r.out)
    assert data["built_from"] == "commit-graph"
    assert data["commits"] == int(repo.git("rev-list", "--all", "--count"))
    assert json.loads(repo.poison("index", "--json").out)["built_from"] is None  # up to date
