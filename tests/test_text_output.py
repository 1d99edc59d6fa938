"""What people read: release lines named first, one "no cure recorded yet" per record,
a release (not a cherry-pick) for tags and deployments, and `list` saying where a
cured record is still uncured (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitrepo import Repo
from tests.test_scope import History


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(Repo(tmp_path / "svc"))


def test_fixed_on_names_the_main_line_and_release_branches_before_feature_branches(
    repo: Repo,
) -> None:
    bug = repo.commit("bug", {"a.c": "bug\n"})
    repo.branch("lts/1.0")
    fix = repo.commit("fix", {"a.c": "ok\n"})
    # Feature branches that merely merged master sort first by name.
    for b in ("a-feat", "b-feat", "c-feat", "d-feat", "release/1.1"):
        repo.branch(b)
    rid = repo.add_poison(bug)
    repo.add_cure(rid, fix)
    out = repo.poison("check", "lts/1.0").out
    assert f"fixed on master, release/1.1, a-feat and 3 more by {fix[:12]}, missing here" in out
    scope = repo.poison("scope", rid, "--branches", "lts/1.0").out
    assert f"missing cure {fix[:12]} (on master, release/1.1, a-feat and 3 more)" in scope


def test_no_cure_recorded_yet_is_said_once_per_record(history: History) -> None:
    repo = history.repo
    unfixed = repo.add_poison(history.poison, "same commit, another bug")
    r = repo.poison("scope", unfixed, "--tags")
    assert r.rc == 1
    head = r.out.splitlines()[0]
    assert head.startswith(unfixed) and head.endswith("; no cure recorded yet")
    assert r.out.count("no cure recorded") == 1
    assert r.out.count("affected ") >= 5  # many affected rows, one sentence


def test_a_tag_or_deployment_is_told_to_take_a_release_not_a_cherry_pick(
    history: History, tmp_path: Path
) -> None:
    r = history.repo.poison(
        "scope",
        history.id,
        "--tags",
        "--branches",
        "lts/3.0",
        "--deployments",
        str(history.inventory(tmp_path)),
    )
    rows = r.out.splitlines()
    v3 = rows.index(next(ln for ln in rows if ln.split()[:2] == ["affected", "v3.0.0"]))
    assert rows[v3 + 1].strip() == f"needs a release with cure {history.cure[:12]} (on master)"
    lts = rows.index(next(ln for ln in rows if ln.split()[:2] == ["affected", "lts/3.0"]))
    assert rows[lts + 2].strip() == f"git cherry-pick -x {history.cure}"  # a branch still takes one
    assert r.out.count("git cherry-pick -x") == 1


def test_list_says_where_a_cured_record_is_still_uncured(history: History) -> None:
    repo = history.repo
    open_bug = repo.add_poison(repo.commit("slow start", {"s.c": "sleep\n"}), "slow start")
    r = repo.poison("list")
    assert r.rc == 0, r.err
    lines = {ln.split()[0]: ln for ln in r.out.splitlines()}
    assert lines[history.id].endswith("(still uncured on lts/3.0)")
    assert " cured " in lines[history.id]
    assert lines[open_bug].endswith("(on HEAD, master)")
    assert "where_uncured" not in json.loads(repo.poison("list", "--json").out)  # unless asked
    data = json.loads(repo.poison("list", "--json", "--where").out)
    where = data["where_uncured"]
    assert where["refs"][0] == "HEAD" and "refs/heads/lts/3.0" in where["refs"]
    assert where["records"] == {
        history.id: ["refs/heads/lts/3.0"],
        open_bug: ["HEAD", "refs/heads/master"],
    }
    assert "still uncured" not in repo.poison("list", "--no-where").out
