"""The shared poisons remote misbehaving: a push refused for a reason that is not a race
stops at once with git's reason and keeps the record locally; bad timeouts are one line."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.gitrepo import Repo, git
from tests.hostile import project
from tests.test_hook import lts_commit, make_service, push


def _refusing_hook(remote: Path, message: str) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
    hook.chmod(0o755)


def _kept_locally_and_shared_later(repo: Repo, remote: Path, rid: str, err: str) -> None:
    assert "kept locally" in err and rid in err and "git poison sync" in err, err
    local = json.loads(repo.poison("--no-fetch", "list", "--json").out)
    assert rid in [r["id"] for r in local["records"]]
    (remote / "hooks" / "pre-receive").unlink(missing_ok=True)
    git(remote, "config", "--unset-all", "receive.hideRefs", check=False)
    assert repo.poison("sync").rc == 0
    shared = git(remote, "ls-tree", "-r", "--name-only", f"refs/heads/{project(repo)}")
    assert f"records/{rid}.json" in shared.splitlines()


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("writes to the poisons repository are frozen", "pre-receive hook declined"),
        # Words that used to be taken for a race, and retried 100 times ("too busy").
        ("permission denied: unable to create refs here", "pre-receive hook declined"),
    ],
)
def test_push_declined_by_the_remote_stops_at_once_with_its_reason(
    repo: Repo, remote: Path, message: str, reason: str
) -> None:
    bug = repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    repo.add_poison(bug, "while writes were allowed")
    _refusing_hook(remote, message)
    start = time.monotonic()
    r = repo.poison("add", bug, "-m", "refused")
    assert time.monotonic() - start < 15
    assert r.rc == 2 and r.out == "", r.err
    assert len(r.err.strip().splitlines()) == 1 and "too busy" not in r.err
    assert reason in r.err and message in r.err
    rid = r.err.split("kept locally: ")[1].split()[0].strip(",;")
    _kept_locally_and_shared_later(repo, remote, rid, r.err)


def test_push_to_a_hidden_ref_is_refused_with_gits_reason(repo: Repo, remote: Path) -> None:
    bug = repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    git(remote, "config", "receive.hideRefs", "refs/heads/local")
    r = repo.poison("add", bug, "-m", "hidden")
    assert r.rc == 2 and "deny updating a hidden ref" in r.err, r.err
    rid = r.err.split("kept locally: ")[1].split()[0].strip(",;")
    _kept_locally_and_shared_later(repo, remote, rid, r.err)


def test_push_into_the_checked_out_branch_of_a_work_tree_is_refused(
    repo: Repo, tmp_path: Path
) -> None:
    bug = repo.commit("bug")
    worktree = Repo(tmp_path / "poisons-worktree")
    worktree.git("symbolic-ref", "HEAD", "refs/heads/local/svc")
    repo.git("config", "poison.remote", str(worktree.path))
    r = repo.poison("add", bug, "-m", "into a work tree")
    assert r.rc == 2 and "branch is currently checked out" in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1 and "kept locally" in r.err


def test_remote_that_does_not_exist_keeps_the_record_locally_without_retrying(
    repo: Repo, tmp_path: Path
) -> None:
    bug = repo.commit("bug")
    repo.git("config", "poison.remote", (tmp_path / "nowhere.git").as_uri())
    start = time.monotonic()
    r = repo.poison("add", bug, "-m", "offline")
    assert time.monotonic() - start < 15
    assert (
        r.rc == 0 and "locally only" in r.err and "does not appear to be a git repository" in r.err
    )
    assert repo.poison("--no-fetch", "check").rc == 1


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "1e400", "ten"])
def test_fetch_timeout_that_is_not_a_sensible_number_of_seconds_is_one_line(
    repo: Repo, remote: Path, value: str
) -> None:
    bug = repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    repo.add_poison(bug)
    repo.git("config", "poison.fetchTimeout", value)
    for args in (["check"], ["list"], ["add", bug, "-m", "again"]):
        r = repo.poison(*args)
        assert r.rc == 2, (args, r.err)
        assert r.err.strip() == (
            "git poison: error: poison.fetchTimeout is not a number of seconds between 0 and "
            f"3600: {value!r}"
        )
    assert repo.poison("--no-fetch", "check").rc == 1  # nothing to wait for: not needed


def test_hook_fetch_timeout_nan_stops_the_push_with_one_line(tmp_path: Path) -> None:
    svc = make_service(tmp_path)
    lts_commit(svc)
    svc.repo.git("config", "poison.hookFetchTimeout", "nan")
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc != 0 and "poison.hookFetchTimeout is not a number of seconds" in r.err
    assert "internal error" not in r.err
    # The hook waits by its own setting: a bad poison.fetchTimeout does not stop it.
    svc.repo.git("config", "--unset", "poison.hookFetchTimeout")
    svc.repo.git("config", "poison.fetchTimeout", "nan")
    ok = push(svc.repo, "origin", "lts/2.1")
    assert ok.rc == 0 and "lacks the cure" in ok.err, ok.err


def test_remote_whose_object_store_is_read_only_is_refused_not_too_busy(
    repo: Repo, remote: Path
) -> None:
    # The read-only remote of issue 11. Tests run as root, whom `chmod a-w` does not
    # stop; the immutable attribute does, where the file system and capabilities allow.
    bug = repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    repo.add_poison(bug, "while writable")
    import subprocess

    # No skip: a machine where root cannot set the attribute fails here, saying so.
    made = subprocess.run(["chattr", "+i", str(remote / "objects")], capture_output=True, text=True)
    assert made.returncode == 0, (
        f"chattr +i is needed to make a directory read-only for root: {made.stderr}"
    )
    try:
        start = time.monotonic()
        r = repo.poison("add", bug, "-m", "read-only")
        assert time.monotonic() - start < 15
    finally:
        subprocess.run(["chattr", "-i", str(remote / "objects")], check=True)
    assert r.rc == 2 and "too busy" not in r.err, r.err
    assert (
        "unpacker error: remote unpack failed: unable to create temporary object directory" in r.err
    )
    rid = r.err.split("kept locally: ")[1].split()[0].strip(",;")
    _kept_locally_and_shared_later(repo, remote, rid, r.err)


def test_what_an_unreachable_remote_says_is_shown_escaped(repo: Repo, tmp_path: Path) -> None:
    bug = repo.commit("bug")
    repo.add_poison(bug)
    helper = tmp_path / "hostile-remote"
    helper.write_text("#!/bin/sh\nprintf 'fatal: \\033]0;owned\\007\\033[2Jgone\\n' >&2\nexit 1\n")
    helper.chmod(0o755)
    # --global: the poisons repository reads its own config, not the source repository's.
    repo.git("config", "--global", "protocol.ext.allow", "always")
    repo.git("config", "poison.remote", f"ext::{helper}")
    r = repo.poison("check")
    assert r.rc == 1 and "unreachable" in r.err, r.err
    assert "\x1b" not in r.err and "\\x1b]0;owned\\x07\\x1b[2Jgone" in r.err


def test_fifo_where_the_last_fetch_time_is_kept_does_not_block_a_fetch(
    repo: Repo, remote: Path
) -> None:
    bug = repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    repo.add_poison(bug, "shared")
    stamp = Path(repo.git("rev-parse", "--git-common-dir"))
    stamp = (stamp if stamp.is_absolute() else repo.path / stamp) / "poison" / "poison-last-fetch"
    stamp.unlink(missing_ok=True)
    os.mkfifo(stamp)
    r = repo.poison("check", timeout=30)
    assert r.rc == 1, r.err
    assert stamp.is_file()  # replaced by the time of this fetch
