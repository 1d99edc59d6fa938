"""Running git, and the facts about the source repository that every command needs.

All git calls go through `run()` (output read whole) or `stream()` (output read as git
writes it): both strip the environment variables that tie git to one repository (hooks
run with GIT_DIR set; see pre-commit's `no_git_env`), never let git ask for credentials
on a terminal, and raise `GitError` carrying the command, the exit code and stderr.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO

from poison_tools.errors import FatalError

# Variables that make git look at a repository other than the one we name.
_REPO_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_QUARANTINE_PATH",
    }
)

SHA_RE = re.compile(r"\A(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")


class GitError(FatalError):
    def __init__(self, cmd: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.cmd = tuple(cmd)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        status = f"killed by signal {-returncode}" if returncode < 0 else f"exit code {returncode}"
        last = stderr.strip().splitlines()[-1] if stderr.strip() else status
        super().__init__(f"git {_subcommand(cmd)} failed: {last}")


def _subcommand(cmd: Sequence[str]) -> str:
    """`cat-file` of `git --git-dir D -c k=v cat-file ...`: what the user would recognise."""
    args = list(cmd[1:])
    while args and args[0] in ("--git-dir", "--work-tree", "-c", "-C"):
        args = args[2:]
    return " ".join(args[:1]) or "(no command)"


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    # A missing object in a partial clone must not trigger a silent network fetch in
    # the middle of a check (honoured by git >= 2.44, harmless before).
    env["GIT_NO_LAZY_FETCH"] = "1"
    env.setdefault("LC_ALL", "C")
    if extra:
        env.update(extra)
    return env


def run(
    args: Sequence[str],
    *,
    input: bytes | None = None,
    check: bool = True,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run git; on `timeout`, kill git *and* its helpers (ssh, remote-http).

    Killing only git would leave its helper holding our pipes open, and the read
    would hang past the timeout, which is the very thing the timeout is for.
    """
    cmd = ["git", *args]
    proc = _popen(
        cmd,
        subprocess.PIPE if input is not None else subprocess.DEVNULL,
        env,
        start_new_session=timeout is not None,
    )
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if check and proc.returncode != 0:
        raise GitError(
            cmd, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
        )
    return result


def _popen(
    cmd: list[str],
    stdin: IO[bytes] | int,
    env: Mapping[str, str] | None,
    *,
    start_new_session: bool = False,
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            cmd,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=clean_env(env),
            start_new_session=start_new_session,
        )
    except FileNotFoundError:
        raise FatalError("git is not installed or not on PATH.") from None


def run_at(
    git_dir: str,
    args: Sequence[str],
    *,
    input: bytes | None = None,
    check: bool = True,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """`run` in the repository at `git_dir` (the poisons repository), never pausing for
    an automatic gc: every record is a small commit, and a command must not stop for a
    gc nobody asked for."""
    return run(
        ["--git-dir", git_dir, "-c", "gc.auto=0", *args],
        input=input,
        check=check,
        timeout=timeout,
        env=env,
    )


@contextmanager
def stream(
    args: Sequence[str],
    *,
    input: bytes | None = None,
    stdin: IO[bytes] | None = None,
    env: Mapping[str, str] | None = None,
    echo_stderr: bool = False,
) -> Iterator[IO[bytes]]:
    """Run git and yield its stdout, a binary stream, to be read as git writes it.

    `input` is fed to git's stdin from a thread (git may write before it has read it
    all); `stdin` is instead a stream to read from, such as another `stream()`'s stdout
    in a pipeline (`git log -p | git patch-id`): this process's copy is closed once git
    has it. stderr is drained on a thread (a git that fills the pipe would otherwise
    hang), and also copied to ours with `echo_stderr` (git's progress meter).

    On leaving, git is waited for and `GitError` (command, exit code, stderr) raised if
    it failed, as `run()` does. A caller that stops reading before the end (`break`)
    wanted no more: git, if still running, is killed, and neither its death, the
    broken pipe nor a failure after what was read counts. On an exception git is killed and the exception
    goes on. A stream handed on as `stdin` is judged by its exit status alone.
    """
    cmd = ["git", *args]
    proc = _popen(cmd, subprocess.PIPE if input is not None else stdin or subprocess.DEVNULL, env)
    assert proc.stdout is not None and proc.stderr is not None
    if stdin is not None:
        stdin.close()  # the child holds its own copy; ours would keep the writer alive
    errors: list[bytes] = []
    threads = [
        threading.Thread(target=_drain, args=(proc.stderr, errors, echo_stderr), daemon=True)
    ]
    if input is not None:
        assert proc.stdin is not None
        threads.append(threading.Thread(target=_feed, args=(proc.stdin, input), daemon=True))
    for t in threads:
        t.start()
    stopped = False
    try:
        yield proc.stdout
        if not proc.stdout.closed and not _read_to_end(proc.stdout):
            # The caller has what it wanted: what git wrote before any failure of
            # its own is still what git wrote, and the rest nobody reads.
            proc.kill()
            stopped = True
    except BaseException:
        proc.kill()
        raise
    finally:
        proc.stdout.close()
        proc.wait()
        for t in threads:
            t.join()
        proc.stderr.close()
    if proc.returncode != 0 and not stopped:
        raise GitError(cmd, proc.returncode, "", b"".join(errors).decode(errors="replace"))


def _read_to_end(out: IO[bytes]) -> bool:
    """Whether the reader read `out` to its end, asked without waiting for git."""
    os.set_blocking(out.fileno(), False)
    try:
        # A non-blocking read: b"" at the end, None when git has not written more yet.
        return out.read(1) == b""
    except OSError:
        return False


def _drain(err: IO[bytes], into: list[bytes], echo: bool) -> None:
    while chunk := err.read1(1 << 16):  # type: ignore[attr-defined]
        into.append(chunk)
        if echo:
            with suppress(OSError, ValueError):
                sys.stderr.buffer.write(chunk)
                sys.stderr.buffer.flush()


def _feed(pipe: IO[bytes], data: bytes) -> None:
    # git that stopped early (killed, or a failure) closed its end: not our error.
    with suppress(BrokenPipeError, OSError):
        pipe.write(data)
    with suppress(BrokenPipeError, OSError):
        pipe.close()


def output(args: Sequence[str], **kwargs: object) -> str:
    return run(args, **kwargs).stdout.decode()  # type: ignore[arg-type]


def is_sha(value: str) -> bool:
    return bool(SHA_RE.match(value))


def read_packed_refs(git_dir: str) -> dict[str, str] | None:
    """refname -> SHA from `git_dir/packed-refs` ({} when there is none), read without a
    git process; None when it cannot be read or is not in the form git writes, so that
    the caller asks git (or treats it as changed) instead of guessing."""
    refs: dict[str, str] = {}
    try:
        with open(os.path.join(git_dir, "packed-refs"), "rb") as f:
            lines = f.read().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return refs
    except OSError:
        return None
    for line in lines:
        if not line or line[0] in "#^":  # the header, and peeled values of tags
            continue
        sha, _, name = line.partition(" ")
        if not is_sha(sha):
            return None
        refs[name] = sha
    return refs


def parse_config(raw: bytes) -> dict[str, list[str]]:
    """Parse `git config -z --list` output: keys are lower-cased like git does."""
    result: dict[str, list[str]] = {}
    for entry in raw.split(b"\0"):
        if not entry:
            continue
        key, _, value = entry.decode(errors="replace").partition("\n")
        result.setdefault(key.lower(), []).append(value)
    return result


@dataclass
class SourceRepo:
    """A repository whose commits are poisoned or cured."""

    git_dir: str
    common_dir: str
    toplevel: str | None
    shallow: bool
    config: dict[str, list[str]] = field(default_factory=dict)
    _partial: tuple[dict[str, list[str]], bool] | None = field(
        default=None, repr=False, compare=False
    )

    @classmethod
    def discover(cls, path: str | None = None) -> SourceRepo:
        """Find the repository at `path` (default: the current directory).

        GIT_DIR / GIT_WORK_TREE set by the caller (git itself, for `git poison` in a
        hook) are honoured here, once; every later call names the repository explicitly.
        """
        cwd = os.path.abspath(path or os.getcwd())
        env = {k: v for k, v in os.environ.items() if k in ("GIT_DIR", "GIT_WORK_TREE")}
        cmd = [
            "git",
            "rev-parse",
            "--absolute-git-dir",
            "--git-common-dir",
            "--is-shallow-repository",
            "--is-bare-repository",
            "--show-cdup",
        ]
        try:
            proc = subprocess.run(
                cmd,
                cwd=cwd,
                capture_output=True,
                env={**clean_env(), **env},
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise FatalError("git is not installed or not on PATH.") from None
        except OSError as e:
            raise FatalError(f"cannot enter {cwd}: {e.strerror}") from None
        if proc.returncode != 0:
            raise FatalError(
                f"not a git repository: {cwd} (run git poison inside the source repository)"
            )
        lines = proc.stdout.decode().split("\n")
        git_dir, common, shallow, bare = lines[:4]
        cdup = lines[4] if len(lines) > 4 else ""
        # --git-common-dir may be relative to the current directory.
        common_dir = os.path.normpath(os.path.join(cwd, common))
        toplevel = None if bare == "true" else os.path.normpath(os.path.join(cwd, cdup))
        repo = cls(git_dir, common_dir, toplevel, shallow == "true")
        repo.config = parse_config(repo.git(["config", "-z", "--list"], check=False).stdout)
        return repo

    def git(self, args: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        base = ["--git-dir", self.git_dir]
        if self.toplevel:
            base += ["--work-tree", self.toplevel]
        return run([*base, *args], **kwargs)  # type: ignore[arg-type]

    def git_out(self, args: Sequence[str], **kwargs: object) -> str:
        return self.git(args, **kwargs).stdout.decode()

    def config_get(self, key: str, default: str | None = None) -> str | None:
        values = self.config.get(key.lower())
        return values[-1] if values else default

    def config_bool(self, key: str, default: bool) -> bool:
        """A boolean setting as git reads one: false/no/off/0 are false; a key written
        without a value (`parse_config` gives "") is true, as in git."""
        value = self.config_get(key)
        if value is None:
            return default
        return value.strip().lower() not in ("false", "no", "off", "0")

    @property
    def partial(self) -> bool:
        # Asked once per answer (thousands in `scope`): remembered per config read.
        cached = self._partial
        if cached is not None and cached[0] is self.config:
            return cached[1]
        value = bool(self.config_get("extensions.partialclone")) or any(
            k.startswith("remote.") and k.endswith(".promisor") and v[-1] == "true"
            for k, v in self.config.items()
        )
        self._partial = (self.config, value)
        return value

    def shallow_commits(self) -> frozenset[str]:
        """The commits whose parents are cut off by a shallow clone."""
        try:
            with open(os.path.join(self.common_dir, "shallow")) as f:
                return frozenset(line.strip() for line in f if line.strip())
        except FileNotFoundError:
            return frozenset()

    def identity(self) -> tuple[str, str]:
        """`(name, email)` of the person running the command, as git would author it."""
        proc = self.git(["var", "GIT_AUTHOR_IDENT"], check=False)
        # surrogateescape: a name that is not UTF-8 reaches the writer, which refuses it
        # in one line (record.write_problem), instead of failing to decode here (exit 3).
        ident = proc.stdout.decode(errors="surrogateescape").strip()
        m = re.match(r"(.*) <(.*)> \d+ [+-]\d{4}$", ident)
        if proc.returncode != 0 or not m:
            raise FatalError(
                "git does not know who you are: set `git config --global user.name` "
                "and `user.email` first"
            )
        return m.group(1), m.group(2)

    def resolve_commit(self, rev: str) -> str:
        """Resolve any revision to a full commit SHA, refusing anything option-like."""
        if not rev or rev.startswith("-") or "\0" in rev or "\n" in rev:
            raise FatalError(f"not a revision: {rev!r}")
        proc = self.git(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
            check=False,
        )
        sha = proc.stdout.decode().strip()
        if proc.returncode != 0 or not is_sha(sha):
            hint = (
                " (the history may be shallow: try `git fetch --unshallow`)" if self.shallow else ""
            )
            raise FatalError(f"unknown revision or not a commit: {rev}{hint}")
        return sha
