"""filelock: between two real processes, the second waits for the first and then goes
ahead; a holder that dies releases the lock; when no lock can be had the work goes ahead
unlocked, never fails."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from poison_tools.filelock import FileLock

# Another process holding the lock: it says "held" once it has it, then keeps it until
# told to go (a line on stdin) or killed.
HOLDER = textwrap.dedent("""
    import sys
    from poison_tools.filelock import FileLock
    from poison_tools.progress import Silent

    with FileLock(sys.argv[1], Silent(), "a test", wait=0) as held:
        print("held" if held else "not held", flush=True)
        sys.stdin.readline()
""")


class Recorded:
    """A Progress that remembers what it was told."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def start(self, label: str, total: int | None = None) -> None:
        self.said.append(f"start {label}")

    def advance(self, n: int = 1) -> None:
        self.said.append("advance")

    def finish(self) -> None:
        self.said.append("finish")


@pytest.fixture
def lock_path(tmp_path: Path) -> str:
    return str(tmp_path / "poison" / "index.lock")


@pytest.fixture
def holder(lock_path: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lock_path],
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "held\n"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def release_after(proc: subprocess.Popen[str], seconds: float) -> None:
    # From a timer thread: the test's own thread is the one waiting for the lock.
    import threading

    def go() -> None:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()

    threading.Timer(seconds, go).start()


def test_the_second_process_waits_for_the_first_then_goes_ahead(
    lock_path: str, holder: subprocess.Popen[str]
) -> None:
    progress = Recorded()
    release_after(holder, 0.5)
    start = time.monotonic()
    with FileLock(lock_path, progress, "another git-poison indexing", wait=30) as held:
        waited = time.monotonic() - start
        assert held
        assert holder.wait(10) == 0  # the first one finished its work, then let go
    assert 0.4 < waited < 10
    assert progress.said == ["start waiting for another git-poison indexing", "finish"]


def test_a_holder_that_dies_releases_the_lock(
    lock_path: str, holder: subprocess.Popen[str]
) -> None:
    import threading

    threading.Timer(0.3, lambda: os.kill(holder.pid, signal.SIGKILL)).start()
    with FileLock(lock_path, Recorded(), "a crashed build", wait=30) as held:
        assert held
        assert holder.wait() == -signal.SIGKILL


def test_a_wait_too_long_goes_ahead_unlocked(lock_path: str, holder: subprocess.Popen[str]) -> None:
    progress = Recorded()
    start = time.monotonic()
    with FileLock(lock_path, progress, "a slow build", wait=0.3) as held:
        assert not held
        assert holder.poll() is None  # still holding it
    assert 0.3 <= time.monotonic() - start < 5
    assert progress.said == ["start waiting for a slow build", "finish"]


def test_a_free_lock_is_taken_at_once_without_a_word(lock_path: str) -> None:
    progress = Recorded()
    with FileLock(lock_path, progress, "nobody", wait=0) as held:
        assert held
    assert progress.said == []


def test_the_lock_is_released_on_leaving_and_the_file_stays(lock_path: str) -> None:
    with FileLock(lock_path, Recorded(), "first", wait=0) as held:
        assert held
    assert os.path.isfile(lock_path)  # deleting it would let a third process lock a new file
    proc = subprocess.run(
        [sys.executable, "-c", HOLDER, lock_path],
        input="go\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.stdout == "held\n", proc.stderr


def test_no_lock_to_be_had_is_no_reason_to_fail(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")  # where the lock's folder would have to be
    with FileLock(str(tmp_path / "a-file" / "x.lock"), Recorded(), "x", wait=5) as held:
        assert not held
