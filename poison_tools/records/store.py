"""The poisons repository: where records live, how they are read and written.

Layout: a bare repository at `<git-common-dir>/poison` (the embedded default, which
needs no configuration). Each source repository owns one branch in it, named by
`project.project_name`; each record is one file `records/<id>.json` on that branch.
With `git config poison.remote URL` the local repository becomes a cache of a shared
one: reads fetch first (bounded in time), writes fetch, apply, and push, and retry
when somebody else pushed first. Nothing here ever force-pushes or deletes a ref.

A write is a *function* of the records it finds (`Change`), not a diff computed once:
on every retry it is applied again to the newest records, so concurrent writers
never overwrite each other, and an edit already present is not made twice.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from poison_tools import cachefile, git
from poison_tools.errors import FatalError, RemoteUnreachable
from poison_tools.git import GitError, SourceRepo
from poison_tools.records import signing, store_cache
from poison_tools.records.project import project_name
from poison_tools.records.record import (
    MAX_FILE_BYTES,
    Problem,
    Record,
    display_path,
    is_record_path,
    merge_records,
    parse_record,
    path_problem,
    record_path,
    write_problem,
)
from poison_tools.records.remote_answers import PushRefused, git_reason, push_outcome
from poison_tools.records.tree_edit import edit_tree
from poison_tools.term import printable

if TYPE_CHECKING:
    from poison_tools.records.seen_ids import Vanished

MAX_ATTEMPTS = 100
DEFAULT_FETCH_TIMEOUT = 10.0
MAX_FETCH_TIMEOUT = 3600.0
STAMP = "poison-last-fetch"
_ZERO = "0" * 40

# Push or fetch outcomes that mean "somebody else got there first": try again.
_RETRYABLE = (
    "fetch first",
    "non-fast-forward",
    "cannot lock ref",
    "failed to update ref",
    "stale info",
    "unable to create",
    "is at ",
    "incorrect old value",
)


@dataclass(frozen=True)
class Staleness:
    """Records were read from the last fetched copy because the remote did not answer."""

    reason: str
    fetched_at: float | None  # epoch seconds of the last good fetch, None if never

    def describe(self, now: float | None = None) -> str:
        if self.fetched_at is None:
            age = "never fetched"
        else:
            age = "fetched " + _age((now or time.time()) - self.fetched_at) + " ago"
        return f"poisons remote unreachable ({self.reason}); using local records, {age}"


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


@dataclass
class Snapshot:
    """The records of one project as last read."""

    records: dict[str, Record] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    tip: str | None = None
    stale: Staleness | None = None
    # id -> the files that each claim it: none of them is believed (see `_collect`).
    claimed: dict[str, list[str]] = field(default_factory=dict)
    # One line each about a damaged cache that was read around (for stderr, not JSON).
    notices: list[str] = field(default_factory=list)
    # Records whose file was deleted or renamed instead of withdrawn (seen_ids.py);
    # each is also one of `problems`.
    vanished: list[Vanished] = field(default_factory=list)

    @property
    def active(self) -> list[Record]:
        return [r for r in self.records.values() if r.active]

    def taken(self, record_id: str) -> bool:
        """Whether a new record may not use `record_id`: a record, or a file, has it."""
        if record_id in self.records or record_id in self.claimed:
            return True
        target = record_path(record_id)
        return any(p.path == target for p in self.problems)

    def find(self, prefix: str) -> Record:
        """A record by id or unique id prefix (like a short SHA)."""
        prefix = prefix.strip().lower()
        ids = (
            [prefix]
            if prefix in self.records or prefix in self.claimed
            else sorted(
                i for i in (*self.records, *self.claimed) if prefix and i.startswith(prefix)
            )
        )
        if len(ids) > 1:
            raise FatalError(f"record id {prefix!r} is ambiguous: {', '.join(ids)}")
        if not ids:
            from poison_tools.records.seen_ids import find as find_vanished

            gone = find_vanished(self.vanished, prefix)
            if gone is not None:
                raise FatalError(gone.describe())
            raise FatalError(f"no record {prefix!r} (see `git poison list`)")
        if ids[0] in self.claimed:
            paths = " and ".join(printable(p) for p in self.claimed[ids[0]])
            raise FatalError(
                f"record {ids[0]} is claimed by more than one file ({paths}): "
                "remove the wrong one from the poisons repository first"
            )
        return self.records[ids[0]]


@dataclass(frozen=True)
class WriteResult:
    commit: str | None  # None: nothing changed
    pushed: bool
    offline: RemoteUnreachable | None = None
    started: bool = False  # the first commit of this project's branch


# A change maps the current records to the records to (re)write.
Change = Callable[[Snapshot], Iterable[Record]]


def _ref_safe_env(name: str, email: str) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


class PoisonStore:
    def __init__(self, source: SourceRepo, *, fetch: bool = True) -> None:
        self.source = source
        self.path = os.path.join(source.common_dir, "poison")
        self.project = project_name(source)
        self.branch = f"refs/heads/{self.project}"
        self.tracking = f"refs/remotes/origin/{self.project}"
        self.remote = source.config_get("poison.remote") or None
        self.allow_fetch = fetch
        self._fetch_timeout: float | None = None  # read on first use: see fetch_timeout
        self.signing = signing.signing(source)  # the user's signing setup (issue 14)

    @property
    def fetch_timeout(self) -> float:
        """Seconds a fetch may take (`poison.fetchTimeout`); a push may take three times it.

        Read when first needed, so that a command that never contacts the remote, or the
        hook (which sets its own `poison.hookFetchTimeout`), is not stopped by it."""
        if self._fetch_timeout is None:
            raw = self.source.config_get("poison.fetchtimeout")
            try:
                value = DEFAULT_FETCH_TIMEOUT if not raw else float(raw)
            except ValueError:
                value = math.nan
            # nan, inf and 1e400 used to reach subprocess and exit 3 (issue 11).
            if not 0 < value <= MAX_FETCH_TIMEOUT:
                raise FatalError(
                    "poison.fetchTimeout is not a number of seconds between 0 and "
                    f"{MAX_FETCH_TIMEOUT:g}: {raw!r}"
                )
            self._fetch_timeout = value
        return self._fetch_timeout

    @fetch_timeout.setter
    def fetch_timeout(self, seconds: float) -> None:
        self._fetch_timeout = seconds

    # -- plumbing ---------------------------------------------------------------------

    def _git(self, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return git.run_at(self.path, args, **kwargs)  # type: ignore[arg-type]

    def _out(self, args: list[str], **kwargs: object) -> str:
        return self._git(args, **kwargs).stdout.decode()

    @property
    def exists(self) -> bool:
        return os.path.isfile(os.path.join(self.path, "HEAD"))

    def ensure(self) -> None:
        """Create the local poisons repository on first use.

        Built beside its final place and renamed into it, so that processes starting
        at once (a hook and an editor, twenty CI jobs) never see half a repository
        or fight over its config lock.
        """
        if self.exists:
            return
        # GitPython, shutil and tempfile only here and in writers: their imports cost
        # ~0.1 s that read paths (check, the hook, the editor) should not pay.
        import shutil
        import tempfile

        import git as gitpython

        tmp = tempfile.mkdtemp(prefix=".poison-new-", dir=os.path.dirname(self.path))
        try:
            repo = gitpython.Repo.init(tmp, bare=True)
            with repo.config_writer() as cw:
                # The reflog is a second audit trail and a way back from any mistake.
                cw.set_value("core", "logAllRefUpdates", "always")
            try:
                os.rename(tmp, self.path)
            except OSError:
                if not self.exists:
                    raise
        finally:
            if os.path.isdir(tmp):
                shutil.rmtree(tmp, ignore_errors=True)

    def _tips(self) -> tuple[str | None, str | None]:
        if not self.exists:
            return None, None
        # Read from the ref files when they are plain (every check and push reads
        # them; a git process costs more than the read); anything unusual asks git.
        fast = _read_refs(self.path, (self.branch, self.tracking))
        if fast is not None:
            return fast[self.branch], fast[self.tracking]
        out = self._out(
            ["for-each-ref", "--format=%(objectname) %(refname)", self.branch, self.tracking]
        )
        found: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition(" ")
            found[ref] = sha
        return found.get(self.branch), found.get(self.tracking)

    def last_fetch(self) -> float | None:
        try:
            return os.path.getmtime(os.path.join(self.path, STAMP))
        except OSError:
            return None

    def fetch_ref(self, ref: str, tracking: str) -> tuple[int, str]:
        """One `git fetch` of the remote's `ref` into `tracking`, bounded by the fetch
        timeout: git's exit status and stderr (RemoteUnreachable when it did not answer)."""
        assert self.remote
        try:
            proc = self._git(
                [
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--end-of-options",
                    self.remote,
                    f"+{ref}:{tracking}",
                ],
                check=False,
                timeout=self.fetch_timeout,
            )
        except subprocess.TimeoutExpired:
            raise RemoteUnreachable(f"no answer within {self.fetch_timeout:g} s") from None
        return proc.returncode, proc.stderr.decode(errors="replace")

    def fetch(self) -> str | None:
        """Fetch our branch from the remote; return its tip (None: no records there yet)."""
        assert self.remote
        self.ensure()
        for attempt in range(8):
            returncode, err = self.fetch_ref(self.branch, self.tracking)
            if returncode == 0:
                break
            if "couldn't find remote ref" in err:
                # Reachable, but nobody has recorded anything for this project yet.
                self._touch_stamp()
                return None
            if any(s in err for s in _RETRYABLE):
                # Another process on this machine is fetching into the same cache.
                import random

                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                continue
            raise RemoteUnreachable(printable(git_reason(err, "fetch failed")))
        else:
            raise RemoteUnreachable("the local cache stayed locked by other fetches")
        self._touch_stamp()
        return self._tips()[1]

    def _touch_stamp(self) -> None:
        # Replaced, never opened for writing: a FIFO standing there would block the fetch.
        try:
            cachefile.replace(
                os.path.join(self.path, STAMP), f"{time.time():.0f}\n".encode(), ".stamp-"
            )
        except OSError:
            pass  # only the age shown when the remote is unreachable depends on it

    # -- reading ----------------------------------------------------------------------

    def _files(self, commit: str) -> dict[str, tuple[str, str, int]]:
        """path -> (mode, oid, size) of every file in `commit`."""
        out = self._git(["ls-tree", "-r", "-z", "-l", "--full-tree", commit]).stdout.decode(
            errors="surrogateescape"
        )
        files = {}
        for entry in out.split("\0"):
            if not entry:
                continue
            meta, _, path = entry.partition("\t")
            mode, _type, oid, size = meta.split()
            files[path] = (mode, oid, int(size) if size.isdigit() else -1)
        return files

    def _blobs(self, oids: Iterable[str]) -> dict[str, bytes]:
        wanted = list(dict.fromkeys(oids))
        if not wanted:
            return {}
        out = self._git(
            ["cat-file", "--batch"], input="".join(o + "\n" for o in wanted).encode()
        ).stdout
        blobs, pos = {}, 0
        for oid in wanted:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            size = int(header[2])
            blobs[oid] = out[nl + 1 : nl + 1 + size]
            pos = nl + 1 + size + 1
        return blobs

    def _parse_tree(
        self, commit: str | None
    ) -> tuple[dict[str, tuple[str, str, int]], dict[str, Record | Problem]]:
        if commit is None:
            return {}, {}
        files = {p: f for p, f in self._files(commit).items() if is_record_path(p)}
        bad_names = {p: why for p in files if (why := path_problem(p)) is not None}
        readable = {
            p: f
            for p, f in files.items()
            if f[0] in ("100644", "100755") and 0 <= f[2] <= MAX_FILE_BYTES and p not in bad_names
        }
        blobs = self._blobs(f[1] for f in readable.values())
        parsed: dict[str, Record | Problem] = {}
        for path, (mode, oid, _size) in files.items():
            if path in bad_names:
                # Never read as a record (`x/../e.json` would pose as `e.json`); the
                # name is shown escaped, and the file is left alone by writes.
                parsed[path] = Problem(display_path(path), bad_names[path])
            elif path not in readable:
                why = (
                    "not a regular file"
                    if mode not in ("100644", "100755")
                    else f"file is larger than {MAX_FILE_BYTES} bytes"
                )
                parsed[path] = Problem(path, why)
            else:
                parsed[path] = parse_record(path, blobs[oid])
        return files, parsed

    def _snapshot_of(self, commit: str | None) -> Snapshot:
        if commit is None:
            return _collect((), tip=None)
        # The parse of one commit never changes: reuse it (poison_tools.records.store_cache).
        # Caches written before file names were vetted are of format 1, which the cache
        # no longer believes: what it returns was vetted when it was parsed.
        items, notice = store_cache.read(self.path, self.branch, commit)
        if items is None:
            files, parsed = self._parse_tree(commit)
            items = list(parsed.values())
            store_cache.write(
                self.path, self.branch, commit, items, {p: f[1] for p, f in files.items()}
            )
        snap = _collect(items, tip=commit)
        snap.notices.extend([notice] if notice else [])
        return snap

    def load(self) -> Snapshot:
        """Read the records, fetching first when a remote is configured."""
        stale = None
        local, remote_tip = self._tips()
        if self.remote and self.allow_fetch:
            try:
                remote_tip = self.fetch()
                local = self._tips()[0]
            except RemoteUnreachable as e:
                stale = Staleness(str(e), self.last_fetch())
        elif self.remote:
            stale = None  # --no-fetch: the user asked for the cached copy
        if local and remote_tip and local != remote_tip:
            # Records made offline and not pushed yet are still records: show both.
            base = self._merge_base(local, remote_tip)
            if base == local:
                snap = self._snapshot_of(remote_tip)
            elif base == remote_tip:
                snap = self._snapshot_of(local)
            else:
                snap = self._merged_snapshot(local, remote_tip, base)
        else:
            snap = self._snapshot_of(local or remote_tip)
        snap.stale = stale
        self._notice_vanished(snap, [t for t in (local, remote_tip) if t])
        return snap

    def _notice_vanished(self, snap: Snapshot, tips: list[str]) -> None:
        """A record file deleted or renamed is reported until restored or withdrawn."""
        from poison_tools.records import seen_ids

        try:
            # Every *.json file of the tree is either a record or a problem (_parse_tree).
            paths = {r.path for r in snap.records.values()} | {p.path for p in snap.problems}
            paths |= {p for ps in snap.claimed.values() for p in ps}
            snap.vanished = seen_ids.vanished(
                self.path, paths, set(snap.records) | set(snap.claimed), tips
            )
        except GitError as e:
            # Fail closed: if git cannot say what was deleted, nobody can say "healthy".
            snap.problems.append(Problem("records", f"could not look for deleted records: {e}"))
            return
        snap.problems = sorted(
            [*snap.problems, *(v.problem() for v in snap.vanished)], key=lambda p: p.path
        )

    def _merged_snapshot(self, a: str, b: str, base: str | None) -> Snapshot:
        _, pa = self._parse_tree(a)
        _, pb = self._parse_tree(b)
        _, pbase = self._parse_tree(base)
        items: list[Record | Problem] = []
        for path in sorted(set(pa) | set(pb)):
            x, y = pa.get(path), pb.get(path)
            if isinstance(x, Record) and isinstance(y, Record) and x != y:
                b0 = pbase.get(path)
                items.append(merge_records(b0 if isinstance(b0, Record) else None, x, y))
            else:
                items.append(x if x is not None else y)  # type: ignore[arg-type]
        return _collect(items, tip=None)

    def _merge_base(self, a: str, b: str) -> str | None:
        proc = self._git(["merge-base", a, b], check=False)
        return proc.stdout.decode().strip() or None

    # -- writing ----------------------------------------------------------------------

    def write(self, change: Change, message: str, author: tuple[str, str]) -> WriteResult:
        """Apply `change` to the newest records and publish it; retry on contention."""
        self.ensure()
        env = _ref_safe_env(*author)
        for attempt in range(MAX_ATTEMPTS):
            offline: RemoteUnreachable | None = None
            local, remote_tip = self._tips()
            if self.remote:
                try:
                    remote_tip = self.fetch()
                    local = self._tips()[0]
                except RemoteUnreachable as e:
                    offline = e
            base = self._integrate(local, remote_tip, env)
            files, parsed = self._parse_tree(base)
            snap = _collect(parsed.values(), tip=base)
            updates = list(change(snap))
            new = self._commit(base, files, updates, message, env) if updates else base
            if new is None:
                return WriteResult(None, False, offline)
            pushed = False
            if self.remote and offline is None and new != remote_tip:
                outcome = self._push(new)
                if outcome == "retry":
                    _backoff(attempt)
                    continue
                if isinstance(outcome, PushRefused):
                    # Asking again will not help: say why now, and keep the record here
                    # (as when the remote is unreachable) for `git poison sync`.
                    if self._cas(self.branch, new, local):
                        raise outcome.kept([r.id for r in updates])
                    _backoff(attempt)
                    continue
                if isinstance(outcome, RemoteUnreachable):
                    offline = outcome
                else:
                    pushed = True
                    self._git(["update-ref", self.tracking, new])
            if self._cas(self.branch, new, local) or pushed:
                # Once pushed, the record is safe: a local ref moved by a concurrent
                # process is reconciled on the next read or write.
                changed = new if updates else None
                return WriteResult(changed, pushed, offline, started=base is None and bool(updates))
            _backoff(attempt)
        raise FatalError(
            f"gave up after {MAX_ATTEMPTS} attempts: the poisons repository is too busy; nothing was recorded, try again"
        )

    def _cas(self, ref: str, new: str, old: str | None) -> bool:
        proc = self._git(["update-ref", "-m", "git-poison", ref, new, old or _ZERO], check=False)
        return proc.returncode == 0

    def _push(self, commit: str) -> str | RemoteUnreachable | PushRefused | None:
        """None when pushed, "retry" when somebody else pushed first, else why not."""
        assert self.remote
        try:
            proc = self._git(
                [
                    "push",
                    "--porcelain",
                    "--quiet",
                    "--end-of-options",
                    self.remote,
                    f"{commit}:{self.branch}",
                ],
                check=False,
                timeout=self.fetch_timeout * 3,
            )
        except subprocess.TimeoutExpired:
            return RemoteUnreachable(f"push got no answer within {self.fetch_timeout * 3:g} s")
        if proc.returncode == 0:
            return None
        return push_outcome(
            proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        )

    def _integrate(self, local: str | None, remote: str | None, env: dict[str, str]) -> str | None:
        """One commit holding everything from both sides."""
        if not local or not remote or local == remote:
            return local or remote
        base = self._merge_base(local, remote)
        if base == local:
            return remote
        if base == remote:
            return local
        files_r, parsed_r = self._parse_tree(remote)
        files_l, parsed_l = self._parse_tree(local)
        files_b, parsed_b = self._parse_tree(base)
        updates: list[Record] = []
        removed: list[str] = []
        for path in set(files_l) | set(files_r):
            fl, fr, fb = files_l.get(path), files_r.get(path), files_b.get(path)
            if fl == fr or fl == fb:
                continue  # local did not change it: remote's version stands
            if fr == fb or fr is None and fb is None:
                if fl is None:
                    removed.append(path)
                    continue
                rec = parsed_l[path]
            else:
                x, y = parsed_l.get(path), parsed_r.get(path)
                if not (isinstance(x, Record) and isinstance(y, Record)):
                    continue  # unreadable on one side: keep remote's; both stay in history
                b0 = parsed_b.get(path)
                rec = merge_records(b0 if isinstance(b0, Record) else None, y, x)
            if isinstance(rec, Record):
                updates.append(rec)
        merged = self._commit(
            remote,
            files_r,
            updates,
            "Merge records made while offline",
            env,
            extra_parent=local,
            removed=removed,
            force=True,
        )
        assert merged is not None
        return merged

    def _commit(
        self,
        base: str | None,
        files: dict[str, tuple[str, str, int]],
        updates: list[Record],
        message: str,
        env: dict[str, str],
        *,
        extra_parent: str | None = None,
        removed: Iterable[str] = (),
        force: bool = False,
    ) -> str | None:
        """A commit on `base` with `updates` written; None when nothing changes.

        Every record is read back by the reader before it is written (`write_problem`):
        the CLI must never write what `check` would then refuse."""
        for rec in updates:
            why = write_problem(rec)
            if why is not None:
                raise FatalError(f"cannot write record {rec.id}: {why}; nothing was recorded")
            target = record_path(rec.id)
            if not force and rec.path != target and target in files:
                # An original record moving to records/<id>.json, or a new id, must not
                # overwrite a file that is there already (it is unreadable, or `_collect`
                # would have named the id as claimed twice).
                raise FatalError(
                    f"cannot write record {rec.id}: {target} already exists in the poisons "
                    "repository; nothing was recorded"
                )
        blobs = self._write_blobs(updates)
        edits: dict[str, str | None] = {}
        for rec, oid in zip(updates, blobs, strict=True):
            target = record_path(rec.id)
            if files.get(target, (None, None))[1] != oid:
                edits[target] = oid
            if rec.path and rec.path != target and rec.path in files:
                # A legacy record moves to the current format; the old file stays in history.
                edits[rec.path] = None
        for path in removed:
            edits[path] = None
        if not edits and not force:
            return None
        split = {
            tuple(p.encode("utf-8", "surrogateescape").split(b"/")): o for p, o in edits.items()
        }
        tree = edit_tree(self._git, base, split, top=True)  # ls-tree reads a commit's tree
        assert tree is not None
        parents = [a for p in (base, extra_parent) if p for a in ("-p", p)]
        sign = self.signing
        try:
            return self._out(
                [*sign.config, "commit-tree", *sign.flags, tree, *parents, "-m", message], env=env
            ).strip()
        except GitError as e:
            if sign.enabled:
                raise signing.signing_failed(e) from None
            raise

    def _write_blobs(self, updates: list[Record]) -> list[str]:
        if len(updates) == 1:
            return [self._out(["hash-object", "-w", "--stdin"], input=updates[0].dumps()).strip()]
        import tempfile

        with tempfile.TemporaryDirectory(prefix="git-poison-") as tmp:
            paths = []
            for i, rec in enumerate(updates):
                p = os.path.join(tmp, f"{i}.json")
                with open(p, "wb") as f:
                    f.write(rec.dumps())
                paths.append(p)
            return self._out(
                ["hash-object", "-w", "--stdin-paths"],
                input="".join(p + "\n" for p in paths).encode(),
            ).split()


def _read_refs(git_dir: str, names: tuple[str, ...]) -> dict[str, str | None] | None:
    """`names` -> commit, read like git's files backend does (loose file first, then
    packed-refs); None when anything is not plain (a symbolic ref, an odd file), so
    that the caller asks git instead of guessing."""
    found: dict[str, str | None] = {}
    packed: dict[str, str] | None = None
    for name in names:
        try:
            with open(os.path.join(git_dir, *name.split("/")), "rb") as f:
                raw = f.read(200).strip()
        except FileNotFoundError:
            raw = None
        except OSError:
            return None
        if raw is not None:
            sha = raw.decode("ascii", errors="replace")
            if not git.is_sha(sha):
                return None
            found[name] = sha
            continue
        if packed is None:
            packed = git.read_packed_refs(git_dir)
            if packed is None:
                return None
        found[name] = packed.get(name)
    return found


def _backoff(attempt: int) -> None:
    import random

    time.sleep(random.uniform(0, min(0.5, 0.02 * (attempt + 1))))


def _collect(items: Iterable[Record | Problem], tip: str | None) -> Snapshot:
    """Records by id. An id claimed by two files (an original git-poison file named
    like a current record, or `records/<id>.json` that cannot be read) is nobody's:
    believing either could show, or cure, the wrong one. Each file is reported,
    naming the other, so the verdict is "could not decide" until one is removed."""
    snap = Snapshot(tip=tip)
    claims: dict[str, list[Record]] = {}
    for item in items:
        if isinstance(item, Problem):
            snap.problems.append(item)
        else:
            claims.setdefault(item.id, []).append(item)
    unreadable = {p.path for p in snap.problems}
    for record_id, records in claims.items():
        paths = sorted(r.path for r in records)
        target = record_path(record_id)
        if target not in paths and target in unreadable:
            paths.insert(0, target)
        if len(paths) == 1:
            snap.records[record_id] = records[0]
            continue
        snap.claimed[record_id] = paths
        for r in records:
            others = " and ".join(p for p in paths if p != r.path)
            snap.problems.append(
                Problem(r.path, f"record id {record_id!r} is also claimed by {others}")
            )
    snap.problems.sort(key=lambda p: p.path)
    return snap


def open_store(source: SourceRepo, *, fetch: bool = True) -> PoisonStore:
    return PoisonStore(source, fetch=fetch)


__all__ = ["GitError", "PoisonStore", "Snapshot", "Staleness", "WriteResult", "open_store"]
