"""The repositories behind open documents, and what is cached about each.

Everything here is synchronous and called from worker threads. A repository's
HEAD report (`git poison check HEAD` as data) is shared by all its documents and
recomputed only when its fingerprint moves: HEAD, any ref of the source repository
(a cure cherry-picked or fetched elsewhere changes the answer), or the records.

The full report needs the copies (patch-ids), whose first scan can take tens of
seconds: it runs in a thread of its own, and until it ends the documents get what
ancestry alone says (`poison_tools.ancestry_first`), then the full report.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError
from dataclasses import dataclass

from poison_tools.ancestry_first import FAILED, KNOWN, PENDING, check_by_ancestry
from poison_tools.check import CheckReport, NoCommitYet, check_head, head_commit
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo, parse_config
from poison_tools.progress import Progress
from poison_tools.records.store import PoisonStore, Snapshot

log = logging.getLogger(__name__)

# Records are fetched from a shared poisons remote at most this often in the
# background; `gitPoison.sync` fetches at once.
FETCH_INTERVAL = 300.0


# How long a document waits for the full report before it is shown what ancestry says:
# a warm copies cache answers well within it, a first scan of a big history does not.
GRACE = 1.0


@dataclass
class Status:
    root: str
    branch: str | None
    head: str
    uncured: int
    undecided: int
    copies: str = KNOWN


@dataclass
class HeadReport:
    """HEAD's report and what it rests on. `copies`: `known` (the full report),
    `pending` (ancestry alone, the copy scan still running: `ancestry_first`) or
    `failed` (ancestry alone, and `error` says why the scan failed)."""

    report: CheckReport
    branch: str | None
    fingerprint: str
    copies: str
    error: str | None = None

    def status(self, root: str) -> Status:
        r = self.report
        return Status(root, self.branch, r.target, len(r.poisoned), len(r.undecided), self.copies)


class _Scan:
    """One full report being made in its own thread, for one fingerprint."""

    def __init__(self, fingerprint: str, snapshot: Snapshot) -> None:
        self.fingerprint = fingerprint
        self.snapshot = snapshot
        self.future: Future[HeadReport] = Future()
        # What ancestry says meanwhile, made once for every document that asks.
        self.pending: HeadReport | None = None


class RepoState:
    def __init__(self, repo: SourceRepo) -> None:
        assert repo.toplevel is not None
        self.repo = repo
        self.toplevel = repo.toplevel
        self.store = PoisonStore(repo, fetch=False)
        self._lock = threading.Lock()
        self._final: HeadReport | None = None  # the full report (copies known or failed)
        self._scan: _Scan | None = None  # the full report being made
        # Called from the scan's thread when a full report ends that was shown pending.
        self.on_copies_known: Callable[[RepoState], None] | None = None
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
        paths += [
            os.path.join(self.store.path, name)
            for name in (
                "packed-refs",
                f"refs/heads/{self.store.project}",
                f"refs/remotes/origin/{self.store.project}",
            )
        ]
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

    def report(self, progress: Progress | None = None) -> HeadReport:
        """HEAD's report for the current fingerprint: the full one when it is ready
        within `GRACE`, else what ancestry alone says (`copies == "pending"`) while the
        full one goes on in a thread of its own; `on_copies_known` is called when it
        ends. Recomputed only when the fingerprint moved."""
        with self._lock:
            fp = self.seen = self.fingerprint()
            if self._final is not None and self._final.fingerprint == fp:
                return self._final
            if self._scan is None or self._scan.fingerprint != fp:
                self.reload_config()
                self._scan = _Scan(fp, self.snapshot())
                threading.Thread(
                    target=self._run_scan,
                    args=(self._scan, self._scan.snapshot, progress),
                    name="git-poison-copies",
                    daemon=True,
                ).start()
            scan = self._scan
            if scan.pending is not None:
                return scan.pending  # the scan is known to be slow: no second wait
        try:
            return scan.future.result(timeout=GRACE)  # a warm copies cache answers in time
        except TimeoutError:
            pass
        report = check_by_ancestry(self.repo, scan.snapshot, head_commit(self.repo), "HEAD")
        pending = HeadReport(report, self.branch(), fp, PENDING)
        with self._lock:
            if scan.future.done() and scan.future.exception() is None:
                return scan.future.result()  # it ended meanwhile: nobody will be told
            if scan.pending is not None:
                return scan.pending  # another document made it meanwhile
            scan.pending = pending
        log.info(
            "%s: copies not known yet; showing what ancestry says at %s",
            self.toplevel,
            report.target[:12],
        )
        return pending

    def _run_scan(self, scan: _Scan, snapshot: Snapshot, progress: Progress | None) -> None:
        """The full report, in its own thread (not the server's pool: it may take
        minutes). A failure is not "clean": the ancestry report is kept, with the
        verdicts that wait on copies undecided and the reason (`copies == "failed"`)."""
        started = time.monotonic()
        try:
            report = check_head(self.repo, snapshot, progress)
            result = HeadReport(report, self.branch(), scan.fingerprint, KNOWN)
            for notice in report.notices:  # a damaged copies cache or index, rebuilt
                log.warning("%s: %s", self.toplevel, notice)
        except NoCommitYet as e:  # an unborn HEAD: nothing to annotate, either way
            scan.future.set_exception(e)
            return
        except Exception as e:  # a git failure, missing objects, a bug: said, never clean
            log.warning("%s: the search for copies failed: %s", self.toplevel, e, exc_info=True)
            try:
                report = check_by_ancestry(self.repo, snapshot, head_commit(self.repo), "HEAD")
            except Exception as again:
                scan.future.set_exception(again)
                self._ended(scan)
                return
            result = HeadReport(
                report, self.branch(), scan.fingerprint, FAILED, str(e) or e.__class__.__name__
            )
        log.info(
            "%s: %s at %s in %.2fs (copies %s)",
            self.toplevel,
            result.report.verdict,
            result.report.target[:12],
            time.monotonic() - started,
            result.copies,
        )
        with self._lock:
            if self._scan is scan:
                self._final = result
        scan.future.set_result(result)
        self._ended(scan)

    def _ended(self, scan: _Scan) -> None:
        with self._lock:
            tell = scan.pending is not None and self._scan is scan
        if tell and self.on_copies_known is not None:
            self.on_copies_known(self)

    def reload_config(self) -> None:
        """Read the config again: `git poison init --remote` may have run meanwhile."""
        self.repo.config = parse_config(
            self.repo.git(["config", "-z", "--list"], check=False).stdout
        )
        self.store = PoisonStore(self.repo, fetch=False)

    def moved(self) -> bool:
        """Whether HEAD, refs or records moved since the last report was asked for."""
        return self.seen is not None and self.fingerprint() != self.seen

    def ready(self, fingerprint: str) -> bool:
        """Whether the full report for `fingerprint` is at hand (no need to wait)."""
        with self._lock:
            return self._final is not None and self._final.fingerprint == fingerprint

    def invalidate(self) -> None:
        with self._lock:
            self._final = self._scan = None  # a scan still running is no longer waited for

    def branch(self) -> str | None:
        proc = self.repo.git(["symbolic-ref", "--quiet", "--short", "HEAD"], check=False)
        return proc.stdout.decode().strip() or None

    def status(self) -> Status:
        return self.report().status(self.toplevel)

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

    def __init__(self, on_copies_known: Callable[[RepoState], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._by_dir: dict[str, str | None] = {}
        self._by_top: dict[str, RepoState] = {}
        self.on_copies_known = on_copies_known  # given to each repository's state

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
            state.on_copies_known = self.on_copies_known
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
