"""An SQLite cache file that is never trusted blindly: cheap checks before opening, and
a way to set a damaged one aside.

A cache is only a copy of what git knows, so damage is never worth an error: the file
is moved aside (`<name>.damaged`, for whoever wants to look) and built again. What
counts as damage (issue 11):

- not a regular file: SQLite would open a FIFO or a device and wait on it forever;
- a size that is not a whole number of pages, or fewer pages than the header says:
  a truncated file, where SQLite reads the missing bytes as zeros and answers from
  them without a word (a file cut by one byte lost a revert);
- `SQLITE_CORRUPT` / `SQLITE_NOTADB` (and a schema that is not ours) from any query.

The checks read 100 bytes and one `fstat`; `PRAGMA quick_check` would read the whole
file on every run (tens of milliseconds on a big history), so it is not used: page
damage surfaces as an error from the query that reads the page, and is handled there.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import suppress

_MAGIC = b"SQLite format 3\x00"
# SQLite's error codes (primary, the low byte) that say the file is not a sound
# database; locks, full disks and read-only places are not damage.
_DAMAGE = frozenset(
    {
        1,  # SQLITE_ERROR: a table or column that is not ours ("no such table", ...)
        11,  # SQLITE_CORRUPT
        24,  # SQLITE_FORMAT
        26,  # SQLITE_NOTADB
    }
)


def problem(path: str) -> str | None:
    """Why the file at `path` must not be opened as it is; None when it may be (or
    when there is no file yet)."""
    for name, must_be_db in ((path, True), (path + "-journal", False), (path + "-wal", False)):
        try:
            st = os.stat(name)
        except OSError:
            continue  # absent, or not ours to read: SQLite fails to open it, and we work in memory
        if not stat.S_ISREG(st.st_mode):
            return f"{os.path.basename(name)} is not a regular file"
        if must_be_db:
            bad = _header_problem(name)
            if bad:
                return bad
    return None


def _header_problem(path: str) -> str | None:
    # O_NONBLOCK: if a FIFO replaced the file since the stat, opening does not wait.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if st.st_size == 0:
            return None  # SQLite's own fresh file
        head = os.read(fd, 100)
    finally:
        os.close(fd)
    if len(head) < 100 or not head.startswith(_MAGIC):
        return "not an SQLite database"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return "not an SQLite database: bad page size"
    if st.st_size % page:
        return f"truncated: {st.st_size} bytes, not a whole number of {page}-byte pages"
    # The page count in the header is valid when its version number matches the
    # change counter (SQLite's own rule); fewer pages on disk: cut short.
    # A journal beside it: a write under way (or cut short, which SQLite rolls back),
    # during which the header may run ahead of the file.
    counted = int.from_bytes(head[28:32], "big")
    journal = os.path.exists(path + "-journal") or os.path.exists(path + "-wal")
    if counted and not journal and head[24:28] == head[92:96] and st.st_size // page < counted:
        return f"truncated: {st.st_size // page} of its {counted} pages"
    return None


def is_damage(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _DAMAGE


def set_aside(path: str) -> str | None:
    """Move the file (and its journals) out of the way; the new name, or None if it
    could not be moved (then the caller works in memory)."""
    aside = path + ".damaged"
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        aside = path
    except OSError:
        return None
    for extra in ("-journal", "-wal", "-shm"):
        with suppress(OSError):
            os.replace(path + extra, aside + extra)
    return aside
