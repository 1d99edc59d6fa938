"""Per-commit facts that identify copies: patch-id, Change-Id, "copied from" lines.

Computing `git patch-id --stable` means diffing every commit, so it is done once per
commit and kept in an SQLite file under the git common dir (SQLite gives atomic,
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
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Collection, Iterable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING

from poison_tools import git, trailers
from poison_tools.git import SourceRepo
from poison_tools.progress import Progress, Silent
from poison_tools.refs import RefListing

if TYPE_CHECKING:
    from poison_tools.reach import Reachability

CACHE_DIR = "poison-cache"
SCHEMA = 4  # 4: reverts
# Named by schema: two versions of git-poison on one repository (an upgrade, a
# benchmark against an older revision) each keep their own cache instead of
# discarding each other's, which costs a full rescan every time.
CACHE_FILE = f"copies-v{SCHEMA}.sqlite3"

_DDL = """
CREATE TABLE IF NOT EXISTS commits (sha TEXT PRIMARY KEY, patch_id TEXT, change_id TEXT,
                                    subject TEXT);
CREATE INDEX IF NOT EXISTS commits_subject ON commits (subject);
CREATE INDEX IF NOT EXISTS commits_patch ON commits (patch_id);
CREATE INDEX IF NOT EXISTS commits_change ON commits (change_id);
CREATE TABLE IF NOT EXISTS copies (sha TEXT, source TEXT, how TEXT, PRIMARY KEY (sha, source));
CREATE INDEX IF NOT EXISTS copies_source ON copies (source);
CREATE TABLE IF NOT EXISTS tips (sha TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS reverts (sha TEXT, reverted TEXT, PRIMARY KEY (sha, reverted));
CREATE INDEX IF NOT EXISTS reverts_reverted ON reverts (reverted);
"""

# Per-scan staging (connection-private TEMP tables): see `PatchIdCache._scan`.
_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS scan_messages (sha TEXT PRIMARY KEY, change_id TEXT, subject TEXT);
CREATE TEMP TABLE IF NOT EXISTS scan_patch_ids (sha TEXT PRIMARY KEY, patch_id TEXT);
DELETE FROM scan_messages;
DELETE FROM scan_patch_ids;
"""
# Rows staged per batch: a few megabytes of Python objects at a time.
SCAN_BATCH = 20_000

# Diff settings that a user's config must not change: a patch-id computed under
# diff.renames=copies would not match one computed without it.
_DIFF_CONFIG = ("-c", "log.showSignature=false", "-c", "diff.noprefix=false",
                "-c", "diff.mnemonicPrefix=false", "-c", "diff.renames=false",
                "-c", "core.quotePath=true")


def cache_path(repo: SourceRepo, patch_ids: bool = True) -> str:
    # Without patch-ids (poison.equivalence=trailers) the rows lack them: a file of
    # its own, so that switching back to `full` does not believe the gaps.
    name = CACHE_FILE if patch_ids else CACHE_FILE.replace(".", "-trailers.", 1)
    return os.path.join(repo.common_dir, CACHE_DIR, name)


def _connect(path: str | None) -> sqlite3.Connection:
    """The on-disk cache, or an in-memory one when the git dir is read-only."""
    if path is not None:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            db = sqlite3.connect(path, timeout=30)
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
            return db
        except (OSError, sqlite3.Error):
            pass
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.executescript(_DDL)
    return db


class PatchIdCache:
    """Copy-identifying facts of every commit on a ref, kept up to date incrementally."""

    def __init__(self, repo: SourceRepo, *, patch_ids: bool = True, progress: Progress | None = None,
                 path: str | None = "", reach: Reachability | None = None) -> None:
        self.repo = repo
        self.reach = reach
        self.patch_ids = patch_ids
        self.progress = progress or Silent()
        self.db = _connect(cache_path(repo, patch_ids) if path == "" else path)
        self._fresh = False

    # -- keeping it up to date ------------------------------------------------------

    def _tips(self) -> set[str]:
        # Every ref and HEAD (this runs on every check and push): the listing the
        # reachability engine reads anyway, when there is one.
        listing = self.reach.listing if self.reach is not None else RefListing(self.repo)
        head = listing.head()
        return {r.object for r in listing.refs()} | ({head} if head else set())

    def update(self) -> int:
        """Scan the commits added since the last scan; return how many were scanned."""
        if self._fresh:
            return 0
        self._fresh = True
        now = self._tips()
        old = {r[0] for r in self.db.execute("SELECT sha FROM tips")}
        if now == old:
            return 0
        alive = _present(self.repo, old - now)
        if not now:
            return 0
        scanned = alive | (old & now)  # tips whose whole history is in the cache
        new = self._beyond(now - scanned, scanned)
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
        from poison_tools.reach import GitWalk

        if not tips or not scanned or self.reach is None or isinstance(self.reach, GitWalk):
            return tips  # plain git would walk once per scanned tip: worse than one log
        answers = self.reach.ancestors_many(sorted(scanned), sorted(tips))
        inside = {c for a in answers.values() for c in a.reachable}
        return tips - inside

    def ensure(self, commits: Collection[str]) -> None:
        """Make sure these commits (e.g. recorded ones on no ref) have their facts."""
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

        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(read_messages)
            try:
                if self.patch_ids:
                    self.progress.start("computing patch-ids")
                    pending: list[tuple[str, str]] = []
                    for sha, patch_id in self._patch_ids(stdin, no_walk):
                        pending.append((sha, patch_id))
                        if len(pending) >= SCAN_BATCH:
                            self._stage_patch_ids(pending)
                            pending = []
                            stage_messages(block=False)
                    self._stage_patch_ids(pending)
                    self.progress.finish()
                stage_messages(block=True)
            finally:
                stop.set()  # normally the reader is done; else it stops and its git is killed
            reading.result()  # git's failure, raised here
        if not scanned:
            return 0
        full = resolve_commits(self.repo, {source for _, source, _ in copies}
                               | {reverted for _, reverted in undone})
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO commits SELECT m.sha, p.patch_id, m.change_id, "
                            "m.subject FROM scan_messages m LEFT JOIN scan_patch_ids p USING (sha)")
            self.db.executemany("INSERT OR IGNORE INTO copies VALUES (?, ?, ?)",
                                ((sha, full.get(s, s), how) for sha, s, how in copies))
            self.db.executemany("INSERT OR IGNORE INTO reverts VALUES (?, ?)",
                                ((sha, full.get(r, r)) for sha, r in undone))
            self.db.execute("DELETE FROM scan_messages")
            self.db.execute("DELETE FROM scan_patch_ids")
        # A trailer may name a commit that is here but on no ref (a security fix made
        # in a private fork, then picked onto each release branch; redis's
        # CVE-2023-45145): its patch-id is what links those picks to the fix on master.
        named = {full[s] for _, s, _ in copies if s in full}
        unscanned = sorted(named - self.known(named))
        if unscanned:
            return scanned + self._scan(unscanned, walk=False)
        return scanned

    def _stage_patch_ids(self, pairs: list[tuple[str, str]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO scan_patch_ids VALUES (?, ?)", pairs)
        self.db.commit()

    def _messages(self, stdin: bytes, no_walk: list[str]) -> Iterator[tuple[str, str]]:
        """(sha, message) of each commit, read from git as it writes them."""
        import tempfile

        cmd = ["git", "--git-dir", self.repo.git_dir, "-c", "log.showSignature=false", "log",
               "--stdin", *no_walk, "--format=%x01%H%x00%B"]
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err, env=git.clean_env())
            assert proc.stdin is not None and proc.stdout is not None
            # git log reads all of stdin before it writes anything: no deadlock.
            with suppress(BrokenPipeError):
                proc.stdin.write(stdin)
                proc.stdin.close()
            rest, read_all = b"", False
            try:
                while chunk := proc.stdout.read(1 << 20):
                    records = (rest + chunk).split(b"\x01")
                    rest = records.pop()
                    for record in records:
                        if record:
                            sha, _, body = record.partition(b"\x00")
                            yield sha.decode(), body.decode(errors="replace")
                read_all = True
            finally:
                if not read_all:  # the reader stopped early
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            if rest:
                sha, _, body = rest.partition(b"\x00")
                yield sha.decode(), body.decode(errors="replace")
            if proc.wait() != 0:
                err.seek(0)
                raise git.GitError(cmd, proc.returncode, "", err.read().decode(errors="replace"))

    def _patch_ids(self, stdin: bytes, no_walk: list[str]) -> Iterator[tuple[str, str]]:
        base = ["git", "--git-dir", self.repo.git_dir, *_DIFF_CONFIG]
        log = subprocess.Popen(
            [*base, "log", "--stdin", *no_walk, "--no-merges", "-p", "--format=%H", "--no-color",
             "--no-ext-diff", "--no-textconv", "--no-renames"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=git.clean_env(),
        )
        pid = subprocess.Popen([*base, "patch-id", "--stable"], stdin=log.stdout,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git.clean_env())
        assert log.stdin is not None and log.stdout is not None and pid.stdout is not None
        log.stdout.close()  # patch-id owns the read end now
        with suppress(BrokenPipeError):
            log.stdin.write(stdin)
            log.stdin.close()
        for line in pid.stdout:
            parts = line.decode().split()
            if len(parts) == 2:
                self.progress.advance()
                yield parts[1], parts[0]
        pid.wait()
        log.wait()

    # -- asking -----------------------------------------------------------------------

    def links(self, shas: Collection[str], *, patch_ids: bool = True,
              max_group: int = 200) -> dict[str, list[tuple[str, str]]]:
        """Every direct copy link of these commits, in a few batched queries.

        A patch-id or Change-Id shared by more than `max_group` commits (an empty
        file added everywhere, a version bump) says nothing about one change: skipped.
        """
        out: dict[str, list[tuple[str, str]]] = {s: [] for s in shas}
        for chunk in _chunks(sorted(shas)):
            marks = ",".join("?" * len(chunk))
            for sha, src, how in self.db.execute(
                    f"SELECT sha, source, how FROM copies WHERE sha IN ({marks})", chunk):
                out[sha].append((src, how))
            for sha, src, how in self.db.execute(
                    f"SELECT sha, source, how FROM copies WHERE source IN ({marks})", chunk):
                out[src].append((sha, how))
            columns = (("patch_id", trailers.PATCH_ID),) if patch_ids else ()
            for column, how in (*columns, ("change_id", trailers.CHANGE_ID)):
                keys: dict[str, list[str]] = {}
                for sha, key in self.db.execute(
                        f"SELECT sha, {column} FROM commits WHERE sha IN ({marks}) "
                        f"AND {column} IS NOT NULL", chunk):
                    keys.setdefault(key, []).append(sha)
                for kchunk in _chunks(sorted(keys)):
                    kmarks = ",".join("?" * len(kchunk))
                    groups: dict[str, list[str]] = {}
                    for sha, key in self.db.execute(
                            f"SELECT sha, {column} FROM commits WHERE {column} IN ({kmarks})", kchunk):
                        groups.setdefault(key, []).append(sha)
                    for key, members in groups.items():
                        if len(members) > max_group:
                            continue
                        for sha in keys[key]:
                            out[sha] += [(m, how) for m in members if m != sha]
        return out

    def reverts_of(self, shas: Collection[str]) -> dict[str, list[str]]:
        """For each commit, the commits whose message says they revert it."""
        out: dict[str, list[str]] = {}
        for chunk in _chunks(sorted(set(shas))):
            marks = ",".join("?" * len(chunk))
            for sha, reverted in self.db.execute(
                    f"SELECT sha, reverted FROM reverts WHERE reverted IN ({marks})", chunk):
                out.setdefault(reverted, []).append(sha)
        return out

    def same_subject(self, sha: str, limit: int = 20) -> list[str]:
        """Other commits with this commit's subject line: a hint, never evidence.

        A subject shared by more than `limit` commits ("fix typo") hints at nothing."""
        row = self.db.execute("SELECT subject FROM commits WHERE sha=?", (sha,)).fetchone()
        if not row or not row[0]:
            return []
        found = [r[0] for r in self.db.execute(
            "SELECT sha FROM commits WHERE subject=? LIMIT ?", (row[0], limit + 1))]
        return [] if len(found) > limit else [f for f in found if f != sha]

    def patch_id(self, sha: str) -> str | None:
        row = self.db.execute("SELECT patch_id FROM commits WHERE sha=?", (sha,)).fetchone()
        return row[0] if row else None

    def same_patch(self, sha: str) -> list[str]:
        pid = self.patch_id(sha)
        if not pid:
            return []
        return [r[0] for r in self.db.execute("SELECT sha FROM commits WHERE patch_id=?", (pid,))]

    def known(self, shas: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(shas))):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(
                f"SELECT sha FROM commits WHERE sha IN ({marks})", chunk))
        return found


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
        yield items[i:i + size]


def _present(repo: SourceRepo, shas: Iterable[str]) -> set[str]:
    return set(resolve_commits(repo, shas).values())


def resolve_commits(repo: SourceRepo, names: Iterable[str]) -> dict[str, str]:
    """Full commit SHAs for (possibly abbreviated) names that denote commits here."""
    todo = sorted(set(names))
    if not todo:
        return {}
    out = repo.git(["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                   input="".join(n + "\n" for n in todo).encode()).stdout.decode().splitlines()
    result = {}
    for name, line in zip(todo, out, strict=False):
        parts = line.split()
        if len(parts) == 2 and parts[1] == "commit":
            result[name] = parts[0]
    return result
