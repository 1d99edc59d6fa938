"""Opening and replacing cache files: regular files only, replaced whole.

A cache path is only a name in `.git`: a FIFO, a device or a directory may stand
there (a careless `mkfifo`, a restored backup, a symlink to `/dev/zero`). Opening a
FIFO for reading blocks until somebody writes to it, and reading a device may never
end, so readers here look before they open (`stat`), open without blocking
(`O_NONBLOCK`) and look again at what they opened (`fstat`): anything but a regular
file is `NotRegular`, which callers treat as a damaged cache (issue 11). Writers
never write into an existing file: they write a temporary file beside it and rename
it over whatever was there, FIFO included.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, BinaryIO

# O_NONBLOCK does not exist on Windows, where no FIFO can stand in a directory either.
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class NotRegular(OSError):
    """Something other than a regular file stands at a cache path."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str) -> tuple[int, os.stat_result]:
    """A read-only descriptor of the regular file at `path`, and its `fstat`.

    FileNotFoundError when there is none; NotRegular for anything else standing there;
    other OSErrors (no permission) as they come.
    """
    before = os.stat(path)  # follows a symlink, as open does
    if not stat.S_ISREG(before.st_mode):
        raise NotRegular(f"{_kind(before.st_mode)} stands where a file belongs")
    # Swapped for a FIFO between the two calls, the open still returns at once.
    fd = os.open(path, _FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(f"{_kind(st.st_mode)} stands where a file belongs")
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_regular(path: str, limit: int) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them.

    NotRegular (as above) also when the file is larger than `limit`: a cache that big
    is not one we wrote, and reading it whole could exhaust memory.
    """
    fd, st = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        if st.st_size > limit:
            raise NotRegular(f"{st.st_size} bytes, more than a cache of ours holds")
        # What fstat saw, no more: a file growing meanwhile reads as damaged, not forever.
        return f.read(st.st_size)


# What a cache of ours can hold at most: anything larger was not written by us.
MAX_BYTES = 64 * 1024 * 1024


def read_or_none(path: str, limit: int = MAX_BYTES) -> bytes | None:
    """`read_regular`, for caches that are simply rebuilt when unusable: None when the
    file is missing, is not a regular file, is too large or cannot be read."""
    try:
        return read_regular(path, limit)
    except OSError:
        return None


def read_json(path: str, **expected: object) -> dict[str, Any] | None:
    """A JSON-object cache file whose keys hold the `expected` values (its format, what
    it was computed from), or None when it is missing, unusable, not an object or
    written for something else. The rest is still the caller's to check: it is a cache,
    not trusted."""
    raw = read_or_none(path)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or any(data.get(k) != v for k, v in expected.items()):
        return None
    return data


def keep(path: str, data: bytes, prefix: str) -> None:
    """`replace`, best effort: a cache that cannot be written (a read-only repository)
    is only computed again next time."""
    try:
        replace(path, data, prefix)
    except OSError:
        pass


def replace(path: str, data: bytes, prefix: str) -> None:
    """Write `data` to `path` atomically (see `replacing`)."""
    with replacing(path, prefix) as f:
        f.write(data)


@contextmanager
def replacing(path: str, prefix: str) -> Iterator[BinaryIO]:
    """A file to write `path` anew in: a temporary file beside it, renamed over it when
    the block ends without an error (and removed when it does not).

    Whatever stood at `path` (a damaged file, a FIFO) is replaced, never written into;
    OSError when the directory cannot take the file (read-only, a directory at `path`).
    """
    import tempfile  # writers only: a warm read stays lean

    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=prefix, suffix=".tmp")
    try:
        # mkstemp makes 0600 files: in a repository shared by several users, each would
        # find the others' caches unreadable and pay for a rebuild on every run.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    # Linux says it without changing it; elsewhere it is set and put back (os.umask is
    # the only portable reader), which another thread creating a file could observe.
    with suppress(OSError, ValueError):
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
