"""The repositories behind open documents, and what is cached about each.

Everything here is synchronous and called from worker threads. A repository's
HEAD report (`git poison check HEAD` as data) is shared by all its documents and
recomputed only when its fingerprint moves: HEAD, any ref of the source repository
(a cure cherry-picked or fetched elsewhere changes the answer), or the records.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass

from poison_tools.check import CheckReport, check_head
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo, parse_config
from poison_tools.progress import Progress
from poison_tools.records.store import PoisonStore, Snapshot

log = logging.getLogger(__name__)

# Records are fetched from a shared poisons remote at most this often in the
# background; `gitPoison.sync` fetches at once.
FETCH_INTERVAL = 300.0


@dataclass
class Status:
    root: str
    branch: str | None
    head: str
    uncured: int
    undecided: int


class RepoState:
    def __init__(self, repo: SourceRepo) -> None:
        assert repo.toplevel is not None
        self.repo = repo
        self.toplevel = repo.toplevel
        self.store = PoisonStore(repo, fetch=False)
        self._lock = threading.Lock()
        self._report: tuple[str, CheckReport, str | None] | None = None
        self.seen: str | None = None  # the fingerprint the last report was asked at
        self.last_fetch = 0.0
        self.fetch_error: str | None = None

    # -- change detection --------------------------------------------------------------

    def fingerprint(self) -> str:
        """Changes whenever HEAD, a ref, or the records move (one git call and stats)."""
        h = hashlib.sha1()
        try:
            with open(os.path.join(self.repo.git_dir, "HEAD"), "rb") as f:
                h.update(f.read())
        except OSError:
            pass
        h.update(self.repo.git(["show-ref", "--head"], check=False).stdout)
        # poison.remote, poison.equivalence and friends live in the config.
        paths = [os.path.join(self.repo.common_dir, "config")]
        paths += [os.path.join(self.store.path, name) for name in (
            "packed-refs", f"refs/heads/{self.store.project}",
            f"refs/remotes/origin/{self.store.project}")]
        for path in paths:
            try:
                st = os.stat(path)
                h.update(f"{path}:{st.st_mtime_ns}:{st.st_size};".encode())
            except OSError:
                h.update(f"{path}:-;".encode())
        return h.hexdigest()

    # -- the shared HEAD report --------------------------------------------------------

    def snapshot(self) -> Snapshot:
        snap = self.store.load()
        for notice in snap.notices:  # a damaged records cache, read around
            log.warning("%s: %s", self.toplevel, notice)
        return snap

    def report(self, progress: Progress | None = None) -> tuple[CheckReport, str | None, str]:
        """HEAD's report, branch and the fingerprint they belong to; recomputed only
        when the fingerprint moved."""
        with self._lock:
            fp = self.seen = self.fingerprint()
            if self._report is not None and self._report[0] == fp:
                return self._report[1], self._report[2], fp
            started = time.monotonic()
            self.reload_config()
            report = check_head(self.repo, self.snapshot(), progress)
            for notice in report.notices:  # a damaged copies cache or index, rebuilt
                log.warning("%s: %s", self.toplevel, notice)
            branch = self.branch()
            self._report = (fp, report, branch)
            log.info("%s: %s at %s in %.2fs", self.toplevel, report.verdict, report.target[:12],
                     time.monotonic() - started)
            return report, branch, fp

    def reload_config(self) -> None:
        """Read the config again: `git poison init --remote` may have run meanwhile."""
        self.repo.config = parse_config(self.repo.git(["config", "-z", "--list"], check=False).stdout)
        self.store = PoisonStore(self.repo, fetch=False)

    def moved(self) -> bool:
        """Whether HEAD, refs or records moved since the last report was asked for."""
        return self.seen is not None and self.fingerprint() != self.seen

    def invalidate(self) -> None:
        with self._lock:
            self._report = None

    def branch(self) -> str | None:
        proc = self.repo.git(["symbolic-ref", "--quiet", "--short", "HEAD"], check=False)
        return proc.stdout.decode().strip() or None

    def status(self) -> Status:
        report, branch, _ = self.report()
        return Status(self.toplevel, branch, report.target, len(report.poisoned), len(report.undecided))

    # -- the shared poisons remote ----------------------------------------------------

    def fetch_due(self, now: float) -> bool:
        return bool(self.store.remote) and now - self.last_fetch >= FETCH_INTERVAL

    def fetch(self) -> str | None:
        """Fetch the records from the poisons remote; the error text, or None."""
        self.last_fetch = time.time()
        if not self.store.remote:
            return None
        try:
            self.store.fetch()
            self.fetch_error = None
        except FatalError as e:
            self.fetch_error = str(e)
        return self.fetch_error


class Repos:
    """Documents' paths -> their repository (None outside any work tree)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_dir: dict[str, str | None] = {}
        self._by_top: dict[str, RepoState] = {}

    def for_path(self, path: str) -> RepoState | None:
        # A folder URI (a workspace root, the status item's root) names its own repository.
        real = os.path.realpath(path)
        directory = real if os.path.isdir(real) else os.path.dirname(real)
        with self._lock:
            if directory in self._by_dir:
                top = self._by_dir[directory]
                return None if top is None else self._by_top[top]
        state = self._discover(directory)
        with self._lock:
            if state is None:
                self._by_dir[directory] = None
                return None
            state = self._by_top.setdefault(state.toplevel, state)
            self._by_dir[directory] = state.toplevel
            return state

    @staticmethod
    def _discover(directory: str) -> RepoState | None:
        # A deleted file's directory may be gone too: look upwards from what exists.
        while directory and not os.path.isdir(directory):
            parent = os.path.dirname(directory)
            if parent == directory:
                return None
            directory = parent
        try:
            repo = SourceRepo.discover(directory)
        except FatalError as e:
            log.info("no repository for %s: %s", directory, e)
            return None
        if repo.toplevel is None:
            return None
        repo.toplevel = os.path.realpath(repo.toplevel)
        return RepoState(repo)

    def all(self) -> list[RepoState]:
        with self._lock:
            return list(self._by_top.values())

    def forget_dirs(self) -> None:
        """Directories may become repositories (git init) or stop being ones."""
        with self._lock:
            self._by_dir = {d: t for d, t in self._by_dir.items() if t is not None}
