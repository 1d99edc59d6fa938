"""Reading a cache file of ours that someone else may have replaced.

The caches beside the poisons repository (seen ids, signatures, trust verdicts) are
read on every verifying command. A FIFO put in their place would hang a `check`, a
symlink would make it read another file, a huge file would fill memory: only a regular
file of sane size is read, anything else is "no cache".
"""

from __future__ import annotations

import os
import stat

MAX_BYTES = 64 * 1024 * 1024


def read_regular(path: str, limit: int = MAX_BYTES) -> bytes | None:
    """The content of `path` if it is a regular file (not followed through a symlink) of
    at most `limit` bytes; None otherwise, or when it cannot be read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        return data if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)
