"""git.py on real repositories: `run`, the streaming helper `stream`, `clean_env`.

Every run of git is checked: a failed git raises `GitError` with its stderr, whether its
output was read whole (`run`) or as git wrote it (`stream`); a reader that stops early
is not a failure; a git that writes a lot to stderr (or reads a lot from stdin) does not
hang the reader.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from poison_tools import git
from poison_tools.git import GitError, SourceRepo
from poison_tools.reach.walk import GitWalk
from tests.gitrepo import Repo
from tests.waiting import within


def long_history(path: Path, count: int) -> list[str]:
    """A repository of `count` commits on master (fast-import: seconds, not minutes);
    their SHAs, oldest first."""
    repo = Repo(path)
    stream = []
    for i in range(1, count + 1):
        msg = f"commit {i}\n".encode()
        stream.append(b"commit refs/heads/master\nmark :%d\n" % i)
        stream.append(b"committer A <a@example.com> %d +0000\n" % (1_000_000 + i))
        stream.append(b"data %d\n%s" % (len(msg), msg))
        if i > 1:
            stream.append(b"from :%d\n" % (i - 1))
        stream.append(b"\n")
    git.run(["-C", str(repo.path), "fast-import", "--quiet"], input=b"".join(stream))
    return git.output(["-C", str(repo.path), "rev-list", "--reverse", "master"]).split()


def lose_object(git_dir: Path, sha: str) -> None:
    """Delete a loose object, as a damaged clone lacks one."""
    (git_dir / "objects" / sha[:2] / sha[2:]).unlink()


def running_on(path: Path) -> list[str]:
    """Processes (git) whose command line names `path`: none once a stream is done."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(path).encode() in cmdline:
            found.append(pid)
    return found


# -- run ------------------------------------------------------------------------------


def test_run_of_an_unknown_revision_raises_git_error_with_gits_stderr(repo: Repo) -> None:
    with pytest.raises(GitError) as e:
        git.run(["-C", str(repo.path), "rev-parse", "--verify", "no-such-branch"])
    assert e.value.returncode == 128 and "Needed a single revision" in e.value.stderr
    assert e.value.cmd[0] == "git" and "rev-parse" in e.value.cmd
    assert str(e.value) == "git rev-parse failed: fatal: Needed a single revision"


def test_run_unchecked_returns_the_failure_instead(repo: Repo) -> None:
    proc = git.run(["-C", str(repo.path), "rev-parse", "--verify", "nope"], check=False)
    assert proc.returncode == 128 and b"Needed a single revision" in proc.stderr


def test_git_error_names_the_subcommand_after_the_options() -> None:
    e = GitError(["git", "--git-dir", "/x", "-c", "a=b", "cat-file", "-t"], 128, "", "fatal: bad\n")
    assert str(e) == "git cat-file failed: fatal: bad"
    assert str(GitError(["git", "log"], -9, "", "")) == "git log failed: killed by signal 9"
    assert str(GitError(["git", "log"], 1, "", "")) == "git log failed: exit code 1"


# -- clean_env ------------------------------------------------------------------------


def test_git_dir_and_index_file_of_a_hook_do_not_leak_into_another_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hook runs with GIT_DIR and GIT_INDEX_FILE set for the repository being pushed:
    git run on another repository must look at that one."""
    mine, other = Repo(tmp_path / "mine"), Repo(tmp_path / "other")
    mine.commit("in mine", {"a.txt": "a\n"})
    other.commit("in other")
    monkeypatch.setenv("GIT_DIR", str(other.path / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "elsewhere.index"))
    env = git.clean_env({"GIT_POISON_X": "1"})
    assert "GIT_DIR" not in env and "GIT_INDEX_FILE" not in env and env["GIT_POISON_X"] == "1"
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    top = git.output(["-C", str(mine.path), "rev-parse", "--absolute-git-dir"]).strip()
    assert Path(top) == (mine.path / ".git").resolve()
    # With the foreign index, every file of mine would look deleted.
    assert git.output(["-C", str(mine.path), "status", "--porcelain"]) == ""
    with git.stream(["-C", str(mine.path), "log", "--format=%s"]) as out:
        assert out.read() == b"in mine\n"


# -- stream ---------------------------------------------------------------------------


def test_stream_yields_what_git_writes_and_ends_quietly(repo: Repo) -> None:
    second = repo.commit("second")
    with git.stream(["-C", str(repo.path), "rev-list", "HEAD"]) as out:
        lines = out.read().split()
    assert lines[0].decode() == second and len(lines) == 2


def test_stream_of_an_unknown_revision_raises_git_error_with_gits_stderr(repo: Repo) -> None:
    with pytest.raises(GitError) as e:
        with git.stream(["-C", str(repo.path), "log", "no-such-branch", "--"]) as out:
            assert out.read() == b""
    assert e.value.returncode == 128
    assert "bad revision 'no-such-branch'" in e.value.stderr
    assert str(e.value) == "git log failed: fatal: bad revision 'no-such-branch'"


def test_walk_that_git_cannot_finish_raises_after_the_commits_it_listed(tmp_path: Path) -> None:
    """A commit lost from the middle of the history: rev-list lists the newer ones, then
    dies. The output read so far is real, but the walk was not complete: an error."""
    shas = long_history(tmp_path / "svc", 5)
    lose_object(tmp_path / "svc" / ".git", shas[2])
    listed: list[str] = []
    with pytest.raises(GitError) as e:
        with git.stream(["-C", str(tmp_path / "svc"), "rev-list", "master"]) as out:
            listed += [line.decode().strip() for line in out]
    # (git reads a commit's parents before it lists the commit)
    assert listed in ([shas[4]], [shas[4], shas[3]])
    assert shas[2] in e.value.stderr and e.value.returncode != 0


def test_reader_that_stops_early_is_not_a_failure_and_leaves_no_git(tmp_path: Path) -> None:
    """20,000 commits fill the pipe: git is still writing when the reader stops."""
    shas = long_history(tmp_path / "svc", 20_000)
    with git.stream(["-C", str(tmp_path / "svc"), "rev-list", "master"]) as out:
        first = out.readline().decode().strip()
        assert running_on(tmp_path / "svc")
    assert first == shas[-1]
    assert not running_on(tmp_path / "svc")


def test_reader_that_stops_before_a_later_failure_is_not_a_failure(tmp_path: Path) -> None:
    """The reader had what it wanted (the newest commit) before git reached the commit
    it cannot read: what git wrote before failing is still what git wrote."""
    shas = long_history(tmp_path / "svc", 5)
    lose_object(tmp_path / "svc" / ".git", shas[0])
    with git.stream(["-C", str(tmp_path / "svc"), "rev-list", "master"]) as out:
        first = out.readline().decode().strip()
    assert first == shas[-1]


def test_an_exception_in_the_reader_goes_on_and_git_is_killed(tmp_path: Path) -> None:
    long_history(tmp_path / "svc", 20_000)
    with pytest.raises(ZeroDivisionError):
        with git.stream(["-C", str(tmp_path / "svc"), "rev-list", "master"]) as out:
            out.readline()
            raise ZeroDivisionError


def test_a_megabyte_of_stderr_does_not_hang_the_reader(repo: Repo) -> None:
    """git writes to stderr before its stdout: a reader waiting on stdout while nobody
    drains stderr would wait forever once stderr's pipe is full (64 KiB)."""
    spew = "!f() { head -c 1000000 /dev/zero | tr '\\0' x >&2; echo done; exit 3; }; f"

    def read() -> bytes:
        with git.stream(["-C", str(repo.path), "-c", f"alias.spew={spew}", "spew"]) as out:
            return out.read()

    with pytest.raises(GitError) as e:
        within(30, read)
    assert e.value.returncode == 3 and e.value.stderr.count("x") == 1_000_000


def test_input_larger_than_a_pipe_is_fed_while_git_answers(repo: Repo) -> None:
    """cat-file answers each line as it reads it: fed all at once from this thread, the
    two pipes would fill both ways and hang."""
    head = repo.rev("HEAD")
    asked = [head] * 100_000

    def read() -> list[bytes]:
        with git.stream(
            ["-C", str(repo.path), "cat-file", "--batch-check"],
            input="".join(a + "\n" for a in asked).encode(),
        ) as out:
            return out.read().splitlines()

    lines = within(60, read)
    assert isinstance(lines, list) and len(lines) == 100_000
    assert len(set(lines)) == 1 and lines[0].startswith(f"{head} commit ".encode())


def test_stream_as_the_stdin_of_another_is_a_pipeline(repo: Repo) -> None:
    second = repo.commit("second")
    with (
        git.stream(["-C", str(repo.path), "rev-list", "HEAD"]) as listed,
        git.stream(
            ["-C", str(repo.path), "cat-file", "--batch-check=%(objecttype) %(objectname)"],
            stdin=listed,
        ) as out,
    ):
        kinds = out.read().decode().splitlines()
    assert kinds[0] == f"commit {second}" and len(kinds) == 2


def test_failure_of_the_first_stage_of_a_pipeline_is_its_own(repo: Repo) -> None:
    with pytest.raises(GitError) as e:
        with (
            git.stream(["-C", str(repo.path), "rev-list", "no-such-branch", "--"]) as listed,
            git.stream(["-C", str(repo.path), "cat-file", "--batch-check"], stdin=listed) as out,
        ):
            assert out.read() == b""
    assert "rev-list" in e.value.cmd and "no-such-branch" in e.value.stderr


# -- what uses it ---------------------------------------------------------------------


def test_git_walk_over_a_lost_commit_is_an_error_not_unreachable(tmp_path: Path) -> None:
    """GitWalk used to drop rev-list's stderr and exit status: a walk cut short by a
    missing commit answered "not an ancestor" for every commit below it."""
    shas = long_history(tmp_path / "svc", 5)
    lose_object(tmp_path / "svc" / ".git", shas[2])
    walk = GitWalk(SourceRepo.discover(str(tmp_path / "svc")))
    with pytest.raises(GitError) as e:
        walk.ancestors(shas[4], [shas[0], shas[3]])
    assert shas[2] in str(e.value.stderr)


def test_git_walk_still_stops_early_once_every_candidate_is_found(tmp_path: Path) -> None:
    shas = long_history(tmp_path / "svc", 5)
    lose_object(tmp_path / "svc" / ".git", shas[0])  # never reached: the walk stops first
    walk = GitWalk(SourceRepo.discover(str(tmp_path / "svc")))
    answer = walk.ancestors(shas[4], [shas[3]])
    assert answer.reachable == {shas[3]}


def test_no_git_on_path_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(git.FatalError, match="git is not installed"):
        with git.stream(["version"]):
            pass
