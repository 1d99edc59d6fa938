"""The parsed records of one poisons-branch commit, kept beside the poisons repository.

Reading 1,000 record files costs two git processes (`ls-tree`, `cat-file`) and a
JSON parse plus validation of each: ~0.15 s, paid by every `check` and every push.
A commit's name is the hash of its whole tree, so what was parsed from one commit
never changes: the cache holds the outcome (records and problems) of the last
commit read, keyed by the project's branch, that commit's name and the version of
the parsing rules, with the blob each record was parsed from. Record files stay
untrusted: they are validated when first read, as before; the cache only holds what
that validation produced.

It is only a cache, and it is never believed over git (issue 11): its first line
carries a SHA-256 of the rest, checked on every read (0.2 ms for 1,000 records, a
fraction of the git processes it saves). A cache for another commit, branch or
version of the rules, or none at all, means "read the records from git"; a damaged
one (checksum mismatch, malformed, truncated, a FIFO or a device in its place) means
the same plus a notice, returned as data for the caller to show. The checksum
catches damage and careless hand edits, not somebody who can write to `.git` and
recomputes it: they could as well rewrite the records branch. Writing is atomic (a
temporary file renamed into place); a failure to write (a read-only repository) is
ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from poison_tools import cachefile
from poison_tools.records.record import MAX_FILE_BYTES, SCHEMA_VERSION, Problem, Record, Withdrawal

CACHE_FILE = "git-poison-records.json"
# Bump when parsing or validation rules change: older caches are then ignored.
FORMAT = 2
_RULES = f"{FORMAT}/{SCHEMA_VERSION}/{MAX_FILE_BYTES}"
_MAGIC = b"git-poison-records "
# Far more than the cache of any real project (~350 bytes a record): a larger file was
# not written by us, and is not read whole into memory.
MAX_BYTES = 256 << 20

Parsed = list[Record | Problem]


def cache_path(poisons_dir: str) -> str:
    return os.path.join(poisons_dir, CACHE_FILE)


def read(poisons_dir: str, branch: str, commit: str) -> tuple[Parsed | None, str | None]:
    """What parsing `commit` of `branch` gave last time, or None when the cache cannot
    say; and a one-line notice when that is because the cache is damaged."""
    path = cache_path(poisons_dir)
    try:
        data = cachefile.read_regular(path, MAX_BYTES)
    except FileNotFoundError:
        return None, None
    except OSError as e:  # NotRegular, no permission, an I/O error
        return None, _notice(
            path, str(e) if isinstance(e, cachefile.NotRegular) else f"unreadable: {e.strerror}"
        )
    try:
        return _parse(data, branch, commit), None
    except _Foreign:
        return None, None
    except _Damaged as e:
        return None, _notice(path, str(e))
    except Exception:  # anything unexpected in a damaged file: never believed
        return None, _notice(path, "malformed")


def _notice(path: str, why: str) -> str:
    return f"records cache damaged ({why}), records read from git instead: {path}"


class _Foreign(Exception):
    """A sound cache of something else: another commit, branch or version."""


class _Damaged(Exception):
    pass


def _parse(data: bytes, branch: str, commit: str) -> Parsed:
    head, _, body = data.partition(b"\n")
    if not head.startswith(_MAGIC):
        if data.startswith(b'{"rules":"1/'):
            raise _Foreign  # the format before checksums
        raise _Damaged("not a records cache")
    version, _, digest = head[len(_MAGIC) :].partition(b" ")
    if not version.isdigit():
        raise _Damaged("not a records cache")
    if version != str(FORMAT).encode():
        raise _Foreign
    if hashlib.sha256(body).hexdigest().encode() != digest:
        raise _Damaged("checksum mismatch")
    doc = json.loads(body)
    if doc["rules"] != _RULES or doc["branch"] != branch or doc["commit"] != commit:
        raise _Foreign
    return [_item(x) for x in doc["items"]]


def write(
    poisons_dir: str, branch: str, commit: str, items: Parsed, blobs: Mapping[str, str]
) -> None:
    """Remember what parsing `commit` of `branch` gave (best effort, atomic); `blobs`
    maps each record path to the blob it was parsed from."""
    body = json.dumps(
        {
            "rules": _RULES,
            "branch": branch,
            "commit": commit,
            "items": [_dump(x, blobs.get(x.path)) for x in items],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    head = _MAGIC + str(FORMAT).encode() + b" " + hashlib.sha256(body).hexdigest().encode()
    if len(head) + 1 + len(body) > MAX_BYTES:
        return  # read from git every time rather than a cache the reader would refuse
    try:
        cachefile.replace(cache_path(poisons_dir), head + b"\n" + body, ".records-")
    except OSError:
        pass


def _dump(item: Record | Problem, blob: str | None) -> dict[str, Any]:
    if isinstance(item, Problem):
        return {"problem": item.path, "message": item.message, "blob": blob}
    return {**item.to_json(), "path": item.path, "legacy": item.legacy, "blob": blob}


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("not a list of strings")
    return tuple(value)


def _str(value: Any, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _item(x: dict[str, Any]) -> Record | Problem:
    # The file is ours, but a damaged one must not become a wrong record: every field
    # is type-checked, and any surprise sends the caller back to git.
    if "problem" in x:
        return Problem(_str(x["problem"]), _str(x["message"]))
    w = x["withdrawn"]
    withdrawn = None if w is None else Withdrawal(_str(w["reason"]), _str(w["by"]), _str(w["at"]))
    legacy = x["legacy"]
    if not isinstance(legacy, bool):
        raise TypeError("legacy is not a flag")
    return Record(
        id=_str(x["id"]),
        poisons=_strs(x["poisons"]),
        cures=_strs(x["cures"]),
        comment=_str(x["comment"]),
        bug=_str(x["bug"], optional=True),
        editor=_str(x["editor"]),
        created=_str(x["created"]),
        updated=_str(x["updated"]),
        severity=_str(x["severity"], optional=True),
        withdrawn=withdrawn,
        path=_str(x["path"]),
        legacy=legacy,
    )
