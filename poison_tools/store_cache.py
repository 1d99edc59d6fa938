"""The parsed records of one poisons-branch commit, kept beside the poisons repository.

Reading 1,000 record files costs two git processes (`ls-tree`, `cat-file`) and a
JSON parse plus validation of each: ~0.15 s, paid by every `check` and every push.
A commit's name is the hash of its whole tree, so what was parsed from one commit
never changes: the cache holds the outcome (records and problems) of the last
commit read, keyed by that commit's name and by the version of the parsing rules.
Record files stay untrusted: they are validated when first read, as before; the
cache only holds what that validation produced.

It is only a cache. A missing, unreadable, foreign or malformed file, or one for
another commit, means "read the records from git"; writing is atomic (a temporary
file renamed into place), and a failure to write (a read-only repository) is ignored.
"""

from __future__ import annotations

import json
import os
from typing import Any

from poison_tools.record import MAX_FILE_BYTES, SCHEMA_VERSION, Problem, Record, Withdrawal

CACHE_FILE = "git-poison-records.json"
# Bump when parsing or validation rules change: older caches are then ignored.
FORMAT = 1
_RULES = f"{FORMAT}/{SCHEMA_VERSION}/{MAX_FILE_BYTES}"

Parsed = list[Record | Problem]


def cache_path(poisons_dir: str) -> str:
    return os.path.join(poisons_dir, CACHE_FILE)


def read(poisons_dir: str, commit: str) -> Parsed | None:
    """What parsing `commit` gave last time; None when the cache cannot say."""
    try:
        with open(cache_path(poisons_dir), "rb") as f:
            data = json.loads(f.read())
        if not isinstance(data, dict) or data.get("rules") != _RULES:
            return None
        if data.get("commit") != commit:
            return None
        return [_item(x) for x in data["items"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write(poisons_dir: str, commit: str, items: Parsed) -> None:
    """Remember what parsing `commit` gave (best effort, atomic)."""
    blob = json.dumps(
        {"rules": _RULES, "commit": commit, "items": [_dump(x) for x in items]},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    try:
        import tempfile  # only when the cache is rewritten: kept off a warm read

        fd, tmp = tempfile.mkstemp(dir=poisons_dir, prefix=".records-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, cache_path(poisons_dir))
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _dump(item: Record | Problem) -> dict[str, Any]:
    if isinstance(item, Problem):
        return {"problem": item.path, "message": item.message}
    return {**item.to_json(), "path": item.path, "legacy": item.legacy}


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
