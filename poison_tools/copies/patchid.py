"""Per-commit facts that identify copies: patch-id, Change-Id, "copied from" lines.

Computing `git patch-id --stable` means diffing a commit, so it is done once per commit
and only for the commits that can matter (issue 12): a scan reads which files each
commit changes (`git log --name-only`, trees only: a fraction of `git log -p`) and keeps
a key of them (`diffs.path_key`). A patch-id hashes each file's `diff --git` line, so a
copy by patch-id changes the same files: the commits of a group sharing a key are diffed
together the first time a question needs one of them (`_resolve`), and the group is
remembered (`resolved`) so that later scans diff its newcomers at once. All this is kept
in an SQLite file under the git common dir (SQLite gives atomic,
concurrent-safe writes for free; a crash mid-scan leaves the previous state). Each
run scans only the commits added since the last one: `git log <tips> --not <tips
scanned last time>`, so a second run costs one `for-each-ref` when nothing moved.

The universe is every ref plus HEAD: a copy that lives on no ref is on no branch,
tag or deployment anybody asks about.

Every tip in the `tips` table has its whole history in the cache. So a new ref that
points into the history of a tip scanned before (a tag on an old commit, a branch
created at an old release) brings nothing new: with a reachability index at hand,
such tips are dropped before `git log` is asked. Without that, a thousand tags
created on old commits cost a walk of the whole history to learn that nothing
arrived: 7.7 s on a million commits without a commit-graph.

A commit whose diff git cannot read (objects missing from a partial or damaged clone)
is not a commit without a change: when its group is diffed (before any verdict it
could change is given; trees it lacks: at the scan), it goes to the `unreadable` table with the files it
changes and the blobs it lacks (`poison_tools.copies.diffs`), and the scan goes on past it.
`Copies` turns these rows into doubt about the verdicts they could change, and asks
for the ones a verdict waits on to be tried again (`retry`; in a partial clone, after
fetching their blobs: `fetch_missing`).

The file is a cache and is treated as one (`poison_tools.copies.sqlite_file`): a damaged or
odd one is set aside and built again, with a notice in `notices`; a place where no
file can be written means a cache in memory.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

from poison_tools import git
from poison_tools.copies import diffs, sqlite_file, trailers
from poison_tools.git import SourceRepo
from poison_tools.progress import Progress, Silent
from poison_tools.reach.refs import RefListing

if TYPE_CHECKING:
    from poison_tools.reach.answer import Reachability

CACHE_DIR = "poison-cache"
SCHEMA = 6  # 4: reverts; 5: unreadable commits (a v4 cache may hold them as "no change");
# 6: patch-ids computed per group of commits changing the same files, when asked
# Named by schema: two versions of git-poison on one repository (an upgrade, a
# benchmark against an older revision) each keep their own cache instead of
# discarding each other's, which costs a full rescan every time.
CACHE_FILE = f"copies-v{SCHEMA}.sqlite3"

_DDL = """
CREATE TABLE IF NOT EXISTS commits (sha TEXT PRIMARY KEY, patch_id TEXT, change_id TEXT,
                                    subject TEXT, paths TEXT);
CREATE INDEX IF NOT EXISTS commits_paths ON commits (paths);
CREATE TABLE IF NOT EXISTS resolved (paths TEXT PRIMARY KEY);
CREATE INDEX IF NOT EXISTS commits_subject ON commits (subject);
CREATE INDEX IF NOT EXISTS commits_patch ON commits (patch_id);
CREATE INDEX IF NOT EXISTS commits_change ON commits (change_id);
CREATE TABLE IF NOT EXISTS copies (sha TEXT, source TEXT, how TEXT, PRIMARY KEY (sha, source));
CREATE INDEX IF NOT EXISTS copies_source ON copies (source);
CREATE TABLE IF NOT EXISTS tips (sha TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS unreadable (sha TEXT PRIMARY KEY, paths TEXT, missing TEXT);
CREATE INDEX IF NOT EXISTS unreadable_paths ON unreadable (paths);
CREATE TABLE IF NOT EXISTS reverts (sha TEXT, reverted TEXT, PRIMARY KEY (sha, reverted));
CREATE INDEX IF NOT EXISTS reverts_reverted ON reverts (reverted);
"""

# Per-scan staging (connection-private TEMP tables): see `PatchIdCache._scan`. No keys:
# each commit comes once per scan, and indexing 200,000 rows as they came cost 1.5 s.
_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS scan_messages (sha TEXT, change_id TEXT, subject TEXT);
CREATE TEMP TABLE IF NOT EXISTS scan_patch_ids (sha TEXT PRIMARY KEY, patch_id TEXT);
CREATE TEMP TABLE IF NOT EXISTS scan_paths (sha TEXT, paths TEXT);
CREATE TEMP TABLE IF NOT EXISTS scan_unreadable (sha TEXT PRIMARY KEY, paths TEXT, missing TEXT);
DELETE FROM scan_messages;
DELETE FROM scan_patch_ids;
DELETE FROM scan_paths;
DELETE FROM scan_unreadable;
"""
# Rows staged per batch: a few megabytes of Python objects at a time.
SCAN_BATCH = 20_000
# How long one batched fetch of missing blobs may take, and how many blobs it may ask
# for: past that, the verdicts that need them say how to complete the clone instead.
FETCH_TIMEOUT = 30.0
MAX_FETCH = 10_000
CACHE_KB = 65_536  # SQLite page cache while scanning
FETCH_BACKOFF = 600.0
LOCK_WAIT = 300.0
# A first scan of more commits than this reads their changed files in two `git log`
# runs side by side.
PARALLEL = 50_000  # past that, a process scans without waiting any longer  # after a fetch timed out, no new attempt for ten minutes


def cache_path(repo: SourceRepo, patch_ids: bool = True) -> str:
    # Without patch-ids (poison.equivalence=trailers) the rows lack them: a file of
    # its own, so that switching back to `full` does not believe the gaps.
    name = CACHE_FILE if patch_ids else CACHE_FILE.replace(".", "-trailers.", 1)
    return os.path.join(repo.common_dir, CACHE_DIR, name)


def _connect(path: str) -> sqlite3.Connection:
    """The on-disk cache at `path`, made ready; raises what SQLite or the OS raised."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    db = sqlite3.connect(path, timeout=30)
    try:
        # A first scan stages and indexes 200,000 rows: with SQLite's 2 MB page cache it
        # spent 0.6 s more of a 6.4 s scan (issue 12). Pages are only held as used.
        db.execute(f"PRAGMA cache_size=-{CACHE_KB}")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is not None and row[0] != str(SCHEMA):
            db.close()
            os.replace(path, path + ".old")  # written by another version: start over
            return _connect(path)
        db.executescript(_DDL)
        if row is None:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            db.commit()
    except BaseException:
        db.close()
        raise
    return db


def _memory() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.executescript(_DDL)
    return db


_F = TypeVar("_F", bound=Callable[..., Any])


def _guarded(method: _F) -> _F:
    """Run `method`; if the cache turns out damaged, rebuild it and run it again."""

    @functools.wraps(method)
    def run(self: PatchIdCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as e:
            self._recover(e)
            return method(self, *args, **kwargs)

    return run  # type: ignore[return-value]


class PatchIdCache:
    """Copy-identifying facts of every commit on a ref, kept up to date incrementally."""

    def __init__(
        self,
        repo: SourceRepo,
        *,
        patch_ids: bool = True,
        progress: Progress | None = None,
        path: str | None = "",
        reach: Reachability | None = None,
    ) -> None:
        self.repo = repo
        self.reach = reach
        self.patch_ids = patch_ids
        self.progress = progress or Silent()
        self.path = cache_path(repo, patch_ids) if path == "" else path
        self.notices: list[str] = []  # one line each: what was wrong with the file, done
        self._ensured: set[str] = set()  # replayed after a rebuild
        self._recoveries = 0
        self.db = self._open()
        self._fresh = False

    # -- the file -------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """The cache on disk when it can be had, else in memory (a read-only git dir)."""
        path = self.path
        if path is None:
            return _memory()
        why = sqlite_file.problem(path)
        if why is not None and not self._set_aside(why):
            return _memory()
        try:
            return _connect(path)
        except sqlite3.Error as e:
            if sqlite_file.is_damage(e) and self._set_aside(str(e)):
                with suppress(OSError, sqlite3.Error):
                    return _connect(path)
        except OSError:
            pass
        return _memory()

    def _set_aside(self, why: str) -> bool:
        assert self.path is not None
        aside = sqlite_file.set_aside(self.path)
        if aside is None:
            self.notices.append(
                f"the copies cache {self.path} is unusable ({why}) and cannot be "
                "moved aside: working in memory this time"
            )
            self.path = None
            return False
        self.notices.append(
            f"the copies cache {self.path} was unusable ({why}): "
            f"moved it to {os.path.basename(aside)} and built it again"
        )
        return True

    def _recover(self, error: sqlite3.Error) -> None:
        """Replace a cache that failed a query, and bring the new one to where the old
        one was; raise `error` again when that is not the cure (twice in one run)."""
        self._recoveries += 1
        if (
            getattr(error, "sqlite_errorcode", None) is None
            or self.path is None
            or self._recoveries > 2
        ):
            raise error  # a misuse of the module (a bug here), or no cure in sight
        with suppress(sqlite3.Error):
            self.db.close()
        if sqlite_file.is_damage(error):
            self.db = self._open() if self._set_aside(str(error)) else _memory()
        else:
            # A lock held past the timeout, a full disk: not damage, but no answer
            # either; the same scan in memory gives one.
            self.notices.append(
                f"cannot use the copies cache {self.path} ({error}): working in memory this time"
            )
            self.db = _memory()
        self._fresh = False
        self.ensure(sorted(self._ensured))

    # -- keeping it up to date ------------------------------------------------------

    def _tips(self) -> set[str]:
        # Every ref and HEAD (this runs on every check and push): the listing the
        # reachability engine reads anyway, when there is one.
        listing = self.reach.listing if self.reach is not None else RefListing(self.repo)
        head = listing.head()
        return {r.object for r in listing.refs()} | ({head} if head else set())

    @_guarded
    def update(self) -> int:
        """Scan the commits added since the last scan; return how many were scanned."""
        if self._fresh:
            return 0
        self._fresh = True
        now = self._tips()
        plan = self._plan(now)
        if plan is None:
            return 0
        if self.path is None or not plan[0]:
            return self._advance(now, *plan)
        from poison_tools.filelock import FileLock

        # Two processes starting at once (the first check and the editor, a push and a
        # check) would each scan the same commits: the second waits, then scans only
        # what the first left.
        with FileLock(
            self.path + ".lock",
            self.progress,
            "another git-poison scanning this repository",
            LOCK_WAIT,
        ) as held:
            if held:
                plan = self._plan(now)
                if plan is None:
                    return 0
            return self._advance(now, *plan)

    def _plan(self, now: set[str]) -> tuple[set[str], set[str]] | None:
        """(tips to scan, tips whose whole history is in the cache); None: nothing new."""
        old = {r[0] for r in self.db.execute("SELECT sha FROM tips")}
        if now == old:
            return None
        alive = _present(self.repo, old - now)
        if not now:
            return None
        scanned = alive | (old & now)  # tips whose whole history is in the cache
        return self._beyond(now - scanned, scanned), scanned

    def _advance(self, now: set[str], new: set[str], scanned: set[str]) -> int:
        n = 0
        if new:
            # `^sha` rather than `--not`: git 2.39 takes no options on --stdin.
            n = self._scan([*sorted(new), *("^" + t for t in sorted(scanned))], walk=True)
        with self.db:
            self.db.execute("DELETE FROM tips")
            self.db.executemany("INSERT OR IGNORE INTO tips VALUES (?)", ((t,) for t in now))
        return n

    def _beyond(self, tips: set[str], scanned: set[str]) -> set[str]:
        """The `tips` that are not in the history of a `scanned` tip (per the index)."""
        from poison_tools.reach.walk import GitWalk

        if not tips or not scanned or self.reach is None or isinstance(self.reach, GitWalk):
            return tips  # plain git would walk once per scanned tip: worse than one log
        answers = self.reach.ancestors_many(sorted(scanned), sorted(tips))
        inside = {c for a in answers.values() for c in a.reachable}
        return tips - inside

    @_guarded
    def ensure(self, commits: Collection[str]) -> None:
        """Make sure these commits (e.g. recorded ones on no ref) have their facts."""
        self._ensured.update(commits)
        self.update()
        known = self.known(commits)
        missing = sorted(_present(self.repo, [c for c in commits if c not in known]))
        if missing:
            self._scan(missing, walk=False)

    def _scan(self, spec: list[str], *, walk: bool) -> int:
        """Add the facts of the commits `spec` names (with `walk`, their histories).

        Messages and patch-ids are two git processes, run side by side; what they give
        is staged in temporary tables batch by batch, so that the first scan of a
        million commits never holds every message or patch-id in memory (it peaked at
        475 MB when it did). One transaction then moves it all into the cache.
        """
        import queue
        import threading
        from concurrent.futures import ThreadPoolExecutor  # 25 ms to import: scans only

        stdin = "".join(s + "\n" for s in spec).encode()
        no_walk = [] if walk else ["--no-walk"]
        self.db.executescript(_STAGING)
        batches: queue.Queue[list[tuple[str, str | None, str | None]] | None] = queue.Queue(8)
        copies: list[tuple[str, str, str]] = []  # only commits with copy lines: few
        undone: list[tuple[str, str]] = []  # (revert, reverted): few likewise
        stop = threading.Event()  # the main thread gave up (an error, Ctrl-C)

        def put(item: list[tuple[str, str | None, str | None]] | None) -> bool:
            while not stop.is_set():
                with suppress(queue.Full):
                    batches.put(item, timeout=0.1)
                    return True
            return False

        def read_messages() -> None:
            batch: list[tuple[str, str | None, str | None]] = []
            try:
                for sha, message in self._messages(stdin, no_walk):
                    if stop.is_set():
                        return
                    f = trailers.facts(message)
                    batch.append((sha, f.change_id, _subject(message)))
                    copies.extend((sha, source, how) for source, how in f.copied_from)
                    undone.extend((sha, reverted) for reverted in f.reverts)
                    if len(batch) >= SCAN_BATCH:
                        if not put(batch):
                            return
                        batch = []
                if batch:
                    put(batch)
            finally:
                put(None)  # the main thread stops waiting, even after an error

        scanned = 0
        finished = False

        def stage_messages(block: bool) -> None:
            nonlocal scanned, finished
            while not finished:
                try:
                    batch = batches.get(block=block)
                except queue.Empty:
                    return
                if batch is None:
                    finished = True
                    return
                self.db.executemany("INSERT OR REPLACE INTO scan_messages VALUES (?, ?, ?)", batch)
                self.db.commit()
                scanned += len(batch)

        failed: str | None = None
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(read_messages)
            try:
                if self.patch_ids:
                    parts, total = self._parts(stdin, no_walk, walk)
                    self.progress.start("reading changed files", total)
                    for pairs in self._read_paths(parts, stop):
                        if isinstance(pairs, str):
                            failed = pairs  # a tree git cannot read: see below
                            continue
                        self.progress.advance(len(pairs))
                        self._stage_paths(pairs)
                        stage_messages(block=False)
                stage_messages(block=True)
            finally:
                stop.set()  # normally the reader is done; else it stops and its git is killed
            reading.result()  # git's failure, raised here
        fingerprint = None
        if failed is not None:
            # The messages were all read, so the commits are here; some diff was not.
            # The walk is finished commit by commit, past what cannot be read.
            fingerprint = diffs.objects_fingerprint(self.repo)
            self._finish_paths(stdin, no_walk)
        if self.patch_ids:
            self.progress.finish()
        if not scanned:
            return 0
        full = resolve_commits(
            self.repo, {source for _, source, _ in copies} | {reverted for _, reverted in undone}
        )
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO commits SELECT m.sha, NULL, m.change_id, "
                "m.subject, p.paths FROM scan_messages m LEFT JOIN scan_paths p USING (sha)"
            )
            # Guarded: with the table empty, SQLite still gathered the 200,000 SHAs (0.35 s).
            if self.db.execute("SELECT 1 FROM unreadable LIMIT 1").fetchone() is not None:
                self.db.execute(
                    "DELETE FROM unreadable WHERE sha IN (SELECT sha FROM scan_messages)"
                )
            self.db.execute("INSERT OR REPLACE INTO unreadable SELECT * FROM scan_unreadable")
            if fingerprint is not None:
                self._set_meta("objects", fingerprint)
            self.db.executemany(
                "INSERT OR IGNORE INTO copies VALUES (?, ?, ?)",
                ((sha, full.get(s, s), how) for sha, s, how in copies),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO reverts VALUES (?, ?)",
                ((sha, full.get(r, r)) for sha, r in undone),
            )
            self.db.execute("DELETE FROM scan_paths")
            self.db.execute("DELETE FROM scan_unreadable")
        # New commits that change the files of a group already diffed join it now:
        # `resolved` promises patch-ids for every member.
        self._compute(self._members_of_resolved())
        with self.db:
            self.db.execute("DELETE FROM scan_messages")
        # A trailer may name a commit that is here but on no ref (a security fix made
        # in a private fork, then picked onto each release branch; redis's
        # CVE-2023-45145): its patch-id is what links those picks to the fix on master.
        named = {full[s] for _, s, _ in copies if s in full}
        unscanned = sorted(named - self.known(named))
        if unscanned:
            return scanned + self._scan(unscanned, walk=False)
        return scanned

    def _parts(
        self, stdin: bytes, no_walk: list[str], walk: bool
    ) -> tuple[list[tuple[bytes, list[str]]], int | None]:
        """The `git log` runs that read the changed files of a scan, and how many commits
        they read (the total its progress shows). A first scan of more than PARALLEL
        commits lists them (`git rev-list`, 0.3 s on 200,000 commits, beside the message
        walk) and reads them in two halves side by side: 3.0 s -> 1.7 s of git there."""
        if not walk or b"^" in stdin:
            return [(stdin, no_walk)], None  # an update: a few new commits
        proc = git.run(
            ["--git-dir", self.repo.git_dir, "rev-list", "--no-merges", "--stdin"],
            input=stdin,
            check=False,
        )
        if proc.returncode != 0:
            return [(stdin, no_walk)], None  # the walk itself will say what is wrong
        listed = proc.stdout
        total = listed.count(b"\n")
        if total <= PARALLEL:
            return [(stdin, no_walk)], total
        middle = listed.index(b"\n", len(listed) // 2) + 1
        each = ["--no-walk=unsorted"]
        return [(listed[:middle], each), (listed[middle:], each)], total

    def _read_paths(
        self, parts: list[tuple[bytes, list[str]]], stop: Any
    ) -> Iterator[list[tuple[str, str | None]] | str]:
        """Batches of (commit, path key) from `git log` runs side by side (`_parts`), and
        the message of each run that failed."""
        import queue
        import threading

        out: queue.Queue[list[tuple[str, str | None]] | str | None] = queue.Queue(8)
        # Its own event: `stop` is the whole scan's (the message reader's too).
        ended = threading.Event()

        def over() -> bool:
            return bool(stop.is_set() or ended.is_set())

        def put(item: list[tuple[str, str | None]] | str | None) -> bool:
            while not over():
                with suppress(queue.Full):
                    out.put(item, timeout=0.1)
                    return True
            return False

        def read(stdin: bytes, args: list[str]) -> None:
            batch: list[tuple[str, str | None]] = []
            try:
                for pair in diffs.path_keys(self.repo, stdin, args):
                    if over():
                        return  # the generator's cleanup kills git
                    batch.append(pair)
                    if len(batch) >= SCAN_BATCH // 4:
                        if not put(batch):
                            return
                        batch = []
                if batch:
                    put(batch)
            except diffs.LogFailed as e:
                if batch:
                    put(batch)
                put(str(e))
            except BaseException as e:  # raised in the caller's thread
                put(f"\0{type(e).__name__}: {e}")
            finally:
                put(None)

        threads = [threading.Thread(target=read, args=part, daemon=True) for part in parts]
        for t in threads:
            t.start()
        try:
            running = len(threads)
            while running:
                item = out.get()
                if item is None:
                    running -= 1
                elif isinstance(item, str) and item.startswith("\0"):
                    raise git.GitError(["log", "--name-only"], 1, "", item[1:])
                else:
                    yield item
        finally:
            ended.set()
            for t in threads:
                t.join()

    def _stage_paths(self, pairs: list[tuple[str, str | None]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO scan_paths VALUES (?, ?)", pairs)
        self.db.commit()

    def _members_of_resolved(self) -> list[str]:
        """The commits of this scan whose group of files was diffed before."""
        if self.db.execute("SELECT 1 FROM resolved LIMIT 1").fetchone() is None:
            return []  # a first scan: nothing diffed yet
        return [
            r[0]
            for r in self.db.execute(
                "SELECT m.sha FROM scan_messages m JOIN commits c USING (sha) "
                "WHERE c.paths IN (SELECT paths FROM resolved) AND c.patch_id IS NULL"
            )
        ]

    def _resolve(self, shas: Iterable[str]) -> None:
        """Give patch-ids to every commit that changes the same files as one of `shas`.

        A patch-id hashes each file's `diff --git` line, so two commits with one
        patch-id change the same files (`diffs.path_key`): a copy of any of `shas`, by
        patch-id, is among those commits and nowhere else. Each group is diffed once;
        `resolved` remembers it, and later scans diff its newcomers."""
        if not self.patch_ids:
            return
        keys = {
            r[0]
            for r in _rows_in(
                self.db,
                "SELECT DISTINCT paths FROM commits WHERE sha IN ({marks}) "
                "AND paths IS NOT NULL AND paths NOT IN (SELECT paths FROM resolved)",
                shas,
            )
        }
        if not keys:
            return
        todo: list[tuple[int, str]] = []
        for kchunk in _chunks(sorted(keys)):
            marks = ",".join("?" * len(kchunk))
            todo += self.db.execute(
                f"SELECT rowid, sha FROM commits WHERE paths IN ({marks}) AND patch_id IS NULL "
                "AND sha NOT IN (SELECT sha FROM unreadable)",
                kchunk,
            ).fetchall()
        # In the order git log listed them (rows are stored so): a commit's blobs are the
        # next one's, still in git's delta cache; in SHA order this took 1.6 times longer.
        self._compute([sha for _, sha in sorted(todo)])
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO resolved VALUES (?)", ((k,) for k in keys))

    def _compute(self, todo: list[str]) -> None:
        """Patch-ids of these commits into `commits`; those git cannot diff into
        `unreadable` (`diffs.resolve`)."""
        if not todo:
            return
        self.db.executescript(_STAGING)
        long = len(todo) > 2000
        if long:
            self.progress.start("computing patch-ids", len(todo))
        self._stage_resolved(
            diffs.resolve(self.repo, todo, self.progress.advance if long else None),
            "scan_unreadable",
        )
        if long:
            self.progress.finish()
        lost = self.db.execute("SELECT 1 FROM scan_unreadable LIMIT 1").fetchone() is not None
        with self.db:
            self.db.execute(
                "UPDATE commits SET patch_id = (SELECT patch_id FROM scan_patch_ids p "
                "WHERE p.sha = commits.sha) WHERE sha IN (SELECT sha FROM scan_patch_ids)"
            )
            self.db.execute("INSERT OR REPLACE INTO unreadable SELECT * FROM scan_unreadable")
            if lost:
                self._set_meta("objects", diffs.objects_fingerprint(self.repo))
            self.db.execute("DELETE FROM scan_patch_ids")
            self.db.execute("DELETE FROM scan_unreadable")

    @_guarded
    def prepare(self, shas: Collection[str]) -> None:
        """Compute the patch-ids any question about these commits' copies needs."""
        self._resolve(shas)

    def _stage_patch_ids(self, pairs: list[tuple[str, str]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO scan_patch_ids VALUES (?, ?)", pairs)
        self.db.commit()

    def _messages(self, stdin: bytes, no_walk: list[str]) -> Iterator[tuple[str, str]]:
        """(sha, message) of each commit, read from git as it writes them."""
        rest = b""
        # A reader that stops early closes this generator: git is killed, no error.
        with git.stream(
            [
                "--git-dir",
                self.repo.git_dir,
                "-c",
                "log.showSignature=false",
                "log",
                "--stdin",
                *no_walk,
                "--format=%x01%H%x00%B",
            ],
            input=stdin,
        ) as out:
            while chunk := out.read(1 << 20):
                records = (rest + chunk).split(b"\x01")
                rest = records.pop()
                for record in records:
                    if record:
                        sha, _, body = record.partition(b"\x00")
                        yield sha.decode(), body.decode(errors="replace")
        if rest:  # the last record, once git is known to have finished it
            sha, _, body = rest.partition(b"\x00")
            yield sha.decode(), body.decode(errors="replace")

    def _finish_paths(self, stdin: bytes, no_walk: list[str]) -> None:
        """Stage the changed files of the commits a failed `git log` did not reach, and
        an `unreadable` row (files unknown) for each whose trees cannot be read here."""
        self.db.execute("CREATE INDEX IF NOT EXISTS temp.scan_paths_sha ON scan_paths (sha)")
        listed = self.repo.git(["rev-list", "--no-merges", "--stdin", *no_walk], input=stdin)
        commits = listed.stdout.decode().split()
        todo: list[str] = []
        for chunk in _chunks(commits):
            marks = ",".join("?" * len(chunk))
            done = {
                r[0]
                for r in self.db.execute(
                    f"SELECT sha FROM scan_paths WHERE sha IN ({marks})", chunk
                )
            }
            todo += [c for c in chunk if c not in done]
        changes = diffs.changed_files(self.repo, todo)
        lost = [(sha, None, None) for sha, ch in changes.items() if ch is None]
        self._stage_paths(
            [
                (sha, diffs.path_key([c[2] for c in ch]))
                for sha, ch in changes.items()
                if ch is not None
            ]
        )
        self.db.executemany("INSERT OR REPLACE INTO scan_unreadable VALUES (?, ?, ?)", lost)
        self.db.commit()

    def _stage_resolved(
        self, items: Iterable[tuple[str, str] | diffs.Unreadable], table: str
    ) -> None:
        pairs: list[tuple[str, str]] = []
        lost: list[tuple[str, str | None, str | None]] = []
        for item in items:
            if isinstance(item, diffs.Unreadable):
                lost.append(
                    (item.sha, item.paths, None if item.missing is None else " ".join(item.missing))
                )
            else:
                pairs.append(item)
            if len(pairs) + len(lost) >= SCAN_BATCH:
                self._stage(pairs, lost, table)
                pairs, lost = [], []
        self._stage(pairs, lost, table)

    def _stage(
        self,
        pairs: list[tuple[str, str]],
        lost: list[tuple[str, str | None, str | None]],
        table: str,
    ) -> None:
        self._stage_patch_ids(pairs)
        self.db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)", lost)
        self.db.commit()

    @_guarded
    def retry(self, shas: Collection[str], *, everything: bool = False) -> set[str]:
        """Diff again those of these unreadable commits whose objects may be here now;
        return the ones that could be read. Only the commits a verdict waits on are
        retried (`Copies`): all of a blobless clone's would cost a blob check each time.
        A commit whose lacking blobs are known costs a share of one `rev-list`; one whose
        trees were missing too is retried only when objects arrived (the fingerprint of
        the object store changed). With `everything`, all unreadable commits are, once
        objects arrived (after `git fetch --refetch`, not one run per thousand)."""
        fingerprint = diffs.objects_fingerprint(self.repo)
        arrived = fingerprint != self._meta("objects")
        rows: list[tuple[str, str | None]] = []
        if everything and arrived:
            rows = self.db.execute("SELECT sha, missing FROM unreadable").fetchall()
        else:
            rows = list(
                _rows_in(
                    self.db, "SELECT sha, missing FROM unreadable WHERE sha IN ({marks})", shas
                )
            )
        if not rows:
            return set()
        # Cheap first: are the blobs they lacked here now?
        lacking = sorted({b for _, m in rows if m for b in m.split()})
        here = diffs.present(self.repo, lacking) or set()
        todo = [sha for sha, m in rows if (m is None and arrived) or (m and set(m.split()) <= here)]
        if not todo and not arrived:
            return set()
        self.db.executescript(_STAGING)
        if todo:
            self._stage_resolved(diffs.resolve(self.repo, todo), "scan_unreadable")
        read = {r[0] for r in self.db.execute("SELECT sha FROM scan_patch_ids")}
        still = {r[0] for r in self.db.execute("SELECT sha FROM scan_unreadable")}
        with self.db:
            self.db.execute(
                "UPDATE commits SET patch_id = (SELECT patch_id FROM scan_patch_ids p "
                "WHERE p.sha = commits.sha) WHERE sha IN (SELECT sha FROM scan_patch_ids)"
            )
            self.db.executemany("DELETE FROM unreadable WHERE sha=?", ((t,) for t in todo))
            self.db.execute("INSERT OR REPLACE INTO unreadable SELECT * FROM scan_unreadable")
            self.db.execute("DELETE FROM scan_patch_ids")
            self.db.execute("DELETE FROM scan_unreadable")
            self._set_meta("objects", fingerprint)
        # Read now: with a patch-id, or none because it changes nothing.
        return (set(todo) - still) | read

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- what could not be read -------------------------------------------------------

    @_guarded
    def incomplete(self) -> bool:
        """Whether the patch-id of any commit whose group was diffed (`prepare`) could not
        be computed here."""
        if not self.patch_ids:
            return False
        self.update()
        return self.db.execute("SELECT 1 FROM unreadable LIMIT 1").fetchone() is not None

    @_guarded
    def unreadable_among(self, shas: Collection[str]) -> set[str]:
        """Those of `shas` whose patch-id could not be computed here (their groups of
        files diffed first: so are the unreadable commits `unreadable_changing` names)."""
        self._resolve(shas)
        return {
            r[0]
            for r in _rows_in(self.db, "SELECT sha FROM unreadable WHERE sha IN ({marks})", shas)
        }

    @_guarded
    def changed_files(self, shas: Collection[str]) -> dict[str, str | None]:
        """`diffs.signature` of the files each commit changes (None: unknown). Read from
        the table for unreadable commits, from git (trees only) for the others."""
        out: dict[str, str | None] = dict(
            _rows_in(self.db, "SELECT sha, paths FROM unreadable WHERE sha IN ({marks})", shas)
        )
        rest = [s for s in shas if s not in out]
        for sha, changes in diffs.changed_files(self.repo, rest).items():
            out[sha] = None if changes is None else diffs.signature([c[2] for c in changes])
        return out

    @_guarded
    def unreadable_changing(
        self, signatures: Collection[str], limit: int
    ) -> dict[str | None, list[str]]:
        """The unreadable commits that change exactly each of these sets of files (a
        copy by patch-id changes the same files), and under None those whose files are
        not known either: copies of anything, for all anyone knows. At most `limit` + 1
        per key: more than `limit` is "too many to name"."""
        out: dict[str | None, list[str]] = {}
        for key in sorted(set(signatures)):
            out[key] = [
                r[0]
                for r in self.db.execute(
                    "SELECT sha FROM unreadable WHERE paths=? LIMIT ?", (key, limit + 1)
                )
            ]
        out[None] = [
            r[0]
            for r in self.db.execute(
                "SELECT sha FROM unreadable WHERE paths IS NULL LIMIT ?", (limit + 1,)
            )
        ]
        return out

    @_guarded
    def fetch_missing(self, shas: Collection[str]) -> str | None:
        """In a partial clone, fetch the blobs these unreadable commits lack, in one
        batch bounded in time and size, and diff them again. None when fetched, else
        why not (the verdict then says how to complete the clone)."""
        remote = diffs.promisor(self.repo)
        if remote is None:
            return "objects are missing and this is no partial clone"
        blobs: set[str] = set()
        unknown = 0  # commits whose trees are missing too: what they lack is not known
        for _sha, missing in _rows_in(
            self.db, "SELECT sha, missing FROM unreadable WHERE sha IN ({marks})", shas
        ):
            if missing is None:
                unknown += 1
            else:
                blobs.update(missing.split())
        if not blobs:
            return f"the trees of {unknown} of those commits are missing too" if unknown else None
        if len(blobs) > MAX_FETCH:
            return f"{len(blobs)} blobs are missing, more than one fetch should take"
        # A remote that did not answer in time is not waited for again for a while:
        # an editor refreshing every few seconds would wait each time.
        hung = self._meta("fetch-timeout")
        with suppress(ValueError, TypeError):
            if 0 <= time.time() - float(hung or "") < FETCH_BACKOFF:
                return f"{remote} did not answer within {FETCH_TIMEOUT:.0f} s a moment ago"
        try:
            return diffs.fetch_blobs(self.repo, remote, sorted(blobs), FETCH_TIMEOUT)
        except subprocess.TimeoutExpired:
            with self.db:
                self._set_meta("fetch-timeout", str(time.time()))
            return f"{remote} did not answer within {FETCH_TIMEOUT:.0f} s"

    # -- asking -----------------------------------------------------------------------

    @_guarded
    def links(
        self, shas: Collection[str], *, patch_ids: bool = True, max_group: int = 200
    ) -> dict[str, list[tuple[str, str]]]:
        """Every direct copy link of these commits, in a few batched queries.

        A patch-id or Change-Id shared by more than `max_group` commits (an empty
        file added everywhere, a version bump) says nothing about one change: skipped.
        """
        out: dict[str, list[tuple[str, str]]] = {s: [] for s in shas}
        if patch_ids:
            self._resolve(shas)
        for chunk in _chunks(sorted(shas)):
            marks = ",".join("?" * len(chunk))
            for sha, src, how in self.db.execute(
                f"SELECT sha, source, how FROM copies WHERE sha IN ({marks})", chunk
            ):
                out[sha].append((src, how))
            for sha, src, how in self.db.execute(
                f"SELECT sha, source, how FROM copies WHERE source IN ({marks})", chunk
            ):
                out[src].append((sha, how))
            columns = (("patch_id", trailers.PATCH_ID),) if patch_ids else ()
            for column, how in (*columns, ("change_id", trailers.CHANGE_ID)):
                keys: dict[str, list[str]] = {}
                for sha, key in self.db.execute(
                    f"SELECT sha, {column} FROM commits WHERE sha IN ({marks}) "
                    f"AND {column} IS NOT NULL",
                    chunk,
                ):
                    keys.setdefault(key, []).append(sha)
                for kchunk in _chunks(sorted(keys)):
                    kmarks = ",".join("?" * len(kchunk))
                    groups: dict[str, list[str]] = {}
                    for sha, key in self.db.execute(
                        f"SELECT sha, {column} FROM commits WHERE {column} IN ({kmarks})", kchunk
                    ):
                        groups.setdefault(key, []).append(sha)
                    for key, members in groups.items():
                        if len(members) > max_group:
                            continue
                        for sha in keys[key]:
                            out[sha] += [(m, how) for m in members if m != sha]
        return out

    @_guarded
    def reverts_of(self, shas: Collection[str]) -> dict[str, list[str]]:
        """For each commit, the commits whose message says they revert it."""
        out: dict[str, list[str]] = {}
        for sha, reverted in _rows_in(
            self.db, "SELECT sha, reverted FROM reverts WHERE reverted IN ({marks})", shas
        ):
            out.setdefault(reverted, []).append(sha)
        return out

    @_guarded
    def same_subject(self, sha: str, limit: int = 20) -> list[str]:
        """Other commits with this commit's subject line: a hint, never evidence.

        A subject shared by more than `limit` commits ("fix typo") hints at nothing."""
        row = self.db.execute("SELECT subject FROM commits WHERE sha=?", (sha,)).fetchone()
        if not row or not row[0]:
            return []
        found = [
            r[0]
            for r in self.db.execute(
                "SELECT sha FROM commits WHERE subject=? LIMIT ?", (row[0], limit + 1)
            )
        ]
        return [] if len(found) > limit else [f for f in found if f != sha]

    @_guarded
    def patch_id(self, sha: str) -> str | None:
        self._resolve([sha])
        row = self.db.execute("SELECT patch_id FROM commits WHERE sha=?", (sha,)).fetchone()
        return row[0] if row else None

    @_guarded
    def same_patch(self, sha: str) -> list[str]:
        pid = self.patch_id(sha)
        if not pid:
            return []
        return [r[0] for r in self.db.execute("SELECT sha FROM commits WHERE patch_id=?", (pid,))]

    @_guarded
    def known(self, shas: Iterable[str]) -> set[str]:
        return {
            r[0] for r in _rows_in(self.db, "SELECT sha FROM commits WHERE sha IN ({marks})", shas)
        }


_PR_SUFFIX = re.compile(r"\s*\(#\d+\)\s*$")


def _subject(message: str) -> str | None:
    """The subject, folded so that case and spacing do not hide a match."""
    first = message.strip().split("\n", 1)[0]
    # GitHub's squash merge appends "(#12398)" on master only (redis CVE-2022-24834).
    first = _PR_SUFFIX.sub("", first)
    folded = " ".join(first.lower().split())
    # Merges and reverts say which commit they merge or revert, not what they change.
    return None if not folded or folded.startswith(("merge ", "revert ")) else folded


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    # SQLite before 3.32 allows 999 parameters per statement.
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _rows_in(db: sqlite3.Connection, query: str, keys: Iterable[str]) -> Iterator[Any]:
    """The rows of `query`, whose `{marks}` stands for a list of keys, for all of `keys`
    (a few statements of at most `_chunks` keys each)."""
    for chunk in _chunks(sorted(set(keys))):
        yield from db.execute(query.format(marks=",".join("?" * len(chunk))), chunk)


def _present(repo: SourceRepo, shas: Iterable[str]) -> set[str]:
    return set(resolve_commits(repo, shas).values())


def resolve_commits(repo: SourceRepo, names: Iterable[str]) -> dict[str, str]:
    """Full commit SHAs for (possibly abbreviated) names that denote commits here."""
    todo = sorted(set(names))
    if not todo:
        return {}
    out = (
        repo.git(
            ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
            input="".join(n + "\n" for n in todo).encode(),
        )
        .stdout.decode()
        .splitlines()
    )
    result = {}
    for name, line in zip(todo, out, strict=False):
        parts = line.split()
        if len(parts) == 2 and parts[1] == "commit":
            result[name] = parts[0]
    return result
