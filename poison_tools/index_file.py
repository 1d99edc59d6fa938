"""The index on disk: one file, written whole and swapped in atomically.

Layout: a magic line, an 8-byte header length, a JSON header (format version, hash
length, the fingerprint of what git counts as history, the tips indexed, and where
each array starts), then the raw arrays, each 8-byte aligned. Readers map the file
and view the arrays in place, so answering costs page faults, not a parse.

A writer writes a temporary file beside the index and `os.replace`s it: a reader
keeps the file it mapped, a concurrent writer's file is equally complete, and a
crash leaves either the old index or the new one, never half of one.
"""

from __future__ import annotations

import json
import mmap
import os
import time
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from poison_tools.index_graph import Graph

MAGIC = b"git-poison-index\n"
VERSION = 3
_ARRAYS = [f.name for f in fields(Graph) if f.name != "hash_len"]


@dataclass
class Stored:
    graph: Graph
    fingerprint: str
    tips: list[str]
    chains_at_build: int
    peeled: dict[str, str] = field(default_factory=dict)  # tag object -> commit ("" if none)


class CorruptIndex(ValueError):
    pass


def read(path: str) -> Stored | None:
    """The index at `path`; None if there is none; CorruptIndex if it is unusable."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return None
    except OSError as e:  # a directory in its place, no permission: rebuild in memory
        raise CorruptIndex(f"cannot read the index: {e.strerror}") from None
    with f:
        try:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            raise CorruptIndex("empty index file") from None
    try:
        return _parse(mm)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
        raise CorruptIndex(str(e)) from None


def _parse(mm: mmap.mmap) -> Stored:
    if mm[: len(MAGIC)] != MAGIC:
        raise CorruptIndex("not a git-poison index")
    at = len(MAGIC)
    hlen = int.from_bytes(mm[at : at + 8], "little")
    header: dict[str, Any] = json.loads(mm[at + 8 : at + 8 + hlen])
    if header.get("version") != VERSION:
        raise CorruptIndex(f"index format {header.get('version')}, expected {VERSION}")
    arrays = {}
    for name in _ARRAYS:
        offset, dtype, count = header["arrays"][name]
        dt = np.dtype(dtype)
        if offset < 0 or offset + dt.itemsize * count > len(mm):
            raise CorruptIndex(f"array {name} runs past the end of the file")
        arrays[name] = np.frombuffer(mm, dtype=dt, count=count, offset=offset)
    graph = Graph(hash_len=int(header["hash_len"]), **arrays)
    n, k = graph.size, graph.chain_len.shape[0]
    if not (graph.by_name.shape[0] == graph.chain.shape[0] == graph.pos.shape[0]
            == graph.name_keys.shape[0] == n):
        raise CorruptIndex("array lengths disagree")
    if graph.down_key.shape[0] != graph.up_key.shape[0]:
        raise CorruptIndex("jump tables disagree")
    if n and (int(graph.chain.max()) >= k or int(graph.chain.min()) < 0):
        raise CorruptIndex("chain ids out of range")
    peeled = header.get("peeled", {})
    if not isinstance(peeled, dict):
        raise CorruptIndex("peeled tags are not a mapping")
    return Stored(graph, str(header["fingerprint"]), list(header["tips"]),
                  int(header["chains_at_build"]), {str(k): str(v) for k, v in peeled.items()})


def write(path: str, stored: Stored) -> None:
    """Write the index to `path` atomically (temporary file + `os.replace`)."""
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
    blob = json.dumps(header).encode()
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    _remove_abandoned(directory)
    import tempfile  # only writers: a warm read stays lean

    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".graph-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC)
            f.write(len(blob).to_bytes(8, "little"))
            f.write(blob)
            for name, arr in arrays.items():
                f.seek(layout[name][0])
                f.write(arr.data)
            f.truncate(max(offset, f.tell()))
        # mkstemp makes the file private; the index is as readable as the repository.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
