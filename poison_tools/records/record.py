"""Poison records: the data, and reading it from untrusted files.

A record file is written by anyone with push access to the poisons repository, so
every field is checked before it is believed: a file that fails is reported by path
and never silently taken as "no poison". The format is in docs/record-format.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from poison_tools.git import is_sha

SCHEMA_VERSION = 1
RECORDS_DIR = "records"
MAX_FILE_BYTES = 64 * 1024
MAX_TEXT = 4096
MAX_SHORT = 256
MAX_COMMITS = 256
SEVERITIES = ("low", "medium", "high", "critical")

ID_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{3,39}\Z")
# Crockford's base32 without the letters people misread: ids are read aloud and typed.
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id() -> str:
    """Ten characters, fifty random bits: unique without coordination."""
    import secrets  # 10 ms to import: only a new record needs it

    n = secrets.randbits(50)
    return "".join(_ID_ALPHABET[(n >> (5 * i)) & 31] for i in range(10))


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def record_path(record_id: str) -> str:
    return f"{RECORDS_DIR}/{record_id}.json"


@dataclass(frozen=True)
class Withdrawal:
    reason: str
    by: str
    at: str


@dataclass(frozen=True)
class Record:
    id: str
    poisons: tuple[str, ...]
    cures: tuple[str, ...] = ()
    comment: str = ""
    bug: str | None = None
    editor: str = ""
    created: str = ""
    updated: str = ""
    severity: str | None = None
    withdrawn: Withdrawal | None = None
    # Where it was read from, and whether it is in the original git-poison format.
    path: str = field(default="", compare=False)
    legacy: bool = field(default=False, compare=False)

    @property
    def active(self) -> bool:
        return self.withdrawn is None

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape (docs/record-format.md), used on disk and by --json."""
        return {
            "schema": SCHEMA_VERSION,
            "id": self.id,
            "poisons": list(self.poisons),
            "cures": list(self.cures),
            "comment": self.comment,
            "bug": self.bug,
            "severity": self.severity,
            "editor": self.editor,
            "created": self.created,
            "updated": self.updated,
            "withdrawn": None
            if self.withdrawn is None
            else {
                "reason": self.withdrawn.reason,
                "by": self.withdrawn.by,
                "at": self.withdrawn.at,
            },
        }

    def dumps(self) -> bytes:
        return (json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n").encode()

    def with_cures(self, cures: list[str], editor: str) -> Record:
        merged = tuple(dict.fromkeys([*self.cures, *cures]))
        return replace(self, cures=merged, updated=now_iso(), legacy=False)


@dataclass(frozen=True)
class Problem:
    """A record file that could not be believed."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "error": self.message}


class _Invalid(ValueError):
    pass


def _text(data: dict[str, Any], key: str, limit: int, *, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if optional:
            return None
        raise _Invalid(f"missing field {key!r}")
    if not isinstance(value, str):
        raise _Invalid(f"field {key!r} must be a string")
    if len(value) > limit:
        raise _Invalid(f"field {key!r} is longer than {limit} characters")
    return value


def _shas(data: dict[str, Any], key: str, *, required: bool) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _Invalid(f"field {key!r} must be a list of commit SHAs")
    if len(value) > MAX_COMMITS:
        raise _Invalid(f"field {key!r} lists more than {MAX_COMMITS} commits")
    for sha in value:
        if not isinstance(sha, str) or not is_sha(sha):
            raise _Invalid(f"field {key!r} holds something that is not a full commit SHA")
    if required and not value:
        raise _Invalid(f"field {key!r} is empty")
    return tuple(dict.fromkeys(value))


def _brief(value: Any) -> str:
    """A value named in a message: never a long or deeply nested repr of hostile data."""
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, str):
        return repr(value[:40] + "…" if len(value) > 40 else value)
    return f"a JSON {'list' if isinstance(value, list) else type(value).__name__}"


def _parse_current(data: dict[str, Any], path: str) -> Record:
    if data.get("schema") != SCHEMA_VERSION:
        raise _Invalid(
            f"unknown schema {_brief(data.get('schema'))} (this git-poison reads {SCHEMA_VERSION})"
        )
    record_id = _text(data, "id", MAX_SHORT)
    assert record_id is not None
    if not ID_RE.match(record_id):
        raise _Invalid("field 'id' is not a valid record id")
    if path != record_path(record_id):
        raise _Invalid(f"record id {_brief(record_id)} does not match its file name")
    severity = _text(data, "severity", MAX_SHORT, optional=True)
    if severity is not None and severity not in SEVERITIES:
        raise _Invalid(f"field 'severity' must be one of {', '.join(SEVERITIES)}")
    withdrawn = None
    raw_w = data.get("withdrawn")
    if raw_w is not None:
        if not isinstance(raw_w, dict):
            raise _Invalid("field 'withdrawn' must be an object or null")
        withdrawn = Withdrawal(
            reason=_text(raw_w, "reason", MAX_TEXT) or "",
            by=_text(raw_w, "by", MAX_SHORT) or "",
            at=_text(raw_w, "at", MAX_SHORT) or "",
        )
    return Record(
        id=record_id,
        poisons=_shas(data, "poisons", required=True),
        cures=_shas(data, "cures", required=False),
        comment=_text(data, "comment", MAX_TEXT) or "",
        bug=_text(data, "bug", MAX_SHORT, optional=True),
        editor=_text(data, "editor", MAX_SHORT) or "",
        created=_text(data, "created", MAX_SHORT) or "",
        updated=_text(data, "updated", MAX_SHORT) or "",
        severity=severity,
        withdrawn=withdrawn,
        path=path,
    )


def _legacy_id(path: str, poison: str) -> str:
    stem = path.rsplit("/", 1)[-1].removesuffix(".json").lower()
    return stem if ID_RE.match(stem) and not is_sha(stem) else poison[:12]


def _parse_legacy(data: dict[str, Any], path: str) -> Record:
    """The original git-poison format: {"poison", "cure", "comment", "editor"}."""
    poison = data.get("poison")
    if not isinstance(poison, str) or not is_sha(poison):
        raise _Invalid("field 'poison' is not a full commit SHA")
    cure = data.get("cure")
    if cure in (None, ""):
        cures: tuple[str, ...] = ()
    elif isinstance(cure, str) and is_sha(cure):
        cures = (cure,)
    elif isinstance(cure, list) and all(isinstance(c, str) and is_sha(c) for c in cure):
        cures = tuple(cure)[:MAX_COMMITS]
    else:
        raise _Invalid("field 'cure' is not a full commit SHA")
    return Record(
        id=_legacy_id(path, poison),
        poisons=(poison,),
        cures=cures,
        comment=_text(data, "comment", MAX_TEXT, optional=True) or "",
        editor=_text(data, "editor", MAX_SHORT, optional=True) or "",
        path=path,
        legacy=True,
    )


def parse_record(path: str, blob: bytes) -> Record | Problem:
    """Parse one file of the poisons repository; never raises on bad content."""
    if len(blob) > MAX_FILE_BYTES:
        return Problem(path, f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return Problem(path, f"not valid JSON ({e.__class__.__name__})")
    except RecursionError:
        # json's decoder recurses once per bracket: 2 KB of "[" is enough (issue 11).
        return Problem(path, "nested too deeply")
    if not isinstance(data, dict):
        return Problem(path, "not a JSON object")
    try:
        if "schema" in data or "poisons" in data:
            return _parse_current(data, path)
        if "poison" in data:
            return _parse_legacy(data, path)
        return Problem(path, "neither a git-poison record nor an original git-poison record")
    except _Invalid as e:
        return Problem(path, str(e))
    except RecursionError:
        return Problem(path, "nested too deeply")


def is_record_path(path: str) -> bool:
    return path.endswith(".json")


# Names git itself refuses to check out (`..`, `.git`, NTFS/HFS spellings of `.git`):
# such a file is nobody's record, and must not be mistaken for one.
_HOSTILE_PARTS = {"", ".", "..", ".git", "git~1"}


def path_problem(path: str) -> str | None:
    """Why the `*.json` file at `path` of a poisons branch cannot hold a record, if it cannot.

    `path` is git's path decoded with `surrogateescape`: a name that is not UTF-8
    keeps its bytes and is reported, like any other unreadable record."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8"
    for part in path.split("/"):
        if part.casefold().rstrip(". ") in _HOSTILE_PARTS:
            return "file name has a '.', '..' or '.git' component: not a record"
    return None


def display_path(path: str) -> str:
    """`path` as valid text for messages and JSON: undecodable bytes become `\\xNN`."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8 (argv, config)
        return False
    return True


def write_problem(record: Record) -> str | None:
    """Why the reader would refuse `record` once written, or None.

    The writer asks the reader itself (the file is parsed back before anything is
    written), so what `git poison add` writes is always what `check` can read."""
    try:
        blob = record.dumps()
    except UnicodeEncodeError:
        fields = {**record.to_json(), **(record.to_json()["withdrawn"] or {})}
        bad = [k for k, v in fields.items() if isinstance(v, str) and not _utf8(v)]
        return f"field {bad[0] if bad else 'text'!r} is not valid UTF-8"
    back = parse_record(record_path(record.id), blob)
    if isinstance(back, Problem):
        return back.message
    if back != record:
        return "it does not read back as written"
    return None


def merge_records(base: Record | None, ours: Record, theirs: Record) -> Record:
    """Merge two edits of one record made without seeing each other.

    Nothing either side added is lost: poisons and cures are united; for text fields
    the side that changed wins, and if both changed, the later edit; a withdrawal on
    either side stands.
    """

    def pick(attr: str) -> Any:
        o, t = getattr(ours, attr), getattr(theirs, attr)
        b = getattr(base, attr) if base is not None else None
        if o == t:
            return o
        if base is not None and o == b:
            return t
        if base is not None and t == b:
            return o
        return o if ours.updated >= theirs.updated else t

    return replace(
        ours,
        poisons=tuple(dict.fromkeys([*ours.poisons, *theirs.poisons])),
        cures=tuple(dict.fromkeys([*ours.cures, *theirs.cures])),
        comment=pick("comment"),
        bug=pick("bug"),
        severity=pick("severity"),
        editor=pick("editor"),
        withdrawn=ours.withdrawn or theirs.withdrawn,
        created=min(filter(None, [ours.created, theirs.created]), default=""),
        updated=max(ours.updated, theirs.updated),
    )
