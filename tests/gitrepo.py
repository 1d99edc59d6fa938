"""Real throwaway git repositories for tests, and the real `git poison` to run in them.

Nothing here mocks git: every helper runs the git binary, and `poison()` runs the
installed console script as a user would, via `git poison`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent


@dataclass
class Result:
    rc: int
    out: str
    err: str


def git(cwd: Path | str, *args: str, input: str | None = None, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout.strip()


class Repo:
    """A source repository with helpers that name the history being built."""

    def __init__(self, path: Path, *, branch: str = "master") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", branch)
        self._n = 0

    @classmethod
    def clone(cls, url: str | Path, path: Path, *args: str) -> Repo:
        git(path.parent, "clone", "-q", *args, str(url), str(path))
        repo = cls.__new__(cls)
        repo.path, repo._n = path, 1000
        return repo

    def git(self, *args: str, **kwargs: object) -> str:
        return git(self.path, *args, **kwargs)  # type: ignore[arg-type]

    def commit(self, message: str | None = None, files: dict[str, str] | None = None) -> str:
        """Commit `files` (default: a new unique file) and return the full SHA."""
        self._n += 1
        files = files or {f"file{self._n}.txt": f"content {self._n}\n"}
        for name, text in files.items():
            p = self.path / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
            self.git("add", "--", name)
        self.git("commit", "-q", "-m", message or f"commit {self._n}")
        return self.rev("HEAD")

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", "--verify", f"{rev}^{{commit}}")

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("branch", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def poison(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
    ) -> Result:
        """Run `git poison ARGS` exactly as a user would.

        With `timeout`, a run still going after that many seconds is killed, git and
        git-poison both (its own process group), and TimeoutExpired raised."""
        full_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})}
        with subprocess.Popen(
            ["git", "poison", *args],
            cwd=cwd or self.path,
            stdin=None if input is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
            start_new_session=timeout is not None,
        ) as proc:
            try:
                out, err = proc.communicate(input, timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise
        return Result(proc.returncode, out, err)

    def add_poison(self, rev: str, message: str = "a bug", *extra: str) -> str:
        r = self.poison("add", rev, "-m", message, *extra)
        assert r.rc == 0, r.err
        return r.out.strip()

    def add_cure(self, record_id: str, *revs: str) -> None:
        r = self.poison("cure", record_id, *revs)
        assert r.rc == 0, r.err


def bare(path: Path) -> Path:
    """A bare repository, as a shared server would have."""
    git(path.parent, "init", "-q", "--bare", str(path))
    return path


def service_with_origin(tmp_path: Path, name: str = "seed") -> tuple[Repo, Path]:
    """A service repository whose one commit (the bug to record) is pushed to a bare
    `origin`, so that teammates can clone it."""
    origin = bare(tmp_path / "svc.git")
    repo = Repo(tmp_path / name)
    repo.commit("bug")
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "master")
    return repo, origin


TEN_LINES = "".join(f"line {i}\n" for i in range(10))


def with_lines(changes: dict[int, str], base: str = TEN_LINES) -> str:
    """`base` with the 0-based lines in `changes` replaced: a file's next version."""
    lines = base.splitlines(keepends=True)
    for i, text in changes.items():
        lines[i] = text + "\n"
    return "".join(lines)
