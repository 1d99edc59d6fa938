from __future__ import annotations

from pathlib import Path

import pytest

from poison_tools.cherry_pick import (
    ALREADY_HERE,
    BUSY,
    CONFLICT,
    DIRTY,
    EMPTY,
    PICKED,
    REFUSED,
    cherry_pick,
)
from poison_tools.git import SourceRepo
from tests.gitrepo import Repo


@pytest.fixture
def lts(tmp_path: Path) -> tuple[Repo, str]:
    """master holds a cure that touches fix.py; lts branched before it."""
    r = Repo(tmp_path / "svc")
    r.commit("base", {"app.py": "a\n", "fix.py": "broken\n"})
    r.branch("lts")
    cure = r.commit("the cure", {"fix.py": "fixed\n"})
    r.checkout("lts")
    return r, cure


def pick(r: Repo, cure: str):
    return cherry_pick(SourceRepo.discover(str(r.path)), cure)


def test_cure_is_cherry_picked_onto_lts_with_the_x_trailer(lts):
    r, cure = lts
    result = pick(r, cure)
    assert result.status == PICKED and result.ok
    assert result.commit == r.rev("HEAD")
    assert f"(cherry picked from commit {cure})" in r.git("log", "-1", "--format=%B")
    assert (r.path / "fix.py").read_text() == "fixed\n"


def test_dirty_work_tree_is_refused_and_left_alone(lts):
    r, cure = lts
    head = r.rev("HEAD")
    (r.path / "app.py").write_text("unsaved work\n")
    result = pick(r, cure)
    assert result.status == DIRTY and not result.ok
    assert "app.py" in result.message
    assert r.rev("HEAD") == head
    assert (r.path / "app.py").read_text() == "unsaved work\n"


def test_conflicting_cure_is_aborted_and_the_repository_is_exactly_as_before(lts):
    r, cure = lts
    r.commit("lts diverged", {"fix.py": "lts version\n"})
    (r.path / "notes.txt").write_text("untracked, must survive\n")
    head = r.rev("HEAD")
    status = r.git("status", "--porcelain")
    result = pick(r, cure)
    assert result.status == CONFLICT and not result.ok
    assert result.paths == ("fix.py",)
    assert "aborted" in result.message
    assert r.rev("HEAD") == head
    assert r.git("status", "--porcelain") == status
    assert (r.path / "fix.py").read_text() == "lts version\n"
    assert not (r.path / ".git" / "CHERRY_PICK_HEAD").exists()


def test_cure_whose_changes_are_already_on_lts_picks_nothing(lts):
    r, cure = lts
    r.commit("same fix made by hand", {"fix.py": "fixed\n"})
    head = r.rev("HEAD")
    result = pick(r, cure)
    assert result.status == EMPTY
    assert r.rev("HEAD") == head
    assert r.git("status", "--porcelain") == ""


def test_cure_already_in_history_is_not_picked_again(lts):
    r, cure = lts
    r.checkout("master")
    assert pick(r, cure).status == ALREADY_HERE


def test_unknown_cure_is_refused_with_a_hint_to_fetch(lts):
    r, _ = lts
    result = pick(r, "1" * 40)
    assert result.status == REFUSED and "fetch" in result.message


def test_pick_during_a_rebase_is_refused(lts):
    r, cure = lts
    r.commit("lts diverged", {"fix.py": "lts version\n"})
    r.git("rebase", "master", check=False)  # conflicts: rebase stops half-way
    assert (r.path / ".git" / "rebase-merge").exists()
    result = pick(r, cure)
    assert result.status == BUSY and "rebase" in result.message
