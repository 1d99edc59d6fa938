"""A cure must be plausible: it descends from the poison (or a copy of it), and is not
just the tip of a branch that changes none of the poison's files (issue 14). A warning
when recorded, a mark in show; never a refusal."""

from __future__ import annotations

import json

from tests.gitrepo import Repo


def _service(repo: Repo) -> str:
    repo.commit("io", {"io.py": "timeout = 5\n"})
    return repo.commit("read without timeout", {"io.py": "timeout = None\n"})


def test_recording_the_release_tip_as_the_cure_warns_and_show_marks_it(repo: Repo) -> None:
    bug = _service(repo)
    rid = repo.add_poison(bug)
    tip = repo.commit("release notes", {"NEWS": "2.1\n"})
    r = repo.poison("cure", rid, "master")
    assert r.rc == 0, r.err  # recorded all the same: a doubt, not a refusal
    assert f"warning: cure {tip[:12]} may not be the fix" in r.err
    assert "tip of master and changes none of the files the poison changed" in r.err
    shown = repo.poison("show", rid)
    assert shown.rc == 0
    assert f"implausible cure {tip[:12]}: it is the tip of master" in shown.out
    data = json.loads(repo.poison("show", rid, "--json").out)
    assert list(data["implausible_cures"]) == [tip]
    assert "tip of master" in data["implausible_cures"][tip][0]


def test_a_cure_that_does_not_descend_from_the_poison_warns(repo: Repo) -> None:
    repo.commit("base", {"svc.py": "x = 1\n"})
    repo.branch("old")
    bug = _service(repo)
    rid = repo.add_poison(bug)
    repo.checkout("old")
    elsewhere = repo.commit("unrelated work", {"svc.py": "x = 2\n"})
    repo.commit("more", {"svc.py": "x = 3\n"})  # `elsewhere` is not a tip
    repo.checkout("master")
    r = repo.poison("cure", rid, elsewhere)
    assert r.rc == 0, r.err
    assert f"cure {elsewhere[:12]} may not be the fix: it does not descend from the poison" in r.err
    data = json.loads(repo.poison("show", rid, "--json").out)
    assert list(data["implausible_cures"]) == [elsewhere]


def test_a_real_fix_raises_no_doubt_tip_or_not(repo: Repo) -> None:
    bug = _service(repo)
    rid = repo.add_poison(bug)
    fix = repo.commit("fix: time out reads", {"io.py": "timeout = 5\n"})
    r = repo.poison("cure", rid, "master")  # the tip, and it touches io.py
    assert r.rc == 0 and "warning" not in r.err, r.err
    repo.commit("later", {"NEWS": "x\n"})
    other = repo.add_poison(bug, "second record")
    r = repo.poison("cure", other, fix)  # touches io.py, no longer a tip
    assert r.rc == 0 and "warning" not in r.err, r.err
    assert json.loads(repo.poison("show", rid, "--json").out)["implausible_cures"] == {}
    assert "implausible" not in repo.poison("show", rid).out


def test_a_cure_on_lts_after_a_cherry_picked_copy_of_the_poison_is_plausible(repo: Repo) -> None:
    repo.commit("base", {"svc.py": "x = 1\n", "io.py": "timeout = 5\n"})
    repo.branch("lts")
    bug = repo.commit("read without timeout", {"io.py": "timeout = None\n"})
    rid = repo.add_poison(bug)
    repo.checkout("lts")
    repo.git("cherry-pick", "-x", bug)
    lts_fix = repo.commit("lts: time out reads", {"io.py": "timeout = 3\n"})
    repo.commit("lts: later", {"NEWS": "x\n"})
    repo.checkout("master")
    r = repo.poison("cure", rid, lts_fix)
    assert r.rc == 0 and "warning" not in r.err, r.err
