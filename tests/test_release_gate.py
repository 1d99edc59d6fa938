"""The release manager's views: `check --fail-on`, the JSON's own metadata, and
`backports` on the release branches by default (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import Repo
from tests.test_scope import History


def _release_with_a_low_and_a_high_poison(repo: Repo) -> tuple[str, str]:
    repo.git("tag", "v1")
    low = repo.add_poison(repo.commit("typo in log"), "typo in a log line", "--severity", "low")
    high = repo.add_poison(repo.commit("deadlock"), "deadlock on reload", "--severity", "high")
    repo.git("tag", "v2")
    return low, high


def test_fail_on_high_blocks_on_high_and_lists_the_low_one(repo: Repo) -> None:
    low, high = _release_with_a_low_and_a_high_poison(repo)
    r = repo.poison("check", "v2", "--since", "v1", "--fail-on", "high")
    assert r.rc == 1, r.out
    assert f"below --fail-on high (listed, not blocking): {low} (low)" in r.out
    assert "blocking: 1 poison at or above high" in r.out
    assert low in r.out and high in r.out  # both still reported in full
    critical_only = repo.poison("check", "v2", "--fail-on", "critical")
    assert critical_only.rc == 0, critical_only.out
    assert "not blocking: nothing at or above critical" in critical_only.out
    assert repo.poison("check", "v2").rc == 1  # without --fail-on, as before


def test_a_poison_without_severity_blocks_any_threshold(repo: Repo) -> None:
    unrated = repo.add_poison(repo.commit("bug nobody rated"), "unrated")
    r = repo.poison("check", "--fail-on", "critical", "--json")
    assert r.rc == 1, r.out
    assert json.loads(r.out)["fail_on"] == {
        "threshold": "critical",
        "blocking": [unrated],
        "below_threshold": [],
        "exit_code": 1,
    }


def test_check_json_says_which_project_tool_and_shape(repo: Repo) -> None:
    from poison_tools import __version__

    low, high = _release_with_a_low_and_a_high_poison(repo)
    data = json.loads(
        repo.poison("check", "v2", "--since", "v1", "--fail-on", "high", "--json").out
    )
    project = json.loads(repo.poison("list", "--json").out)["project"]
    assert (data["project"], data["record_count"]) == (project, 2)
    assert (data["tool"], data["tool_version"], data["shape_version"]) == (
        "git-poison",
        __version__,
        1,
    )
    assert data["fail_on"] == {
        "threshold": "high",
        "blocking": [high],
        "below_threshold": [low],
        "exit_code": 1,
    }
    assert data["verdict"] == "poisoned" and {f["id"] for f in data["introduced"]} == {low, high}
    plain = json.loads(repo.poison("check", "--json").out)
    assert "fail_on" not in plain and plain["record_count"] == 2


def test_fail_on_rejects_an_unknown_severity(repo: Repo) -> None:
    r = repo.poison("check", "--fail-on", "urgent")
    assert r.rc == 2 and "urgent" in r.err and "Traceback" not in r.err


def test_backports_defaults_to_the_release_branches(history: History, tmp_path: Path) -> None:
    repo = history.repo
    # Feature branches carrying the poison are not release lines: not on the checklist.
    for b in ("feature/parser", "bugfix/x", "notes-2.0"):
        repo.branch(b, history.poison)
    repo.branch("release/4.0", history.poison)
    repo.branch("4.1", history.poison)
    r = repo.poison("backports", "--json")
    assert r.rc == 1, r.err
    listed = {b["ref"]: [m["id"] for m in b["missing"]] for b in json.loads(r.out)["branches"]}
    assert listed == {
        "refs/heads/lts/0.9": [],
        "refs/heads/lts/1.0": [],
        "refs/heads/lts/2.0": [],
        "refs/heads/lts/3.0": [history.id],
        "refs/heads/release/4.0": [history.id],
        "refs/heads/4.1": [history.id],
    }
    # The team names its own release branches; --branches still wins over both.
    repo.git("config", "--add", "poison.releaseBranches", "feature/*")
    own = json.loads(repo.poison("backports", "--json").out)
    assert [b["ref"] for b in own["branches"]] == ["refs/heads/feature/parser"]
    chosen = json.loads(repo.poison("backports", "--branches", "lts/3.0", "--json").out)
    assert [b["ref"] for b in chosen["branches"]] == ["refs/heads/lts/3.0"]
    repo.git("config", "--replace-all", "poison.releaseBranches", "nothing-like-this/*")
    none = repo.poison("backports")
    assert none.rc == 0 and "no release branch here (nothing-like-this/*)" in none.err


def test_remote_tracking_release_branches_match_without_the_remote_name(tmp_path: Path) -> None:
    from poison_tools.scope import branch_name

    assert branch_name("refs/remotes/origin/lts/1.0") == "lts/1.0"
    assert branch_name("refs/heads/lts/1.0") == "lts/1.0"
    history = History(Repo(tmp_path / "svc"))
    clone = Repo.clone(history.repo.path, tmp_path / "clone")
    records = history.repo.path / ".git" / "poison"
    clone.git("config", "poison.remote", str(records))
    clone.git(
        "config", "poison.project", json.loads(history.repo.poison("list", "--json").out)["project"]
    )
    r = clone.poison("backports", "--json")
    assert r.rc == 1, r.err
    refs = [b["ref"] for b in json.loads(r.out)["branches"]]
    assert "refs/remotes/origin/lts/3.0" in refs and "refs/remotes/origin/master" not in refs


import pytest  # noqa: E402


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(Repo(tmp_path / "svc"))
