"""Reading what git and pre-commit hand a pre-push hook, and the block policy
(`poison_tools/prepush.py`)."""

from __future__ import annotations

import subprocess

import pytest

from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.prepush import (
    ZERO_SHA,
    Policy,
    PushedRef,
    from_pre_commit_env,
    hook_fetch_timeout,
    parse_pre_push,
)
from tests.gitrepo import BIN, Repo

A, B = "a" * 40, "b" * 40


def test_git_stdin_with_a_new_branch_an_update_and_a_deletion() -> None:
    refs = parse_pre_push(
        f"refs/heads/feature {A} refs/heads/feature {ZERO_SHA}\n"
        f"refs/heads/lts/2.1 {B} refs/heads/lts/2.1 {A}\n"
        f"(delete) {ZERO_SHA} refs/heads/old {B}\n"
    )
    assert [r.branch for r in refs] == ["feature", "lts/2.1", "old"]
    assert [r.deletion for r in refs] == [False, False, True]
    assert refs[1].local_sha == B and refs[1].remote_sha == A


def test_malformed_stdin_line_is_an_error_not_a_skip() -> None:
    with pytest.raises(FatalError, match="line 2"):
        parse_pre_push(
            f"refs/heads/a {A} refs/heads/a {B}\nrefs/heads/b not-a-sha refs/heads/b {B}\n"
        )


def test_pre_commit_env_with_a_range_without_one_and_by_hand() -> None:
    base = {
        "PRE_COMMIT": "1",
        "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/lts/2.1",
        "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/lts/2.1",
    }
    ranged = from_pre_commit_env({**base, "PRE_COMMIT_FROM_REF": A, "PRE_COMMIT_TO_REF": B})
    assert ranged == [PushedRef("refs/heads/lts/2.1", B, "refs/heads/lts/2.1", A)]
    new_history = from_pre_commit_env(base)
    assert new_history == [PushedRef("refs/heads/lts/2.1", None, "refs/heads/lts/2.1")]
    assert from_pre_commit_env({"PRE_COMMIT": "1"}) == []
    assert from_pre_commit_env({"PRE_COMMIT_TO_REF": B}) is None


def test_protect_patterns_match_remote_branch_or_full_ref(repo: Repo) -> None:
    repo.git("config", "--add", "poison.protect", "release/* lts/*")
    repo.git("config", "--add", "poison.protect", "refs/tags/v*")
    policy = Policy.from_config(SourceRepo.discover(str(repo.path)))
    assert policy.protect == ("release/*", "lts/*", "refs/tags/v*")

    def ref(remote: str | None) -> PushedRef:
        return PushedRef("refs/heads/x", A, remote)

    assert policy.protected(ref("refs/heads/release/2.1"))
    assert policy.protected(ref("refs/heads/lts/2.1"))
    assert policy.protected(ref("refs/tags/v2.1.0"))
    assert not policy.protected(ref("refs/heads/releases"))
    assert not policy.protected(ref("refs/heads/master"))
    assert not policy.protected(ref(None))
    assert Policy(strict=True).protected(ref("refs/heads/master"))


def test_hook_fetch_timeout_default_and_bad_values(repo: Repo) -> None:
    assert hook_fetch_timeout(SourceRepo.discover(str(repo.path))) == 3.0
    repo.git("config", "poison.hookFetchTimeout", "0.5")
    assert hook_fetch_timeout(SourceRepo.discover(str(repo.path))) == 0.5
    for bad in ("soon", "0", "-1", "nan"):
        repo.git("config", "poison.hookFetchTimeout", bad)
        with pytest.raises(FatalError, match="hookFetchTimeout"):
            hook_fetch_timeout(SourceRepo.discover(str(repo.path)))


def test_hook_given_malformed_stdin_exits_2_with_one_line(repo: Repo) -> None:
    proc = subprocess.run(
        [str(BIN / "git-poison-hook"), "origin", "url"],
        cwd=repo.path,
        input="garbage\n",
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "git-poison: error: pre-push input line 1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_hook_help_has_an_example() -> None:
    proc = subprocess.run([str(BIN / "git-poison-hook"), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "git poison install-hook" in proc.stdout and "--no-verify" in proc.stdout
