"""The ref listing shared by one question: every ref, HEAD in every state, aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from poison_tools.git import SourceRepo
from poison_tools.reach.answer import Reachability
from poison_tools.reach.index import IndexedReach
from poison_tools.reach.refs import RefListing
from poison_tools.reach.walk import GitWalk
from tests.gitrepo import Repo, git


@pytest.fixture
def cloned(tmp_path: Path) -> Repo:
    """A clone of master with an lts branch, an annotated tag, a lightweight tag and a
    tag of a blob: origin/HEAD is an alias of origin/master."""
    origin = Repo(tmp_path / "origin")
    origin.commit("one")
    origin.branch("lts")
    origin.commit("two")
    origin.git("tag", "-a", "-m", "release", "v1", "HEAD~1")
    origin.git("tag", "light", "HEAD")
    blob = origin.git("hash-object", "-w", "--stdin", input="a blob\n")
    origin.git("tag", "blobtag", blob)
    return Repo.clone(origin.path, tmp_path / "clone")


def test_lists_every_ref_with_aliases_marked(cloned: Repo) -> None:
    listing = RefListing(SourceRepo.discover(str(cloned.path)), background=True)
    refs = {r.name: r for r in listing.refs()}
    assert refs["refs/heads/master"].object == cloned.rev("master")
    assert refs["refs/remotes/origin/lts"].object == cloned.rev("origin/lts")
    assert refs["refs/remotes/origin/HEAD"].symref == "refs/remotes/origin/master"
    assert refs["refs/tags/v1"].object == cloned.git("rev-parse", "refs/tags/v1")  # the tag object
    assert [r.name for r in listing.under(["refs/tags"])] == [
        "refs/tags/blobtag",
        "refs/tags/light",
        "refs/tags/v1",
    ]


def test_head_on_a_branch_detached_and_unborn(cloned: Repo, tmp_path: Path) -> None:
    repo = SourceRepo.discover(str(cloned.path))
    assert RefListing(repo).head() == cloned.rev("master")
    cloned.git("checkout", "-q", "--detach", "origin/lts")
    assert RefListing(repo).head() == cloned.rev("origin/lts")
    cloned.git("checkout", "-q", "--orphan", "empty")
    assert RefListing(repo).head() is None


def test_head_of_a_linked_worktree_is_its_own(cloned: Repo, tmp_path: Path) -> None:
    cloned.git("worktree", "add", "-q", str(tmp_path / "wt"), "origin/lts")
    repo = SourceRepo.discover(str(tmp_path / "wt"))
    assert RefListing(repo).head() == cloned.rev("origin/lts")


@pytest.mark.parametrize("engine", [GitWalk, IndexedReach], ids=["git", "index"])
def test_ref_commits_peel_tags_and_leave_out_aliases_and_blobs(cloned: Repo, engine: type) -> None:
    reach: Reachability = engine(SourceRepo.discover(str(cloned.path)))
    got = dict(reach.ref_commits(["refs/heads", "refs/remotes", "refs/tags"]))
    assert got == {
        "refs/heads/master": cloned.rev("master"),
        "refs/remotes/origin/master": cloned.rev("master"),
        "refs/remotes/origin/lts": cloned.rev("origin/lts"),
        "refs/tags/v1": cloned.rev("v1"),
        "refs/tags/light": cloned.rev("master"),
    }
    assert reach.ref_commits([]) == []


def test_an_index_update_reads_the_refs_again(cloned: Repo) -> None:
    reach = IndexedReach(SourceRepo.discover(str(cloned.path)))
    assert "refs/heads/new" not in dict(reach.ref_commits(["refs/heads"]))
    new = cloned.commit("three")
    git(cloned.path, "branch", "new", new)
    reach.update()
    assert dict(reach.ref_commits(["refs/heads"]))["refs/heads/new"] == new
