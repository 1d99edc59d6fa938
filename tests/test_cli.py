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
        {
            "commit": fix,
            "refs": ["refs/heads/master"],
            "in_clone": True,
            "cherry_pick": f"git cherry-pick -x {fix}",
        }
    ]
    assert finding["ignored_cures"] == [] and finding["probable_cures"] == []
    assert data["undecided"] == [] and data["problems"] == [] and data["stale"] is None
    assert data["warnings"] == []
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


def _fix_on_master_picked_onto_lts_and_branched_from(repo: Repo) -> tuple[str, str, str]:
    """master: the bug, then its fix; lts/1.0 forked before the fix got it by
    `cherry-pick -x` and was tagged v1.0.1; feature/a and release/2.0 branch off master
    after the fix; lts/0.9 forked before the bug and hotfix/b off the bug, neither
    with the fix. Returns (record id, fix, the pick on lts/1.0)."""
    repo.branch("lts/0.9")
    bug = repo.commit("introduce io handling", {"io.py": "hang()\n"})
    repo.branch("lts/1.0")
    repo.branch("hotfix/b")
    fix = repo.commit("fix io hang", {"io.py": "dont_hang()\n"})
    repo.branch("feature/a")
    repo.branch("release/2.0")
    repo.checkout("lts/1.0")
    repo.commit("lts work", {"lts.txt": "x\n"})
    repo.git("cherry-pick", "-x", fix)
    pick = repo.rev("HEAD")
    repo.git("tag", "v1.0.1")
    repo.checkout("master")
    rid = repo.add_poison(bug, "hang")
    repo.add_cure(rid, fix)
    return rid, fix, pick


def test_show_names_every_ref_the_checker_finds_cured_release_branches_first(repo: Repo) -> None:
    rid, fix, pick = _fix_on_master_picked_onto_lts_and_branched_from(repo)
    r = repo.poison("show", rid, "--json")
    assert r.rc == 0, r.err
    data = json.loads(r.out)
    # lts/1.0 holds a copy, not the commit: cured all the same, as scope and check say.
    assert data["cure_refs"] == {
        fix: [
            "refs/heads/lts/1.0",
            "refs/heads/master",
            "refs/heads/release/2.0",
            "refs/tags/v1.0.1",
            "refs/heads/feature/a",
        ]
    }
    assert data["affected_refs"] == ["refs/heads/hotfix/b"]
    for ref in ("lts/1.0", "master"):
        assert json.loads(repo.poison("check", ref, "--json").out)["verdict"] == "healthy"
    text = repo.poison("show", rid).out
    assert f"cure:   {fix}  (lts/1.0, master, release/2.0, v1.0.1, feature/a)" in text
    assert "not cured on: hotfix/b" in text


def test_fixed_on_hint_names_release_branches_before_feature_branches(repo: Repo) -> None:
    rid, fix, _pick = _fix_on_master_picked_onto_lts_and_branched_from(repo)
    r = repo.poison("check", "hotfix/b", "--json")
    assert r.rc == 1
    [cure] = json.loads(r.out)["poisoned"][0]["cures_elsewhere"]
    assert cure["refs"] == ["refs/heads/master", "refs/heads/release/2.0", "refs/heads/feature/a"]
    text = repo.poison("check", "hotfix/b").out
    assert f"fixed on master, release/2.0, feature/a by {fix[:12]}, missing here" in text


def test_release_report_between_unrelated_releases_lists_the_regressions(repo: Repo) -> None:
    rid, fix, _pick = _fix_on_master_picked_onto_lts_and_branched_from(repo)
    # "Since" the cured 2.0 line, back to a branch that never had the fix: a downgrade.
    r = repo.poison("check", "hotfix/b", "--since", "release/2.0", "--json")
    assert r.rc == 1, r.out
    data = json.loads(r.out)
    assert data["descends_from_since"] is False
    assert [f["id"] for f in data["regressions"]] == [rid]
    assert [f["id"] for f in data["poisoned"]] == [rid]
    text = repo.poison("check", "hotfix/b", "--since", "release/2.0")
    assert text.rc == 1
    assert (
        "does not descend from" in text.out and "regressions (cured before, not now): 1" in text.out
    )
    # The ordinary case: a later release of the same line, nothing undone.
    ok = json.loads(repo.poison("check", "master", "--since", "lts/0.9", "--json").out)
    assert ok["descends_from_since"] is True and ok["regressions"] == []


def test_every_command_in_the_cli_has_help_with_an_example(repo: Repo) -> None:
    from poison_tools.cli import COMMANDS

    for cmd in COMMANDS:
        r = repo.poison(cmd, "--help")
        assert r.rc == 0 and "git poison " + cmd in r.out and "Example" in r.out, cmd
