"""What the CLI writes, the reader accepts: a record the reader would refuse is never
written (exit 2, the limit named, nothing recorded), so it can always be withdrawn."""

from __future__ import annotations

import json
import os
import subprocess

from tests.gitrepo import BIN, Repo, git
from tests.hostile import project, store_of


def _tip(repo: Repo) -> str | None:
    if not store_of(repo).exists():
        return None
    out = git(store_of(repo), "for-each-ref", "--format=%(objectname)")
    return out or None


def _refused(repo: Repo, limit: int, *args: str) -> None:
    before = _tip(repo)
    r = repo.poison(*args)
    assert r.rc == 2, (r.out, r.err)
    assert f"longer than {limit} characters" in r.err and "nothing was recorded" in r.err
    assert len(r.err.strip().splitlines()) == 1 and "internal error" not in r.err
    assert _tip(repo) == before


def test_comment_bug_and_author_over_the_limits_are_refused_before_anything_is_written(
    repo: Repo,
) -> None:
    bug = repo.commit("bug")
    repo.add_poison(bug, "so that the poisons branch exists")
    _refused(repo, 4096, "add", bug, "-m", "x" * 4097)
    _refused(repo, 256, "add", bug, "-m", "long bug", "--bug", "B" * 257)
    repo.git("config", "user.name", "N" * 257)
    _refused(repo, 256, "add", bug, "-m", "long name")


def test_comment_at_the_limit_is_written_and_read_back(repo: Repo) -> None:
    bug = repo.commit("bug")
    rid = repo.add_poison(bug, "y" * 4096, "--bug", "B" * 256)
    [record] = json.loads(repo.poison("list", "--json").out)["records"]
    assert record["id"] == rid and len(record["comment"]) == 4096
    assert repo.poison("check").rc == 1


def test_withdrawal_reason_over_the_limit_is_refused_and_the_record_can_still_be_withdrawn(
    repo: Repo,
) -> None:
    bug = repo.commit("bug")
    rid = repo.add_poison(bug)
    _refused(repo, 4096, "withdraw", rid, "-m", "r" * 4097)
    assert repo.poison("check").rc == 1  # still counted
    assert repo.poison("withdraw", rid, "-m", "not a bug").rc == 0
    assert repo.poison("check").rc == 0


def test_comment_that_is_not_utf8_is_refused_with_one_line(repo: Repo) -> None:
    bug = repo.commit("bug")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [b"git", b"poison", b"add", bug.encode(), b"-m", b"caf\xe9 hangs"],
        cwd=repo.path,
        capture_output=True,
        env=env,
    )
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 2, err
    assert "field 'comment' is not valid UTF-8" in err and "internal error" not in err
    assert (
        _tip(repo) is None
        or git(store_of(repo), "ls-tree", "-r", "--name-only", f"refs/heads/{project(repo)}") == ""
    )


def test_author_name_that_is_not_utf8_is_refused_with_one_line(repo: Repo) -> None:
    bug = repo.commit("bug")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [b"git", b"-c", b"user.name=Caf\xe9", b"poison", b"add", bug.encode(), b"-m", b"hangs"],
        cwd=repo.path,
        capture_output=True,
        env=env,
    )
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 2 and "field 'editor' is not valid UTF-8" in err, err
