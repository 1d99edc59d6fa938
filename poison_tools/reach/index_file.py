"""The index on disk: one file, written whole and swapped in atomically (updates in
between go to a small delta beside it: `index_delta`).

Layout: a magic line, an 8-byte header length, a JSON header (format version, hash
length, the fingerprint of what git counts as history, the tips indexed, the file's
size and where each array starts), then the raw arrays, each 8-byte aligned, and an
8-byte trailer: the CRC-32 of everything before it. Readers map the file and view
the arrays in place, so answering costs page faults, not a parse.

A writer writes a temporary file beside the index and `os.replace`s it: a reader
keeps the file it mapped, a concurrent writer's file is equally complete, and a
crash leaves either the old index or the new one, never half of one.

Never believed over git (issue 11): a damaged index (a zeroed name, a truncated
file) would make a poisoned commit read healthy. The checksum is verified by the
first reader of each version of the file, who then writes `graph.verified`: the
file's identity (device, inode, size, modification and change times, checksum).
Later readers that find the same identity skip the 13-17 ms the CRC and paging the
file in cost on a million commits (49 MB), as git skips rehashing files whose stat
data did not change. Anything written to the file through the file system changes its change
time (ctime), which nobody can set back, and so makes the next reader verify it
again. Files changed less than `RACY_NS` ago are not stamped, so a change within
the file system's timestamp granularity is never mistaken for no change.
"""

from __future__ import annotations

import json
import mmap
import os
import time
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from poison_tools import cachefile
from poison_tools.reach.index_graph import Graph

MAGIC = b"git-poison-index\n"
VERSION = 4
TRAILER = 8  # the CRC-32 of the rest of the file, little-endian
VERIFIED = ".verified"  # beside the index: the identity of the file last verified
RACY_NS = 3_000_000_000
_ARRAYS = [f.name for f in fields(Graph) if f.name != "hash_len"]


@dataclass
class Stored:
    graph: Graph
    fingerprint: str
    tips: list[str]
    chains_at_build: int
    peeled: dict[str, str] = field(default_factory=dict)  # tag object -> commit ("" if none)
    # The graph file this was read from or written as ("<size>:<crc32>"; "" when only in
    # memory), and the updates since, as in its delta (`index_delta`).
    file_id: str = ""
    delta: list[bytes] = field(default_factory=list)
    delta_commits: int = 0


class CorruptIndex(ValueError):
    pass


class OtherVersion(CorruptIndex):
    """Written by another version of git-poison: rebuilt, but not damage."""


def read(path: str, notices: list[str] | None = None) -> Stored | None:
    """The index at `path`; None if there is none; CorruptIndex if it is unusable.

    A damaged verification stamp only costs a verification; it is told in `notices`."""
    try:
        fd, st = cachefile.open_regular(path)
    except FileNotFoundError:
        return None
    except cachefile.NotRegular as e:
        raise CorruptIndex(str(e)) from None
    except OSError as e:  # a directory in its place, no permission: rebuild in memory
        raise CorruptIndex(f"cannot read the index: {e.strerror}") from None
    try:
        mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    except ValueError:  # an empty file cannot be mapped
        raise CorruptIndex("empty index file") from None
    except OSError as e:
        raise CorruptIndex(f"cannot map the index: {e.strerror}") from None
    finally:
        os.close(fd)
    try:
        return _parse(mm, path, st, notices)
    except CorruptIndex:
        raise
    except Exception as e:  # whatever a damaged file makes fail: never believed
        raise CorruptIndex(f"malformed: {e.__class__.__name__}") from None


def _parse(mm: mmap.mmap, path: str, st: os.stat_result, notices: list[str] | None) -> Stored:
    if mm[: len(MAGIC)] != MAGIC:
        raise CorruptIndex("not a git-poison index")
    at = len(MAGIC)
    hlen = int.from_bytes(mm[at : at + 8], "little")
    if hlen > len(mm):
        raise CorruptIndex("header runs past the end of the file")
    try:
        header: dict[str, Any] = json.loads(mm[at + 8 : at + 8 + hlen])
    except ValueError:  # not JSON, not UTF-8
        raise CorruptIndex("unreadable header") from None
    if not isinstance(header, dict):
        raise CorruptIndex("header is not a mapping")
    if header.get("version") != VERSION:
        raise OtherVersion(f"index format {header.get('version')}, expected {VERSION}")
    if header.get("size") != len(mm):
        raise CorruptIndex(f"{len(mm)} bytes, {header.get('size')} written")
    _verify(mm, path, st, notices)
    arrays = {}
    for name in _ARRAYS:
        offset, dtype, count = header["arrays"][name]
        dt = np.dtype(dtype)
        if offset < 0 or count < 0 or offset + dt.itemsize * count > len(mm) - TRAILER:
            raise CorruptIndex(f"array {name} runs past the end of the file")
        arrays[name] = np.frombuffer(mm, dtype=dt, count=count, offset=offset)
    graph = Graph(hash_len=int(header["hash_len"]), **arrays)
    n, k = graph.size, graph.chain_len.shape[0]
    if not (
        graph.by_name.shape[0]
        == graph.chain.shape[0]
        == graph.pos.shape[0]
        == graph.name_keys.shape[0]
        == n
    ):
        raise CorruptIndex("array lengths disagree")
    if graph.down_key.shape[0] != graph.up_key.shape[0]:
        raise CorruptIndex("jump tables disagree")
    if n and (int(graph.chain.max()) >= k or int(graph.chain.min()) < 0):
        raise CorruptIndex("chain ids out of range")
    peeled = header.get("peeled", {})
    if not isinstance(peeled, dict):
        raise CorruptIndex("peeled tags are not a mapping")
    crc = int.from_bytes(mm[len(mm) - TRAILER :], "little")
    return Stored(
        graph,
        str(header["fingerprint"]),
        list(header["tips"]),
        int(header["chains_at_build"]),
        {str(k): str(v) for k, v in peeled.items()},
        file_id(len(mm), crc),
    )


def file_id(size: int, crc: int) -> str:
    """What a delta names to say which graph file it extends."""
    return f"{size}:{crc:08x}"


def _verify(mm: mmap.mmap, path: str, st: os.stat_result, notices: list[str] | None) -> None:
    """CorruptIndex unless the checksum holds; skipped for a file verified before."""
    crc = int.from_bytes(mm[len(mm) - TRAILER :], "little")
    identity = (
        f"{VERSION} {st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} "
        f"{st.st_ctime_ns} {crc:08x}\n"
    ).encode()
    try:
        if cachefile.read_regular(path + VERIFIED, 256) == identity:
            return
    except cachefile.NotRegular as e:  # never ours: a FIFO or a device goes, a directory stays
        try:
            os.unlink(path + VERIFIED)
        except OSError:
            pass
        if notices is not None:
            notices.append(
                f"reachability index stamp damaged ({e}), index verified instead: {path + VERIFIED}"
            )
    except OSError:
        pass  # none yet: verify
    import zlib  # only when verifying

    with memoryview(mm) as view, view[: len(mm) - TRAILER] as body:
        if zlib.crc32(body) != crc:
            raise CorruptIndex("checksum mismatch")
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) >= RACY_NS:
        try:
            cachefile.replace(path + VERIFIED, identity, ".graph-")
        except OSError:
            pass  # a read-only repository: verified again next time


def write(path: str, stored: Stored) -> str:
    """Write the index to `path` atomically (temporary file + `os.replace`); returns
    its `file_id`."""
    import zlib  # only writers: a warm read stays lean

    graph = stored.graph
    arrays = {name: np.ascontiguousarray(getattr(graph, name)) for name in _ARRAYS}
    layout: dict[str, list[Any]] = {}
    header = {
        "version": VERSION,
        "hash_len": graph.hash_len,
        "fingerprint": stored.fingerprint,
        "tips": stored.tips,
        "chains_at_build": stored.chains_at_build,
        "peeled": stored.peeled,
        "size": 1 << 62,  # room for the real size's digits in the draft
        "arrays": layout,
    }
    # Offsets depend on the header's own length: lay out once with room to spare.
    for name, arr in arrays.items():
        layout[name] = [0, arr.dtype.str, int(arr.shape[0])]
    draft = json.dumps(header).encode()
    offset = _align(len(MAGIC) + 8 + len(draft) + 64 * len(arrays))
    for name, arr in arrays.items():
        layout[name][0] = offset
        offset = _align(offset + arr.nbytes)
    header["size"] = offset + TRAILER
    blob = json.dumps(header).encode()
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    _remove_abandoned(directory)
    with cachefile.replacing(path, ".graph-") as f:
        head = MAGIC + len(blob).to_bytes(8, "little") + blob
        pieces: list[tuple[int, bytes | memoryview, int]] = [(0, head, len(head))]
        pieces += [(layout[name][0], arr.data, arr.nbytes) for name, arr in arrays.items()]
        crc, at = 0, 0
        # Written in order, the gaps as zeros, so the checksum is taken on the way.
        for start, data, size in pieces:
            gap = b"\0" * (start - at)
            crc = zlib.crc32(data, zlib.crc32(gap, crc))
            f.write(gap)
            f.write(data)
            at = start + size
        gap = b"\0" * (offset - at)
        crc = zlib.crc32(gap, crc)
        f.write(gap)
        f.write(crc.to_bytes(TRAILER, "little"))
    return file_id(offset + TRAILER, crc)


def _remove_abandoned(directory: str) -> None:
    """Temporary files of writers that died more than an hour ago (never a live one's)."""
    cutoff = time.time() - 3600
    for name in os.listdir(directory):
        if name.startswith(".graph-") and name.endswith(".tmp"):
            full = os.path.join(directory, name)
            try:
                if os.stat(full).st_mtime < cutoff:
                    os.unlink(full)
            except OSError:
                pass


def _align(n: int) -> int:
    return (n + 7) & ~7
