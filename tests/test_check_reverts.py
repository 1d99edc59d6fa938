"""A cure undone by `git revert` cures nothing where the revert is; a revert of the
revert brings it back. Each test names the history it builds."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import TEN_LINES, Repo, with_lines

FIXED = with_lines({3: "fixed 3"})


def _cured_master(tmp_path: Path) -> tuple[Repo, str, str, str]:
    """master: base - poison (line 3) - cure (line 3 again); the record says so."""
    repo = Repo(tmp_path / "svc")
    repo.commit("base", {"app.py": TEN_LINES})
    poison = repo.commit("poison", {"app.py": with_lines({3: "bad 3"})})
    cure = repo.commit("cure", {"app.py": FIXED})
    record = repo.add_poison(poison, "hangs on io error")
    repo.add_cure(record, cure)
    assert repo.poison("check").rc == 0
    return repo, poison, cure, record


def _revert(repo: Repo, commit: str) -> str:
    repo.git("revert", "--no-edit", commit)
    return repo.rev("HEAD")


def test_reverted_cure_poisons_again_and_a_revert_of_the_revert_cures(tmp_path: Path) -> None:
    # master: ... - cure - revert of cure (- revert of that revert)
    repo, poison, cure, record = _cured_master(tmp_path)
    undo = _revert(repo, cure)
    r = repo.poison("check")
    assert r.rc == 1, r.out
    assert f"cure {cure[:12]} was reverted here by {undo[:12]}" in r.out
    assert "missing here" not in r.out  # the cure is here; it was undone, not forgotten
    data = json.loads(repo.poison("check", "--json").out)
    [finding] = data["poisoned"]
    assert finding["id"] == record and finding["cures_elsewhere"] == []
    assert finding["reverted_cures"] == [
        {"commit": cure, "recorded": cure, "via": "ancestry", "reverted_by": undo}
    ]
    redo = _revert(repo, undo)
    again = json.loads(repo.poison("check", "--json").out)
    assert again["verdict"] == "healthy"
    assert repo.poison("check", "HEAD~1").rc == 1 and repo.poison("check", redo).rc == 0


def test_revert_on_one_branch_undoes_the_cure_there_only(tmp_path: Path) -> None:
    # master: ... - cure; experiment: ... - cure - revert of cure
    repo, _poison, cure, _record = _cured_master(tmp_path)
    repo.git("checkout", "-q", "-b", "experiment")
    undo = _revert(repo, cure)
    assert repo.poison("check", "experiment").rc == 1
    assert repo.poison("check", "master").rc == 0
    scope = json.loads(repo.poison("scope", "--json").out)
    cells = {c["ref"]: c for c in scope["records"][0]["refs"]}
    assert {ref: c["status"] for ref, c in cells.items()} == {
        "refs/heads/experiment": "affected",
        "refs/heads/master": "cured",
    }
    experiment = cells["refs/heads/experiment"]
    assert [c["reverted_by"] for c in experiment["reverted_cures"]] == [undo]
    assert experiment["missing_cures"] == []  # it holds the cure: undone, not missing
    line = f"cure {cure[:12]} was reverted here by {undo[:12]}"
    assert line in repo.poison("scope").out
    assert line in repo.poison("scope", "--format", "html").out  # in the cell's tooltip


def test_revert_of_the_cherry_picked_cure_on_lts_poisons_lts_only(tmp_path: Path) -> None:
    # master: base - poison - cure; lts (from poison): other - pick -x of cure - its revert
    repo, poison, cure, _record = _cured_master(tmp_path)
    repo.git("checkout", "-q", "-b", "lts", poison)
    repo.commit("other", {"other.txt": "x\n"})
    repo.git("cherry-pick", "-x", cure)
    pick = repo.rev("HEAD")
    assert repo.poison("check", "lts").rc == 0  # cured by the copy
    undo = _revert(repo, pick)
    data = json.loads(repo.poison("check", "lts", "--json").out)
    [finding] = data["poisoned"]
    assert [(c["commit"], c["recorded"], c["reverted_by"]) for c in finding["reverted_cures"]] == [
        (pick, cure, undo)
    ]
    assert repo.poison("check", "master").rc == 0


def test_a_revert_of_an_unrelated_commit_changes_nothing(tmp_path: Path) -> None:
    # master: ... - cure - unrelated - revert of unrelated
    repo, _poison, _cure, _record = _cured_master(tmp_path)
    unrelated = repo.commit("unrelated", {"other.txt": "y\n"})
    _revert(repo, unrelated)
    assert repo.poison("check").rc == 0


def test_release_whose_cure_was_reverted_since_the_last_one_lists_a_regression(
    tmp_path: Path,
) -> None:
    # master: base - poison - cure (tag v1) - revert of cure (tag v2)
    repo, _poison, _cure, record = _cured_master(tmp_path)
    repo.git("tag", "v1")
    _revert(repo, _cure)
    repo.git("tag", "v2")
    r = repo.poison("check", "v2", "--since", "v1", "--json")
    assert r.rc == 1, r.out
    data = json.loads(r.out)
    assert data["descends_from_since"] is True
    assert [f["id"] for f in data["regressions"]] == [record]
    assert (
        "regressions (cured before, not now): 1" in repo.poison("check", "v2", "--since", "v1").out
    )
