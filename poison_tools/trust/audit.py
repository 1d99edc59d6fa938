"""The audit trail of one record: every commit that changed its file, who made it,
whether it was signed and by whom, and which fields it changed (`git poison log ID`).

One `git log` of the record's file(s) on the project's branch, one `git cat-file
--batch` for each version and the version before it, and one signature check for the
commits not checked before (`signatures.py`). Author names, dates and messages are what
the commits say: only a good signature by a principal of the trust policy says who
really made a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from poison_tools.errors import FatalError
from poison_tools.git import is_sha
from poison_tools.records.record import Problem, Record, parse_record, record_path
from poison_tools.trust.signatures import Signature, verify

if TYPE_CHECKING:
    from poison_tools.records.store import PoisonStore, Snapshot
    from poison_tools.trust.policy import Policy

CREATED, EDITED, DELETED, UNREADABLE = "created", "edited", "deleted", "unreadable"


@dataclass
class Change:
    commit: str
    parents: tuple[str, ...]
    author: str  # "Name <email>" as the commit says
    date: str  # the author date, ISO 8601, as the commit says
    subject: str
    path: str
    action: str  # created, edited, deleted, unreadable
    # field -> (before, after), JSON values; `updated` included
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    signature: Signature = field(default_factory=lambda: Signature("N"))
    problem: str | None = None  # why this version cannot be read

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "parents": list(self.parents),
            "author": self.author,
            "date": self.date,
            "subject": self.subject,
            "path": self.path,
            "action": self.action,
            "signature": self.signature.to_json(),
            "fields": {k: {"from": a, "to": b} for k, (a, b) in self.fields.items()},
            "problem": self.problem,
        }


@dataclass
class AuditLog:
    id: str
    paths: list[str]
    changes: list[Change]  # oldest first
    policy: Policy | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "paths": self.paths,
            "policy": None if self.policy is None else self.policy.commit,
            "changes": [c.to_json() for c in self.changes],
        }


def record_paths(snap: Snapshot, record_id: str) -> tuple[str, list[str]]:
    """The full id `record_id` (or a unique prefix) names, and every file that holds or
    held it: a record, an id claimed by two files, or a record whose file vanished."""
    held: dict[str, list[str]] = {i: [r.path] for i, r in snap.records.items()}
    for i, ps in snap.claimed.items():
        held.setdefault(i, []).extend(ps)
    for v in snap.vanished:
        held.setdefault(v.id, []).append(v.path)
    prefix = record_id.strip().lower()
    ids = [prefix] if prefix in held else sorted(i for i in held if prefix and i.startswith(prefix))
    if len(ids) != 1:
        snap.find(record_id)  # says "ambiguous" or "no record", as other commands do
        raise FatalError(f"no record {prefix!r} (see `git poison list`)")
    rid = ids[0]
    return rid, list(dict.fromkeys([record_path(rid), *(p for p in held[rid] if p)]))


def audit(store: PoisonStore, snap: Snapshot, record_id: str, policy: Policy | None) -> AuditLog:
    rid, paths = record_paths(snap, record_id)
    tips = [t for t in store._tips() if t]
    if not tips:
        return AuditLog(rid, paths, [], policy)
    usable = [p for p in paths if "\n" not in p]  # cat-file --batch reads one name a line
    out = store._git(
        [
            "-c",
            "log.showSignature=false",
            "log",
            "--topo-order",
            "-z",
            "--format=%H%x00%P%x00%an <%ae>%x00%aI%x00%s",
            *tips,
            "--",
            *usable,
        ]
    ).stdout.decode("utf-8", "replace")
    fields = out.split("\0")
    rows: list[Change] = []
    for i in range(0, len(fields) - 4, 5):
        sha, parents, author, date, subject = fields[i : i + 5]
        if not is_sha(sha.lstrip("\n")):
            raise FatalError("git log of the poisons repository gave output that cannot be read")
        rows.append(
            Change(
                sha.lstrip("\n"), tuple(parents.split()), author, date, subject, usable[0], EDITED
            )
        )
    rows.reverse()  # oldest first: the story of the record
    wanted = [f"{c}:{p}" for r in rows for c in (r.commit, *r.parents[:1]) for p in usable]
    blobs = _versions(store, wanted)
    sigs = verify(store, [r.commit for r in rows], policy.allowed_signers if policy else "")
    for row in rows:
        after, path = _version(blobs, row.commit, usable)
        before, _ = _version(blobs, row.parents[0], usable) if row.parents else (None, "")
        row.path = path or row.path
        row.signature = sigs.get(row.commit, Signature("E"))
        _compare(row, before, after)
    changes = rows
    return AuditLog(rid, paths, changes, policy)


def _versions(store: PoisonStore, names: list[str]) -> dict[str, bytes | None]:
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    out = store._git(
        ["cat-file", "--batch"], input="".join(n + "\n" for n in wanted).encode()
    ).stdout
    found: dict[str, bytes | None] = {}
    pos = 0
    for name in wanted:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        pos = nl + 1
        if len(header) == 3 and header[1] in (b"blob", b"tree", b"commit", b"tag"):
            size = int(header[2])
            found[name] = out[pos : pos + size] if header[1] == b"blob" else None
            pos += size + 1
        else:
            found[name] = None  # "<name> missing": not in that commit
    return found


def _version(
    blobs: dict[str, bytes | None], commit: str, paths: list[str]
) -> tuple[Record | Problem | None, str]:
    for p in paths:
        blob = blobs.get(f"{commit}:{p}")
        if blob is not None:
            return parse_record(p, blob), p
    return None, ""


def _compare(
    change: Change, before: Record | Problem | None, after: Record | Problem | None
) -> None:
    """Fill in what `change` did to the record: its action and the fields it changed."""
    if isinstance(after, Problem):
        change.action, change.problem = UNREADABLE, after.message
        return
    old = before.to_json() if isinstance(before, Record) else {}
    new = after.to_json() if after is not None else {}
    if after is None:
        change.action = DELETED
    elif not isinstance(before, Record):
        change.action = CREATED
    for key in dict.fromkeys([*new, *old]):
        if key == "schema":
            continue
        a, b = old.get(key), new.get(key)
        if a != b:
            change.fields[key] = (a, b)
