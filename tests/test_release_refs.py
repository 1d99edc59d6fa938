"""release_refs: release lines and the main line first, then tags, then other branches;
which branches are release lines is `poison.releaseBranches`, or the usual names."""

from __future__ import annotations

import pytest

from poison_tools.git import SourceRepo
from poison_tools.release_refs import (
    RELEASE_BRANCHES,
    branch_name,
    is_release_branch,
    ref_rank,
    release_first,
    release_patterns,
)
from tests.gitrepo import Repo


def test_release_lines_and_the_main_line_then_tags_then_feature_branches() -> None:
    refs = [
        "refs/heads/feature/a",
        "refs/heads/main",
        "refs/remotes/origin/1.2",
        "refs/heads/release/2.0",
        "refs/heads/stable-3",
        "refs/tags/v1.0.1",
        "refs/heads/v1.2.x",
        "refs/heads/fix/1.2-crash",
        "refs/remotes/origin/lts/1",
        "refs/heads/master",
        "refs/heads/lts/0.9",
    ]
    assert release_first(refs) == [
        "refs/heads/main",
        "refs/remotes/origin/1.2",
        "refs/heads/release/2.0",
        "refs/heads/stable-3",
        "refs/heads/v1.2.x",
        "refs/remotes/origin/lts/1",
        "refs/heads/master",
        "refs/heads/lts/0.9",
        "refs/tags/v1.0.1",
        "refs/heads/feature/a",
        "refs/heads/fix/1.2-crash",
    ]


def test_anything_but_branches_and_tags_comes_last_in_its_own_order() -> None:
    refs = [
        "refs/notes/commits",
        "refs/heads/topic",
        "refs/stash",
        "refs/tags/v2",
        "refs/remotes/upstream/develop",
    ]
    assert release_first(refs) == [
        "refs/remotes/upstream/develop",
        "refs/tags/v2",
        "refs/heads/topic",
        "refs/notes/commits",
        "refs/stash",
    ]
    assert [ref_rank(r) for r in refs] == [3, 2, 3, 1, 0]


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("refs/heads/lts/1.0", "lts/1.0"),
        ("refs/remotes/origin/lts/1.0", "lts/1.0"),
        ("refs/remotes/upstream/main", "main"),
        ("refs/heads/main", "main"),
    ],
)
def test_a_branch_is_named_without_its_remote(ref: str, name: str) -> None:
    assert branch_name(ref) == name


@pytest.mark.parametrize(
    "ref",
    [
        "refs/heads/release/5.0",
        "refs/heads/release-5",
        "refs/heads/releases/2024.1",
        "refs/heads/lts/4.1",
        "refs/heads/lts-4",
        "refs/heads/stable/3",
        "refs/heads/stable-3",
        "refs/heads/maint/2.x",
        "refs/heads/2.1",
        "refs/heads/v2.1",
        "refs/remotes/origin/v2.1.x",
    ],
)
def test_the_usual_release_branch_names_are_release_lines(ref: str) -> None:
    assert is_release_branch(ref)


@pytest.mark.parametrize(
    "ref",
    [
        "refs/heads/feature/release-notes",
        "refs/heads/fix/1.2-crash",
        "refs/heads/master",
        "refs/heads/v2",
        "refs/heads/versions",
        "refs/tags/release/5.0",
        "refs/tags/v2.1",
        "refs/notes/release/1",
    ],
)
def test_other_branches_and_anything_not_a_branch_are_not(ref: str) -> None:
    assert not is_release_branch(ref)


def test_configured_patterns_replace_the_usual_names(repo: Repo) -> None:
    repo.git("config", "--add", "poison.releaseBranches", "  prod-*  ")
    repo.git("config", "--add", "poison.releaseBranches", "   ")  # blank: ignored
    repo.git("config", "--add", "poison.releaseBranches", "hotfix/[0-9]*")
    patterns = release_patterns(SourceRepo.discover(str(repo.path)))
    assert patterns == ["prod-*", "hotfix/[0-9]*"]
    assert is_release_branch("refs/remotes/origin/prod-eu", patterns)
    assert is_release_branch("refs/heads/hotfix/7", patterns)
    assert not is_release_branch("refs/heads/release/5.0", patterns)  # replaced, not added
    assert not is_release_branch("refs/heads/hotfix/x", patterns)


def test_unset_or_blank_patterns_give_the_usual_names(repo: Repo) -> None:
    assert release_patterns(SourceRepo.discover(str(repo.path))) == list(RELEASE_BRANCHES)
    repo.git("config", "poison.releaseBranches", "")
    assert release_patterns(SourceRepo.discover(str(repo.path))) == list(RELEASE_BRANCHES)


def test_patterns_match_case_as_git_names_branches() -> None:
    assert not is_release_branch("refs/heads/Release/5.0")
    assert is_release_branch("refs/heads/Release/5.0", ["Release/*"])
