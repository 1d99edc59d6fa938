"""What `check` may and may not conclude when history is incomplete."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import Repo


def _upstream_with_deep_bug(tmp_path: Path) -> tuple[Repo, str, str]:
    up = Repo(tmp_path / "upstream")
    up.commit("root")
    bug = up.commit("old bug")
    for i in range(5):
        up.commit(f"later {i}")
    fix = up.commit("fix")
    up.git("reset", "-q", "--hard", "HEAD~1")  # master lacks the fix
    up.branch("fixed", fix)
    return up, bug, fix


def _shallow_clone(up: Repo, path: Path, depth: int) -> Repo:
    clone = Repo.clone(f"file://{up.path}", path, "--depth", str(depth), "--no-single-branch")
    clone.git("config", "poison.project", "svc")
    return clone


def _share_records(src: Repo, dst: Repo) -> None:
    store = src.path / ".git" / "poison"
    dst.git("config", "poison.remote", str(store))


def test_poison_beyond_shallow_boundary_is_undecided_until_unshallowed(tmp_path: Path) -> None:
    up, bug, _ = _upstream_with_deep_bug(tmp_path)
    up.git("config", "poison.project", "svc")
    rid = up.add_poison(bug)
    assert up.poison("check").rc == 1
    clone = _shallow_clone(up, tmp_path / "ci", depth=2)
    _share_records(up, clone)
    r = clone.poison("check")
    assert r.rc == 2, r.out
    assert "could not decide" in r.out and bug[:12] in r.out and "--unshallow" in r.out
    data = json.loads(clone.poison("check", "--json").out)
    assert data["verdict"] == "undecided" and data["undecided"][0]["id"] == rid
    clone.git("fetch", "-q", "--unshallow")
    assert clone.poison("check").rc == 1


def test_poison_inside_shallow_history_is_decided(tmp_path: Path) -> None:
    up, _, _ = _upstream_with_deep_bug(tmp_path)
    up.git("config", "poison.project", "svc")
    recent_bug = up.commit("recent bug")
    up.add_poison(recent_bug)
    clone = _shallow_clone(up, tmp_path / "ci", depth=2)
    _share_records(up, clone)
    assert clone.poison("check").rc == 1


def test_cure_inside_shallow_history_decides_even_if_poison_is_beyond(tmp_path: Path) -> None:
    up, bug, fix = _upstream_with_deep_bug(tmp_path)
    up.git("config", "poison.project", "svc")
    rid = up.add_poison(bug)
    up.add_cure(rid, fix)
    clone = _shallow_clone(up, tmp_path / "ci", depth=1)
    _share_records(up, clone)
    clone.checkout("fixed")
    assert clone.poison("check").rc == 0


def test_unknown_poison_in_complete_clone_is_not_in_this_history(
    repo: Repo, tmp_path: Path
) -> None:
    other = Repo(tmp_path / "other")
    foreign = other.commit("a commit of another repository")
    other.git("config", "poison.project", "svc")
    repo.git("config", "poison.project", "svc")
    repo.git("fetch", "-q", str(other.path), "master:refs/heads/foreign")
    rid = repo.add_poison("foreign")
    repo.git("branch", "-q", "-D", "foreign")
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    assert repo.git("cat-file", "-t", foreign, check=False) == ""
    r = repo.poison("check", "--json")
    assert r.rc == 0, r.out
    assert json.loads(r.out)["not_in_history"] == [rid]


def test_unknown_poison_in_partial_clone_is_undecided(tmp_path: Path) -> None:
    up = Repo(tmp_path / "upstream")
    up.git("config", "uploadpack.allowFilter", "true")
    up.commit("root")
    side = up.commit("only on a branch nobody cloned")
    up.git("reset", "-q", "--hard", "HEAD~1")
    up.git("config", "poison.project", "svc")
    up.add_poison(side)
    up.git("branch", "-q", "hidden", side)
    clone = Repo.clone(
        f"file://{up.path}", tmp_path / "partial", "--filter=blob:none", "--single-branch"
    )
    clone.git("config", "poison.project", "svc")
    _share_records(up, clone)
    r = clone.poison("check")
    assert r.rc == 2, r.out
