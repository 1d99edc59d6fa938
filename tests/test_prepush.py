"""Reading what git and pre-commit hand a pre-push hook, and the block policy
(`poison_tools/prepush.py`). What git hands the hook is taken from real pushes: a
pre-push hook that only keeps its stdin, in a real repository pushing to a bare one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.prepush import (
    ZERO_SHA,
    Policy,
    PushedRef,
    describe_refs,
    from_pre_commit_env,
    hook_fetch_timeout,
    parse_pre_push,
)
from tests.gitrepo import BIN, Repo, bare

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


@pytest.fixture
def pushing(repo: Repo, tmp_path: Path) -> Repo:
    """`repo` (master: three commits) with a bare `origin` and a pre-push hook that only
    keeps what git writes on its stdin (`_stdin_of`)."""
    repo.commit("second")
    repo.commit("third")
    repo.git("remote", "add", "origin", str(bare(tmp_path / "origin.git")))
    hook = repo.path / ".git" / "hooks" / "pre-push"
    hook.write_text('#!/bin/sh\ncat > "$(git rev-parse --git-dir)/pre-push-stdin"\n')
    hook.chmod(0o755)
    return repo


def _stdin_of(repo: Repo, *push: str) -> str:
    """What git wrote to the pre-push hook for `git push origin PUSH...`."""
    repo.git("push", "-q", "origin", *push)
    return (repo.path / ".git" / "pre-push-stdin").read_text()


def test_new_branch_from_git_has_no_remote_commit_and_is_no_deletion(pushing: Repo) -> None:
    head = pushing.rev("HEAD")
    [ref] = parse_pre_push(_stdin_of(pushing, "master:refs/heads/lts/2.1"))
    assert ref == PushedRef("refs/heads/master", head, "refs/heads/lts/2.1", ZERO_SHA)
    assert not ref.deletion and ref.branch == "lts/2.1"


def test_update_and_force_push_from_git_name_both_tips(pushing: Repo) -> None:
    head, older = pushing.rev("HEAD"), pushing.rev("HEAD~2")
    _stdin_of(pushing, "master")
    [update] = parse_pre_push(_stdin_of(pushing, "HEAD~2:refs/heads/old"))
    assert (update.local_ref, update.local_sha, update.remote_sha) == ("HEAD~2", older, ZERO_SHA)
    # A force push back in history: the remote tip is not an ancestor of what is pushed,
    # and the local "ref" is the revision as typed.
    [forced] = parse_pre_push(_stdin_of(pushing, "--force", "HEAD~2:master"))
    assert forced == PushedRef("HEAD~2", older, "refs/heads/master", head)
    assert not forced.deletion and forced.branch == "master"


def test_deleted_branch_from_git_is_a_deletion_of_its_remote_tip(pushing: Repo) -> None:
    head = pushing.rev("HEAD")
    _stdin_of(pushing, "master:refs/heads/gone")
    [deleted] = parse_pre_push(_stdin_of(pushing, "--delete", "gone"))
    assert deleted == PushedRef("(delete)", ZERO_SHA, "refs/heads/gone", head)
    assert deleted.deletion and deleted.branch == "gone"
    assert describe_refs([deleted]) == "gone"


def test_tags_from_git_keep_their_full_ref_and_an_annotated_one_its_tag_object(
    pushing: Repo,
) -> None:
    pushing.git("tag", "v1.0", "HEAD~1")
    pushing.git("tag", "-a", "-m", "release 2.0", "v2.0")
    refs = parse_pre_push(_stdin_of(pushing, "v1.0", "v2.0"))
    assert [(r.local_ref, r.remote_ref) for r in refs] == [
        ("refs/tags/v1.0", "refs/tags/v1.0"),
        ("refs/tags/v2.0", "refs/tags/v2.0"),
    ]
    # The lightweight tag names the commit; the annotated one names the tag object, which
    # the hook resolves to its commit (a push's tip is not always a commit).
    assert refs[0].local_sha == pushing.rev("HEAD~1")
    assert refs[1].local_sha == pushing.git("rev-parse", "v2.0") != pushing.rev("HEAD")
    assert [r.branch for r in refs] == ["refs/tags/v1.0", "refs/tags/v2.0"]
    assert Policy(("refs/tags/v2*",)).protected(refs[1])
    assert not Policy(("v2*",)).protected(refs[1])  # a tag is matched by its full ref
    assert describe_refs(refs) == "refs/tags/v1.0, refs/tags/v2.0"


def test_pushing_a_commit_by_its_sha_names_the_sha_as_the_local_ref(pushing: Repo) -> None:
    sha = pushing.rev("HEAD~1")
    [ref] = parse_pre_push(_stdin_of(pushing, f"{sha}:refs/heads/by-sha"))
    assert ref == PushedRef(sha, sha, "refs/heads/by-sha", ZERO_SHA)


def test_odd_but_valid_input_blank_lines_crlf_no_final_newline_sha256() -> None:
    long_a, long_b = "a" * 64, "b" * 64
    refs = parse_pre_push(
        f"\n   \nrefs/heads/a {A} refs/heads/a {B}\r\n\t\n"
        f"my source  {long_a}   refs/heads/b {long_b}"
    )
    assert refs == [
        PushedRef("refs/heads/a", A, "refs/heads/a", B),
        PushedRef("my source", long_a, "refs/heads/b", long_b),
    ]
    assert parse_pre_push("") == [] and parse_pre_push("\n\n") == []
    assert describe_refs([]) == "nothing"


@pytest.mark.parametrize(
    "line",
    [
        "garbage",
        f"refs/heads/a {A} refs/heads/a",  # three fields
        f"{A} refs/heads/a {B}",  # no local ref
        f"refs/heads/a {A.upper()} refs/heads/a {B}",  # git writes lowercase hex only
        f"refs/heads/a {A[:39]} refs/heads/a {B}",  # one digit short
        f"refs/heads/a {A} refs/heads/a {B} extra",  # the remote sha is not last
        f"refs/heads/a {A} refs/heads/a {'g' * 40}",
    ],
)
def test_odd_input_names_its_line_number_and_never_passes(line: str) -> None:
    with pytest.raises(FatalError, match="pre-push input line 3 is not") as e:
        parse_pre_push(f"refs/heads/ok {A} refs/heads/ok {B}\n\n{line}\n")
    assert "\n" not in str(e.value)


def test_odd_input_is_quoted_short_with_its_control_characters_escaped() -> None:
    with pytest.raises(FatalError) as e:
        parse_pre_push("\x1b[31m" + "x" * 500 + "\n")
    message = str(e.value)
    assert "\x1b" not in message and "\\x1b" in message
    assert len(message) < 200


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
