"""Patch-ids from git, and what happens when git cannot read a commit's diff.

`git log -p | git patch-id --stable` computes the patch-ids of a whole history in one
walk, but git dies at the first object it cannot read (a blob absent from a partial
clone, or lost from a damaged one), and the last diff it printed is cut short. Taken
at face value, every commit after that one looked like a commit without a change, and
a poison cherry-picked without `-x` was missed for good (issue 11). So:

- `patch_ids()` yields only pairs that are certainly complete (the pair printed last
  before a failure is dropped) and raises `LogFailed` when git log failed.
- `resolve()` sorts the commits a failed walk left, without reading a blob first:
  `git log --raw` lists the blobs each diff needs (trees only), one `git rev-list
  --objects --ignore-missing` says which of them are here; the commits that have all
  theirs get patch-ids from one more `git log -p`, the others come back `Unreadable`,
  with the files they change (a copy by patch-id changes the very same files: the
  `diff --git a/f b/f` line of each file is part of the patch-id) and the blobs they
  miss, so that they can be fetched and retried later.

Lazy fetching is off for every run here: git 2.39 would fetch each missing blob of a
partial clone in a `git fetch` of its own (`GIT_NO_LAZY_FETCH` came in 2.44), minutes
for a few thousand blobs. `protocol.allow=never` makes that fetch fail at once instead;
the blobs a verdict needs are fetched in one batch by `fetch_blobs()`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from typing import NamedTuple

from poison_tools import git
from poison_tools.git import SourceRepo

# Diff settings that a user's config must not change: a patch-id computed under
# diff.renames=copies would not match one computed without it. And no lazy fetch.
DIFF_CONFIG = (
    "-c",
    "log.showSignature=false",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "diff.renames=false",
    "-c",
    "core.quotePath=true",
    "-c",
    "protocol.allow=never",
)
_LOG_P = (
    "log",
    "--no-merges",
    "-p",
    "--format=%H",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-renames",
)
# Commits sorted per round of `resolve`: bounds what is held in memory at once.
RESOLVE_CHUNK = 5_000
# Failed git runs one `resolve` may spend narrowing down which commits fail when the
# blob check did not foresee it (a damaged object, missing trees); past that, the
# commits still in doubt are all called unreadable (and retried later).
PROBES = 32
GITLINK = "160000"  # a submodule's commit: not an object of this repository
NULL_OID = frozenset({"0" * 40, "0" * 64})


class LogFailed(Exception):
    """git log stopped before its end; the message is its stderr."""


class Unreadable(NamedTuple):
    """A commit whose patch-id could not be computed here."""

    sha: str
    paths: str | None  # `signature()` of the files it changes; None: not known either
    missing: tuple[str, ...] | None  # the blobs it lacks; None: not known


def _log_failed(e: git.GitError) -> LogFailed:
    return LogFailed(e.stderr.strip() or f"git log exited with {e.returncode}")


def patch_ids(repo: SourceRepo, stdin: bytes, args: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(commit, patch-id) for each commit with a change that `git log --stdin <args> -p`
    diffs; raises `LogFailed` (after the pairs that are certainly whole) if git log fails,
    `GitError` if git patch-id does."""
    base = ["--git-dir", repo.git_dir, *DIFF_CONFIG]
    log_args = [*base, *_LOG_P, "--stdin", *args]
    held: tuple[str, str] | None = None
    try:
        # A reader that stops early closes this generator: both gits are killed.
        with (
            git.stream(log_args, input=stdin) as log,
            git.stream([*base, "patch-id", "--stable"], stdin=log) as pid,
        ):
            for line in pid:
                parts = line.decode().split()
                if len(parts) != 2:
                    continue
                if held is not None:
                    yield held
                # Held back until git log is known to have finished this diff.
                held = (parts[1], parts[0])
    except git.GitError as e:
        if e.cmd == ("git", *log_args):
            raise _log_failed(e) from None
        raise
    if held is not None:
        yield held


_PATH_LOG = ("log", "--no-merges", "--name-only", "-z", "--format=%x01%H", "--no-renames")
# Bytes git's C-style quoting escapes (core.quotePath=true): a path holding one is
# written quoted in the `diff --git` line that patch-id hashes.
_NEEDS_QUOTE = re.compile(rb'[\x00-\x1f"\\\x7f-\xff]')
_ESCAPES = {
    7: b"\\a",
    8: b"\\b",
    9: b"\\t",
    10: b"\\n",
    11: b"\\v",
    12: b"\\f",
    13: b"\\r",
    34: b'\\"',
    92: b"\\\\",
}


def _quoted(path: bytes) -> bytes:
    """`path` as git writes it in a diff header (quote_c_style), without the spaces that
    patch-id drops."""
    if _NEEDS_QUOTE.search(path):
        path = (
            b'"'
            + b"".join(
                _ESCAPES.get(c) or (b"\\%03o" % c if c < 32 or c >= 127 else bytes((c,)))
                for c in path
            )
            + b'"'
        )
    return path.replace(b" ", b"")


def path_key(paths: Sequence[bytes]) -> str | None:
    """What two commits with one patch-id must share: `git patch-id --stable` hashes each
    file's `diff --git a/<path> b/<path>` line (spaces dropped), so equal patch-ids mean
    equal keys (the converse is not needed: a key only picks whom to diff). None for a
    commit that changes nothing (it has no patch-id)."""
    import hashlib

    if not paths:
        return None
    return hashlib.sha1(b"\0".join(sorted({_quoted(p) for p in paths}))).hexdigest()[:16]


def path_keys(
    repo: SourceRepo, stdin: bytes, args: Sequence[str]
) -> Iterator[tuple[str, str | None]]:
    """(commit, `path_key`) for each non-merge commit `git log --stdin <args>` walks, read
    from trees only (no blob is read: about a tenth of `git log -p`). Raises `LogFailed`
    (after the records that are certainly whole) if git log fails."""
    sha: str | None = None
    paths: list[bytes] = []
    rest = b""
    try:
        with git.stream(
            ["--git-dir", repo.git_dir, *DIFF_CONFIG, *_PATH_LOG, "--stdin", *args], input=stdin
        ) as log:
            while chunk := log.read(1 << 20):
                tokens = (rest + chunk).split(b"\0")
                rest = tokens.pop()
                for token in tokens:
                    if token.startswith(b"\x01") and _is_oid(token[1:]):
                        if sha is not None:
                            yield sha, path_key(paths)
                        sha, paths = token[1:].decode(), []
                    elif token:
                        paths.append(token[1:] if not paths and token.startswith(b"\n") else token)
    except git.GitError as e:  # the last record may be cut short: dropped
        raise _log_failed(e) from None
    if rest.startswith(b"\x01") and _is_oid(rest[1:]):  # a last commit that changes nothing
        if sha is not None:
            yield sha, path_key(paths)
        sha, paths = rest[1:].decode(), []
    elif rest:
        paths.append(rest)
    if sha is not None:
        yield sha, path_key(paths)


_OID = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def _is_oid(token: bytes) -> bool:
    return _OID.fullmatch(token) is not None


def signature(paths: Sequence[bytes]) -> str:
    """One string for a set of changed files (compared, never read back)."""
    import hashlib  # only where copies are incomplete

    return hashlib.sha1(b"\0".join(sorted(set(paths)))).hexdigest()


class _Budget:
    """Failed git runs `resolve` may still spend (a plain class: no dataclass to build
    at import)."""

    def __init__(self) -> None:
        self.left = PROBES


def changed_files(
    repo: SourceRepo, commits: Sequence[str], budget: _Budget | None = None
) -> dict[str, list[tuple[str, str, bytes]] | None]:
    """For each commit: (blob before, blob after, path) of each file its diff changes,
    read from trees only; None for a commit whose trees cannot be read either."""
    budget = budget or _Budget()
    out: dict[str, list[tuple[str, str, bytes]] | None] = {}
    todo = [list(commits)] if commits else []
    while todo:
        part = todo.pop()
        proc = git.run(
            [
                "--git-dir",
                repo.git_dir,
                *DIFF_CONFIG,
                "log",
                "--no-walk=unsorted",
                "--stdin",
                "--no-merges",
                "--raw",
                "--no-abbrev",
                "--no-renames",
                "-z",
                "--format=%x01%H",
            ],
            input="".join(c + "\n" for c in part).encode(),
            check=False,
        )
        if proc.returncode == 0:
            out.update(_parse_raw(proc.stdout))
            for c in part:
                out.setdefault(c, [])  # a merge, or a commit that changes nothing
            continue
        budget.left -= 1
        if len(part) == 1 or budget.left <= 0:
            out.update(dict.fromkeys(part))
        else:
            todo += [part[: len(part) // 2], part[len(part) // 2 :]]
    return out


def _parse_raw(raw: bytes) -> dict[str, list[tuple[str, str, bytes]] | None]:
    out: dict[str, list[tuple[str, str, bytes]] | None] = {}
    for record in raw.split(b"\x01"):
        if not record:
            continue
        head, _, rest = record.partition(b"\0")
        changes: list[tuple[str, str, bytes]] = []
        tokens = rest.lstrip(b"\n").split(b"\0")
        for meta, path in zip(tokens[::2], tokens[1::2], strict=False):
            # ":100644 100644 <old> <new> M": a gitlink's "blob" is another repository's.
            fields = meta.decode().lstrip(":").split()
            if len(fields) < 4:
                continue
            old = "" if fields[0] == GITLINK else fields[2]
            new = "" if fields[1] == GITLINK else fields[3]
            changes.append((old, new, path))
        out[head.decode().strip()] = changes
    return out


def present(repo: SourceRepo, oids: Sequence[str]) -> set[str] | None:
    """Which of these objects are here (and intact), asking no promisor; None if git
    could not tell. `rev-list --missing` never fetches, where `cat-file` would."""
    if not oids:
        return set()
    proc = git.run(
        [
            "--git-dir",
            repo.git_dir,
            "-c",
            "protocol.allow=never",
            "rev-list",
            "--objects",
            "--no-walk",
            "--ignore-missing",
            "--missing=allow-any",
            "--stdin",
        ],
        input="".join(o + "\n" for o in oids).encode(),
        check=False,
    )
    if proc.returncode != 0:
        return None
    return {line.split()[0] for line in proc.stdout.decode().splitlines() if line.strip()}


def resolve(
    repo: SourceRepo, commits: Sequence[str], advance: Callable[[], None] | None = None
) -> Iterator[tuple[str, str] | Unreadable]:
    """The patch-id of each of `commits` that can be read, and an `Unreadable` for each
    that cannot (module docstring). Commits with no change yield nothing."""
    budget = _Budget()
    for i in range(0, len(commits), RESOLVE_CHUNK):
        chunk = commits[i : i + RESOLVE_CHUNK]
        changes = changed_files(repo, chunk, budget)
        blobs = sorted(
            {
                b
                for ch in changes.values()
                if ch
                for c in ch
                for b in c[:2]
                if b and b not in NULL_OID
            }
        )
        here = present(repo, blobs)
        readable: list[str] = []
        paths: dict[str, str] = {}
        for sha in chunk:
            ch = changes.get(sha)
            if ch is None:
                yield Unreadable(sha, None, None)
                continue
            paths[sha] = signature([c[2] for c in ch])
            need = {b for c in ch for b in c[:2] if b and b not in NULL_OID}
            lacking = None if here is None else sorted(need - here)
            if lacking:
                yield Unreadable(sha, paths[sha], tuple(lacking))
            else:
                readable.append(sha)
        for item in _bisect(repo, readable, paths, budget):
            if advance is not None and not isinstance(item, Unreadable):
                advance()
            yield item


def _bisect(
    repo: SourceRepo, commits: list[str], paths: dict[str, str], budget: _Budget
) -> Iterator[tuple[str, str] | Unreadable]:
    """Patch-ids of `commits`, narrowing a failing `git log -p` down to its culprits."""
    todo = [commits] if commits else []
    while todo:
        part = todo.pop()
        last = -1
        position = {c: i for i, c in enumerate(part)}
        try:
            for sha, pid in patch_ids(
                repo, "".join(c + "\n" for c in part).encode(), ["--no-walk=unsorted"]
            ):
                last = max(last, position.get(sha, last))
                yield sha, pid
            continue
        except LogFailed:
            budget.left -= 1
        # Every commit up to the last whole pair was diffed (in the order given).
        rest = part[last + 1 :]
        if len(rest) == 1 or budget.left <= 0:
            yield from (Unreadable(c, paths.get(c), None) for c in rest)
        elif rest:
            todo += [rest[len(rest) // 2 :], rest[: len(rest) // 2]]


def promisor(repo: SourceRepo) -> str | None:
    """The remote a partial clone fetches missing objects from, if this is one."""
    name = repo.config_get("extensions.partialclone")
    if name:
        return name
    for key, values in sorted(repo.config.items()):
        if key.startswith("remote.") and key.endswith(".promisor") and values[-1] == "true":
            return key[len("remote.") : -len(".promisor")]
    return None


def fetch_blobs(repo: SourceRepo, remote: str, oids: Sequence[str], timeout: float) -> str | None:
    """Fetch these blobs from `remote` in one batch, as git's own lazy fetch asks for
    them (but once, not once per blob); None when done, else why not. Raises
    `subprocess.TimeoutExpired` after `timeout` seconds (git and its helpers killed)."""
    try:
        git.run(
            [
                "--git-dir",
                repo.git_dir,
                "-c",
                "fetch.negotiationAlgorithm=noop",
                "fetch",
                remote,
                "--no-tags",
                "--no-write-fetch-head",
                "--recurse-submodules=no",
                "--filter=blob:none",
                "--stdin",
            ],
            input="".join(o + "\n" for o in oids).encode(),
            timeout=timeout,
        )
    except git.GitError as e:
        # git's first complaint names the cause; the last one is often advice.
        lines = [ln.strip() for ln in e.stderr.splitlines() if ln.strip()]
        first = next((ln for ln in lines if ln.startswith("fatal:")), lines[0] if lines else str(e))
        return f"git fetch {remote}: {first.removeprefix('fatal:').strip()}"
    return None


def objects_fingerprint(repo: SourceRepo) -> str:
    """Changes whenever objects arrive (a fetch writes a pack, a restored loose object
    touches its fan-out directory): retrying unreadable commits waits for this."""
    import hashlib

    objects = os.path.join(repo.common_dir, "objects")
    parts = []
    with suppress(OSError):
        with os.scandir(objects) as entries:
            for e in entries:
                if len(e.name) == 2 or e.name in ("pack", "info"):
                    with suppress(OSError):
                        st = e.stat()
                        parts.append(f"{e.name}:{st.st_mtime_ns}")
    with suppress(OSError):
        st = os.stat(os.path.join(objects, "info", "alternates"))
        parts.append(f"alternates:{st.st_mtime_ns}:{st.st_size}")
    return hashlib.sha1(" ".join(sorted(parts)).encode()).hexdigest()
