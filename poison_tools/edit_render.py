"""What a write (add, cure, sync) did, in words: the same sentences for `git poison`
and the editor's commands. Returns lines; the face prints or sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from typing import TYPE_CHECKING

from poison_tools.render import short

if TYPE_CHECKING:
    from poison_tools.edits import Edit

SYNC = "git poison sync"


def offline_line(done: str, offline: object | None) -> str | None:
    """Said when a write is kept locally because the remote did not answer."""
    if offline is None:
        return None
    return (
        f"{done} locally only: the poisons remote is unreachable ({offline}); "
        f"run `{SYNC}` when it is back"
    )


def implausible_line(cure: str, why: Sequence[str]) -> str:
    """A cure that may not be the fix (plausible.py): recorded all the same, and said so."""
    return f"cure {short(cure)} may not be the fix: {'; '.join(why)}"


def cure_line(edit: Edit, cures: Sequence[str]) -> str:
    """What `git poison cure ID REV...` did to the record."""
    rid = edit.record.id
    if edit.changed and edit.confirmed:
        return (
            f"{rid}: cure {', '.join(short(c) for c in edit.confirmed)} recorded again, signed: "
            "it counts under --verify if the trust policy lets you cure"
        )
    if edit.changed:
        return f"{rid}: cured by {', '.join(short(c) for c in edit.added)}"
    return f"{rid}: already cured by {', '.join(short(c) for c in cures)}"


def poisoned_line(record_id: str, poison: str) -> str:
    return f"recorded poison {record_id} on {short(poison)}"


def no_remote_line(path: str | PathLike[str]) -> str:
    return (
        f"no poisons remote configured; records are kept in {path} "
        "(share them with `git poison init --remote URL`)"
    )


def synced_line(pushed: bool, records: int, project: str, remote: str) -> str:
    state = "pushed local records" if pushed else "up to date"
    return f"{state}: {records} records for {project} at {remote}"


def unreachable_line(offline: object) -> str:
    return f"poisons remote unreachable: {offline}"
