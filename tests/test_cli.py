"""The newcomer's walk through the README, with the real `git poison`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import Repo, service_with_origin


def _service_with_bug_fixed_on_master(repo: Repo) -> tuple[str, str]:
    bug = repo.commit("introduce io handling", {"io.py": "hang()\n"})
    repo.branch("lts/1.0")
    fix = repo.commit("fix io hang", {"io.py": "dont_hang()\n"})
    return bug, fix


def test_poison_then_cure_then_other_branch_still_poisoned(repo: Repo) -> None:
    bug, fix = _service_with_bug_fixed_on_master(repo)
    rid = repo.add_poison(bug, "service hangs on io error", "--bug", "JIRA-1234")
    assert len(rid) == 10

    poisoned = repo.poison("check")
    assert poisoned.rc == 1
    assert rid in poisoned.out and "JIRA-1234" in poisoned.out
    assert "service hangs on io error" in poisoned.out and "Test Author" in poisoned.out

    repo.add_cure(rid, "master")
    healthy = repo.poison("check")
    assert healthy.rc == 0, healthy.out
    assert "healthy" in healthy.out

    lts = repo.poison("check", "lts/1.0")
    assert lts.rc == 1
    assert f"git cherry-pick -x {fix}" in lts.out
    assert "fixed on master" in lts.out


def test_check_json_is_the_documented_shape(repo: Repo) -> None:
    bug, fix = _service_with_bug_fixed_on_master(repo)
    rid = repo.add_poison(bug, "hang", "--bug", "B-1", "--severity", "high")
    repo.add_cure(rid, fix)
    data = json.loads(repo.poison("check", "lts/1.0", "--json").out)
    assert data["verdict"] == "poisoned"
    assert data["target"] == repo.rev("lts/1.0") and data["rev"] == "lts/1.0"
    [finding] = data["poisoned"]
    assert finding["id"] == rid and finding["severity"] == "high" and finding["bug"] == "B-1"
    assert finding["poison_evidence"] == [{"commit": bug, "recorded": bug, "via": "ancestry"}]
    assert finding["cures_elsewhere"] == [
        {"commit": fix, "refs": ["refs/heads/master"], "cherry_pick": f"git cherry-pick -x {fix}"}
    ]
    assert data["undecided"] == [] and data["problems"] == [] and data["stale"] is None
    master = json.loads(repo.poison("check", "--json").out)
    assert master["verdict"] == "healthy" and [f["id"] for f in master["cured"]] == [rid]


def test_release_report_lists_fixes_and_new_and_unfixed_poisons(repo: Repo) -> None:
    old_bug = repo.commit("old bug")
    repo.git("tag", "v1")
    fix_old = repo.commit("fix old bug")
    new_bug = repo.commit("new bug")
    repo.git("tag", "v2")
    r_old = repo.add_poison(old_bug, "old")
    r_new = repo.add_poison(new_bug, "new")
    repo.add_cure(r_old, fix_old)
    result = repo.poison("check", "v2", "--since", "v1", "--json")
    assert result.rc == 1
    data = json.loads(result.out)
    assert [f["id"] for f in data["fixed"]] == [r_old]
    assert [f["id"] for f in data["introduced"]] == [r_new]
    assert [f["id"] for f in data["poisoned"]] == [r_new]
    text = repo.poison("check", "v2", "--since", "v1").out
    assert "bugfixes in this release: 1" in text and "known unfixed bugs: 1" in text


def test_list_show_and_withdraw(repo: Repo) -> None:
    bug = repo.commit("bug")
    rid = repo.add_poison(bug, "flaky retry")
    listed = json.loads(repo.poison("list", "--json").out)
    assert [r["id"] for r in listed["records"]] == [rid]
    shown = repo.poison("show", rid[:5])
    assert shown.rc == 0 and bug in shown.out
    assert repo.poison("check").rc == 1
    w = repo.poison("withdraw", rid, "-m", "not a bug")
    assert w.rc == 0 and "withdrawn" in w.out
    assert repo.poison("check").rc == 0
    assert repo.poison("list", "--json").out.count(rid) == 0
    everything = json.loads(repo.poison("list", "--all", "--json").out)
    assert everything["records"][0]["withdrawn"]["reason"] == "not a bug"
    # Withdrawal is a recorded change: the record file is still in the history.
    store = repo.path / ".git" / "poison"
    log = repo.git("--git-dir", str(store), "log", "--format=%an %s", "--all")
    assert "Test Author withdraw" in log and "Test Author poison" in log


def test_bad_input_gets_one_line_and_exit_2(repo: Repo) -> None:
    for args in (
        ["add", "--upload-pack=touch /tmp/pwned", "-m", "x"],
        ["add", "no-such-rev", "-m", "x"],
        ["check", "no-such-rev"],
        ["cure", "nosuchid", "HEAD"],
        ["show", "nosuchid"],
        ["add", "HEAD"],
        ["frobnicate"],
    ):
        r = repo.poison(*args)
        assert r.rc == 2, (args, r)
        assert "Traceback" not in r.err
        assert r.err.strip(), args
    r = repo.poison("add", "-m", "x", "--", "--upload-pack=x")
    assert r.rc == 2 and "not a revision" in r.err


def test_outside_a_repository_says_so(tmp_path: Path, repo: Repo) -> None:
    outside = tmp_path / "nowhere"
    outside.mkdir()
    r = repo.poison("check", cwd=outside)
    assert r.rc == 2 and "not a git repository" in r.err and "Traceback" not in r.err


def test_cure_older_than_poison_is_refused(repo: Repo) -> None:
    old = repo.rev("HEAD")
    bug = repo.commit("bug")
    rid = repo.add_poison(bug)
    r = repo.poison("cure", rid, old)
    assert r.rc == 2 and "ancestor of the poison" in r.err
    r = repo.poison("cure", rid, bug)
    assert r.rc == 2 and "the poison itself" in r.err


def test_every_command_help_has_an_example(repo: Repo) -> None:
    for cmd in ("add", "cure", "check", "list", "show", "withdraw", "sync", "init"):
        r = repo.poison(cmd, "--help")
        assert r.rc == 0 and "git poison " + cmd in r.out and "Example" in r.out, cmd


def test_no_colour_off_a_terminal(repo: Repo) -> None:
    repo.add_poison(repo.commit("bug"))
    assert "\033[" not in repo.poison("check").out


def test_works_from_a_subdirectory_and_a_linked_worktree(repo: Repo, tmp_path: Path) -> None:
    bug = repo.commit("bug", {"sub/dir/x.txt": "x"})
    rid = repo.add_poison(bug)
    r = repo.poison("check", cwd=repo.path / "sub" / "dir")
    assert r.rc == 1 and rid in r.out
    repo.git("worktree", "add", "-q", str(tmp_path / "wt"), "HEAD~1")
    assert repo.poison("check", cwd=tmp_path / "wt").rc == 0
    assert repo.poison("check", "master", cwd=tmp_path / "wt").rc == 1


def test_shared_remote_with_several_clones(tmp_path: Path, remote: Path) -> None:
    alice, origin = service_with_origin(tmp_path, "alice")
    bug = alice.rev("HEAD")
    before = alice.add_poison(bug, "recorded before sharing")
    init = alice.poison("init", "--remote", str(remote))
    assert init.rc == 0, init.err

    bob = Repo.clone(origin, tmp_path / "bob")
    bob.git("config", "poison.remote", str(remote))
    r = bob.poison("check")
    assert r.rc == 1 and before in r.out

    fix = bob.commit("fix")
    bob.add_cure(before, fix)
    bob.git("push", "-q", "origin", "master")
    alice.git("pull", "-q", "origin", "master")
    assert alice.poison("check").rc == 0


def test_every_command_in_the_cli_has_help_with_an_example(repo: Repo) -> None:
    from poison_tools.cli import COMMANDS

    for cmd in COMMANDS:
        r = repo.poison(cmd, "--help")
        assert r.rc == 0 and "git poison " + cmd in r.out and "Example" in r.out, cmd
