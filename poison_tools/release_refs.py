"""Which refs are release lines: the order people want to read "fixed on …" in.

A cure found on 680 branches is named by its first three: release branches and the main
line first, then tags, then everything else (feature branches last), so "fixed on
release/5.0, lts/4.1, v5.0.9" rather than three feature branches that merged master.
No git here: this is read on the check path.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poison_tools.git import SourceRepo

# `poison.releaseBranches` when unset: the branch names release lines usually take.
RELEASE_BRANCHES = (
    "release/*",
    "release-*",
    "releases/*",
    "lts/*",
    "lts-*",
    "stable/*",
    "stable-*",
    "maint/*",
    "[0-9]*.[0-9]*",
    "v[0-9]*.[0-9]*",
)
MAIN_LINES = ("master", "main", "trunk", "develop")


def release_patterns(repo: SourceRepo) -> list[str]:
    """`poison.releaseBranches` (multi-valued, from the config already read), or the
    default patterns when it is unset."""
    configured = [v.strip() for v in repo.config.get("poison.releasebranches", []) if v.strip()]
    return configured or list(RELEASE_BRANCHES)


def branch_name(ref: str) -> str:
    """`lts/1.0` of refs/heads/lts/1.0 and of refs/remotes/origin/lts/1.0."""
    if ref.startswith("refs/remotes/"):
        return ref[len("refs/remotes/") :].partition("/")[2]
    return ref.removeprefix("refs/heads/")


def is_release_branch(ref: str, patterns: Sequence[str] = RELEASE_BRANCHES) -> bool:
    if not ref.startswith(("refs/heads/", "refs/remotes/")):
        return False
    name = branch_name(ref)
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def ref_rank(ref: str) -> int:
    """0 release branch or main line, 1 tag, 2 any other branch, 3 anything else."""
    if ref.startswith(("refs/heads/", "refs/remotes/")):
        return 0 if branch_name(ref) in MAIN_LINES or is_release_branch(ref) else 2
    return 1 if ref.startswith("refs/tags/") else 3


def release_first(refs: Iterable[str]) -> list[str]:
    """`refs` with release lines and tags first, in their order otherwise."""
    return sorted(refs, key=ref_rank)
