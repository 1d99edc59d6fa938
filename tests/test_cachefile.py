"""cachefile: caches are read only from regular files, never block on what else may stand
at their path (a FIFO, a device behind a symlink), and are replaced whole, never written
into."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from poison_tools import cachefile
from poison_tools.cachefile import NotRegular
from tests.waiting import within


@pytest.fixture
def cache(tmp_path: Path) -> str:
    return str(tmp_path / "some-cache")


def leftovers(path: str) -> list[str]:
    return [n for n in os.listdir(os.path.dirname(path)) if n.endswith(".tmp")]


# -- reading ------------------------------------------------------------------------


def test_a_regular_file_is_read_whole(cache: str) -> None:
    Path(cache).write_bytes(b"cached bytes")
    assert cachefile.read_regular(cache, limit=100) == b"cached bytes"
    assert cachefile.read_or_none(cache) == b"cached bytes"


def test_a_symlink_to_a_regular_file_is_followed_as_open_does(cache: str, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_bytes(b"linked")
    os.symlink(tmp_path / "elsewhere", cache)
    assert cachefile.read_regular(cache, limit=100) == b"linked"


def test_a_missing_cache_is_file_not_found_or_none(cache: str) -> None:
    with pytest.raises(FileNotFoundError):
        cachefile.open_regular(cache)
    assert cachefile.read_or_none(cache) is None
    assert cachefile.read_json(cache) is None


def test_a_fifo_at_the_cache_path_is_refused_without_blocking(cache: str) -> None:
    os.mkfifo(cache)  # nobody will ever write to it: an open for reading would wait forever
    with pytest.raises(NotRegular, match="a FIFO stands where a file belongs"):
        within(5, lambda: cachefile.open_regular(cache))
    assert within(5, lambda: cachefile.read_or_none(cache)) is None
    assert within(5, lambda: cachefile.read_json(cache, format=1)) is None


def test_a_fifo_is_looked_at_never_opened(cache: str) -> None:
    # Opening it for reading would release a writer waiting on it, who then writes its
    # data into a pipe nobody reads: the reader must not open what is not a file.
    os.mkfifo(cache)
    released = threading.Event()

    def writer() -> None:
        fd = os.open(cache, os.O_WRONLY)  # waits for a reader to open the other end
        released.set()
        os.close(fd)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    time.sleep(0.1)  # the writer is waiting in open()
    try:
        assert within(5, lambda: cachefile.read_or_none(cache)) is None
        assert not released.wait(0.3), "the cache reader opened the FIFO"
    finally:
        fd = os.open(cache, os.O_RDONLY | os.O_NONBLOCK)  # let the writer go
        t.join(5)
        os.close(fd)


def test_a_fifo_swapped_in_after_the_look_is_refused_once_opened(
    cache: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race the second look (fstat) is for: a regular file when stat looks, a FIFO
    # by the time it is opened.
    regular = tmp_path / "regular"
    regular.write_bytes(b"x")
    os.mkfifo(cache)
    real_stat = os.stat

    def stat_before_the_swap(path: str, *, follow_symlinks: bool = True) -> os.stat_result:
        return real_stat(regular if path == cache else path, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(os, "stat", stat_before_the_swap)
    with pytest.raises(NotRegular, match="a FIFO"):
        within(5, lambda: cachefile.open_regular(cache))


def test_a_symlink_to_a_device_is_refused_not_read_forever(cache: str) -> None:
    os.symlink("/dev/zero", cache)  # endless zeros: read whole, memory runs out
    with pytest.raises(NotRegular, match="a character device"):
        within(5, lambda: cachefile.read_regular(cache, limit=1 << 40))
    assert within(5, lambda: cachefile.read_or_none(cache)) is None


def test_a_symlink_to_a_fifo_is_refused(cache: str, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    os.symlink(tmp_path / "fifo", cache)
    with pytest.raises(NotRegular, match="a FIFO"):
        within(5, lambda: cachefile.open_regular(cache))


def test_a_dangling_symlink_reads_as_missing(cache: str, tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone", cache)
    assert cachefile.read_or_none(cache) is None


def test_a_directory_at_the_cache_path_is_refused(cache: str) -> None:
    os.mkdir(cache)
    with pytest.raises(NotRegular, match="a directory stands where a file belongs"):
        cachefile.open_regular(cache)
    assert cachefile.read_or_none(cache) is None


def test_a_file_larger_than_the_limit_is_not_read(cache: str) -> None:
    Path(cache).write_bytes(b"x" * 101)
    with pytest.raises(NotRegular, match="101 bytes, more than a cache of ours holds"):
        cachefile.read_regular(cache, limit=100)
    assert cachefile.read_or_none(cache, limit=100) is None
    assert cachefile.read_or_none(cache, limit=101) == b"x" * 101


def test_open_regular_hands_back_the_descriptor_and_its_stat(cache: str) -> None:
    Path(cache).write_bytes(b"12345")
    fd, st = cachefile.open_regular(cache)
    try:
        assert stat.S_ISREG(st.st_mode) and st.st_size == 5
        assert os.read(fd, 10) == b"12345"
    finally:
        os.close(fd)


# -- read_json: what a cache was written for ---------------------------------------


def test_read_json_gives_a_cache_written_for_the_same_format_and_key(cache: str) -> None:
    Path(cache).write_text(json.dumps({"format": 3, "key": "abc", "data": [1, 2]}))
    assert cachefile.read_json(cache, format=3, key="abc") == {
        "format": 3,
        "key": "abc",
        "data": [1, 2],
    }
    assert cachefile.read_json(cache) is not None  # nothing expected: any object


@pytest.mark.parametrize(
    "expected",
    [{"format": 4}, {"format": 3, "key": "abd"}, {"graph": "abc"}, {"format": "3"}],
    ids=["older-format", "other-key", "key-it-lacks", "same-digit-as-text"],
)
def test_read_json_refuses_a_cache_written_for_something_else(
    cache: str, expected: dict[str, object]
) -> None:
    Path(cache).write_text(json.dumps({"format": 3, "key": "abc"}))
    assert cachefile.read_json(cache, **expected) is None


@pytest.mark.parametrize(
    "content",
    [b"[1, 2, 3]", b'"format"', b"null", b'{"format": 3', b"", b'{"format": "\xff"}'],
    ids=["list", "string", "null", "truncated", "empty", "not-utf8"],
)
def test_read_json_refuses_what_is_not_a_json_object(cache: str, content: bytes) -> None:
    Path(cache).write_bytes(content)
    assert cachefile.read_json(cache) is None


# -- writing ------------------------------------------------------------------------


def test_replace_writes_a_new_file(cache: str) -> None:
    cachefile.replace(cache, b"fresh", prefix="some-cache.")
    assert Path(cache).read_bytes() == b"fresh"
    assert leftovers(cache) == []


def test_replace_puts_a_new_file_where_a_fifo_stood(cache: str) -> None:
    os.mkfifo(cache)  # writing into it would block until somebody reads
    within(5, lambda: cachefile.replace(cache, b"fresh", prefix="c."))
    assert stat.S_ISREG(os.lstat(cache).st_mode)
    assert Path(cache).read_bytes() == b"fresh"


def test_replace_replaces_a_symlink_and_leaves_its_target_alone(cache: str, tmp_path: Path) -> None:
    target = tmp_path / "not-ours"
    target.write_bytes(b"somebody's file")
    os.symlink(target, cache)
    cachefile.replace(cache, b"fresh", prefix="c.")
    assert target.read_bytes() == b"somebody's file"
    assert not os.path.islink(cache) and Path(cache).read_bytes() == b"fresh"


def test_replace_never_writes_into_the_old_file(cache: str) -> None:
    # A reader holding the old file open still reads the old content whole: the new one
    # is another inode, renamed over the name.
    Path(cache).write_bytes(b"old content")
    with open(cache, "rb") as reader:
        cachefile.replace(cache, b"new", prefix="c.")
        assert reader.read() == b"old content"
    assert Path(cache).read_bytes() == b"new"


def test_an_error_while_writing_keeps_the_old_file_and_no_temporary(cache: str) -> None:
    Path(cache).write_bytes(b"old")
    with pytest.raises(RuntimeError), cachefile.replacing(cache, "c.") as f:
        f.write(b"half of the new")
        raise RuntimeError("interrupted")
    assert Path(cache).read_bytes() == b"old"
    assert leftovers(cache) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_replaced_cache_is_readable_as_the_umask_allows(
    cache: str, umask: int, mode: int
) -> None:
    # mkstemp alone would make it 0600: the other users of a shared repository could not
    # read it and would rebuild it on every run.
    old = os.umask(umask)
    try:
        cachefile.replace(cache, b"x", prefix="c.")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(cache).st_mode) == mode


def test_replace_raises_when_a_directory_stands_there_and_cleans_up(cache: str) -> None:
    os.mkdir(cache)
    with pytest.raises(OSError):
        cachefile.replace(cache, b"x", prefix="c.")
    assert os.path.isdir(cache) and leftovers(cache) == []


def test_keep_is_best_effort(cache: str, tmp_path: Path) -> None:
    os.mkdir(cache)
    cachefile.keep(cache, b"x", prefix="c.")  # no error: computed again next time
    assert leftovers(cache) == []
    cachefile.keep(str(tmp_path / "no-such-folder" / "cache"), b"x", prefix="c.")
    cachefile.keep(cache + "-2", b"kept", prefix="c.")
    assert Path(cache + "-2").read_bytes() == b"kept"


def test_what_replace_writes_read_json_reads_back(cache: str) -> None:
    cachefile.replace(cache, json.dumps({"format": 1, "ids": ["a"]}).encode(), prefix="c.")
    assert cachefile.read_json(cache, format=1) == {"format": 1, "ids": ["a"]}
