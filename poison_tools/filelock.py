"""An exclusive lock between processes that would otherwise do the same long work twice
(the reachability index build, the first copy scan): the second one waits, then finds
the work done. Never a reason to fail: when no lock can be had, the work goes ahead."""

from __future__ import annotations

import os
import time

from poison_tools.progress import Progress


class FileLock:
    """An exclusive `flock` on `path`, waited for at most `wait` seconds; entered as False
    when it cannot be had (a read-only repository, a file system without locks, a wait
    too long): the caller then goes ahead unlocked. The kernel drops it when its process
    dies, so a crash never leaves it held. The file stays: deleting it would let a third
    process lock a new file while the second still holds the old one."""

    def __init__(self, path: str, progress: Progress, what: str, wait: float) -> None:
        self.path = path
        self.progress = progress
        self.what = what
        self.wait = wait
        self.fd = -1

    def __enter__(self) -> bool:
        import fcntl

        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return False
        deadline = time.monotonic() + self.wait
        waiting = False
        try:
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        return False
                    if not waiting:
                        waiting = True
                        self.progress.start(f"waiting for {self.what}")
                    time.sleep(0.05)
                except OSError:
                    return False
        finally:
            if waiting:
                self.progress.finish()

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock
            self.fd = -1
