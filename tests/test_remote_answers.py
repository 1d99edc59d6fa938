"""records.remote_answers: what a failed push means. Losing a race to another writer is
retried; anything else the remote says is final, reported with git's reason, and the
remote's words (escaped) never decide which of the two it is."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from poison_tools.errors import FatalError
from poison_tools.records.remote_answers import PushRefused, git_reason, push_outcome
from tests.gitrepo import Repo, bare, git


def push(repo: Repo, remote: Path | str, commit: str) -> tuple[str, str]:
    """`git push --porcelain` as the store runs it (poison_tools.records.store._push):
    must fail, and give what git printed."""
    proc = subprocess.run(
        [
            "git",
            "push",
            "--porcelain",
            "--quiet",
            "--end-of-options",
            str(remote),
            f"{commit}:refs/heads/proj",
        ],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0, proc.stdout
    return proc.stdout, proc.stderr


def refuse_with(remote: Path, script: str) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\n" + script)
    os.chmod(hook, 0o755)


@pytest.fixture
def writers(tmp_path: Path) -> tuple[Repo, Repo, Path]:
    """Two writers and the remote they share, on which the first has pushed."""
    remote = bare(tmp_path / "poisons.git")
    first, second = Repo(tmp_path / "first"), Repo(tmp_path / "second")
    first.commit("a record")
    git(first.path, "push", "-q", str(remote), "HEAD:refs/heads/proj")
    second.commit("another record")
    return first, second, remote


# -- read from what real git says ---------------------------------------------------


def test_a_push_behind_another_writers_is_a_race_to_retry(writers: tuple[Repo, Repo, Path]) -> None:
    _, second, remote = writers
    out, err = push(second, remote, second.rev("HEAD"))
    assert "[rejected]" in out
    assert push_outcome(out, err) == "retry"


def test_a_push_on_a_tip_that_moved_since_the_fetch_is_a_race(
    writers: tuple[Repo, Repo, Path],
) -> None:
    first, second, remote = writers
    git(second.path, "fetch", "-q", str(remote), "proj")
    second.git("reset", "-q", "--hard", "FETCH_HEAD")
    mine = second.commit("on top of what was fetched")
    first.commit("meanwhile")
    git(first.path, "push", "-q", str(remote), "HEAD:refs/heads/proj")
    out, err = push(second, remote, mine)
    assert push_outcome(out, err) == "retry"


def test_a_hook_that_declines_is_final_with_its_reason(writers: tuple[Repo, Repo, Path]) -> None:
    first, _, remote = writers
    refuse_with(remote, "echo 'records must be signed' >&2\nexit 1\n")
    out, err = push(first, remote, first.commit("unsigned"))
    outcome = push_outcome(out, err)
    assert outcome == PushRefused("pre-receive hook declined: records must be signed")


def test_a_hook_that_talks_of_races_is_still_final(writers: tuple[Repo, Repo, Path]) -> None:
    # Its words are the remote's to choose: once they made a refusal look like a race,
    # retried a hundred times ("too busy").
    first, _, remote = writers
    refuse_with(remote, "echo 'non-fast-forward: fetch first, cannot lock ref' >&2\nexit 1\n")
    out, err = push(first, remote, first.commit("refused"))
    outcome = push_outcome(out, err)
    assert isinstance(outcome, PushRefused)
    assert outcome.reason == (
        "pre-receive hook declined: non-fast-forward: fetch first, cannot lock ref"
    )


def test_what_a_hostile_remote_says_is_shown_escaped(writers: tuple[Repo, Repo, Path]) -> None:
    first, _, remote = writers
    refuse_with(remote, r"printf 'no\033]0;owned\007 way\n' >&2" + "\nexit 1\n")
    out, err = push(first, remote, first.commit("refused"))
    outcome = push_outcome(out, err)
    assert isinstance(outcome, PushRefused)
    assert outcome.reason == "pre-receive hook declined: no\\x1b]0;owned\\x07 way"


def test_a_remote_that_is_not_there_is_final_with_gits_fatal_line(
    writers: tuple[Repo, Repo, Path], tmp_path: Path
) -> None:
    first, _, _ = writers
    out, err = push(first, tmp_path / "nowhere.git", first.rev("HEAD"))
    assert out == ""
    outcome = push_outcome(out, err)
    assert isinstance(outcome, PushRefused)
    assert "does not appear to be a git repository" in outcome.reason
    assert not outcome.reason.startswith("fatal:")


# -- the same, from answers a real server gives -------------------------------------


@pytest.mark.parametrize(
    ("out", "err", "expected"),
    [
        ("!\tc:refs/heads/p\t[rejected] (fetch first)\n", "", "retry"),
        ("!\tc:refs/heads/p\t[rejected] (non-fast-forward)\n", "", "retry"),
        ("!\tc:refs/heads/p\t[rejected] (stale info)\n", "", "retry"),
        (
            "!\tc:refs/heads/p\t[remote rejected] (cannot lock ref 'refs/heads/p': is at x)\n",
            "",
            "retry",
        ),
        ("!\tc:refs/heads/p\t[remote rejected] (failed to update ref)\n", "", "retry"),
        ("!\tc:refs/heads/p\t[remote rejected] (incorrect old value provided)\n", "", "retry"),
        # The remote's own words decide nothing: only git's status of the ref does.
        (
            "!\tc:refs/heads/p\t[remote rejected] (pre-receive hook declined)\n",
            "remote: non-fast-forward pushes are not allowed here\n",
            "pre-receive hook declined: non-fast-forward pushes are not allowed here",
        ),
        (
            "!\tc:refs/heads/p\t[remote rejected] (hook declined)\n",
            "remote: \x1b]0;owned\x07no\n",
            "hook declined: \\x1b]0;owned\\x07no",
        ),
        (
            "!\tc:refs/heads/p\t[remote rejected] (unpacker error)\n",
            "error: remote unpack failed: unable to create temporary object directory\n",
            "unpacker error: remote unpack failed: unable to create temporary object directory",
        ),
        (
            "!\tc:refs/heads/p\t[remote rejected] (shallow update not allowed)\n",
            "remote: \nremote:   \n",
            "shallow update not allowed",
        ),
        (
            "",
            "fatal: Authentication failed for 'https://x/'\n",
            "Authentication failed for 'https://x/'",
        ),
        ("", "", "push failed"),
    ],
)
def test_what_a_failed_push_means(out: str, err: str, expected: str) -> None:
    outcome = push_outcome(out, err)
    assert (outcome if isinstance(outcome, str) else outcome.reason) == expected
    assert isinstance(outcome, PushRefused) is (expected != "retry")


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        (
            "warning: redirecting\nfatal: unable to access 'x': timeout\nfatal: second\n",
            "unable to access 'x': timeout",
        ),
        ("  error: something went wrong  \n\n", "error: something went wrong"),
        ("first line\nlast line\n", "last line"),
        ("\n  \n", "fetch failed"),
    ],
    ids=["first-fatal", "stripped", "last-line", "nothing-said"],
)
def test_git_reason_is_the_first_fatal_line_else_the_last(stderr: str, reason: str) -> None:
    assert git_reason(stderr, "fetch failed") == reason


def test_a_refusal_says_which_records_stay_local_and_how_to_share_them() -> None:
    refused = PushRefused("pre-receive hook declined: read-only")
    kept = refused.kept(["k3v7x2m9d0", "a1b2c3d4e5"])
    assert isinstance(kept, FatalError)
    assert str(kept) == (
        "the poisons remote refused the push (pre-receive hook declined: "
        "read-only); kept locally: k3v7x2m9d0, a1b2c3d4e5; `git poison sync` "
        "shares them once the remote accepts them"
    )
    assert "the records made here stay local" in str(refused.kept([]))
