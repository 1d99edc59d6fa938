"""Records to and from OSV (https://ossf.github.io/osv-schema/, schema 1.7).

A record becomes one OSV entry with one `GIT` range: an `introduced` event per
poison, a `fixed` event per cure, which is exactly OSV's reading of a commit graph
(affected: reachable from an introduced commit and from no fixed one). Affected tags,
as `scope` computes them (copies included), go to `affected[].versions`. The record's
own fields travel in `database_specific.git_poison`, so an export imported elsewhere
gives back the same record. OSV files from elsewhere are untrusted input: every
field is checked, and events whose commits are not in this clone are counted, not
guessed at. The mapping is documented in docs/osv.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from poison_tools.copies.patchid import resolve_commits
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo, is_sha
from poison_tools.records.record import (
    ID_RE,
    MAX_COMMITS,
    MAX_SHORT,
    MAX_TEXT,
    SEVERITIES,
    Record,
    now_iso,
)
from poison_tools.records.store import Snapshot

SCHEMA_VERSION = "1.7.0"
ID_PREFIX = "GIT-POISON-"
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ENTRIES = 100_000
_ALIAS = re.compile(r"\A(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|[A-Z]+-\d[\w.-]*)\Z")


# -- export --------------------------------------------------------------------------


def _rfc3339(stamp: str) -> str:
    return stamp or now_iso()


def to_osv(record: Record, repo_url: str, versions: Iterable[str] | None = None) -> dict[str, Any]:
    lines = record.comment.strip().splitlines()
    events: list[dict[str, str]] = [{"introduced": p} for p in record.poisons]
    events += [{"fixed": c} for c in record.cures]
    affected: dict[str, Any] = {"ranges": [{"type": "GIT", "repo": repo_url, "events": events}]}
    if versions is not None:
        affected["versions"] = sorted(versions)
    entry: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": ID_PREFIX + record.id,
        "modified": _rfc3339(record.updated or record.created),
    }
    if record.created:
        entry["published"] = record.created
    if record.bug and _ALIAS.match(record.bug):
        entry["aliases"] = [record.bug]
    entry["summary"] = lines[0][:120] if lines else ""
    entry["details"] = record.comment
    entry["affected"] = [affected]
    entry["database_specific"] = {
        "git_poison": {
            "id": record.id,
            "bug": record.bug,
            "severity": record.severity,
            "editor": record.editor,
        }
    }
    return entry


# -- import --------------------------------------------------------------------------


@dataclass
class OsvPlan:
    records: list[Record] = field(default_factory=list)
    entries: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> how many

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


def read_entries(path: str) -> list[tuple[str, Any]]:
    """(source, parsed JSON) for a file, or for every *.json file under a directory."""
    if os.path.isdir(path):
        files = sorted(
            os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".json")
        )
        if not files:
            raise FatalError(f"no .json files under {path}")
    elif os.path.exists(path):
        files = [path]
    else:
        raise FatalError(f"no such file or directory: {path}")
    out = []
    for f in files:
        try:
            if os.path.getsize(f) > MAX_FILE_BYTES:
                raise FatalError(f"{f}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
            with open(f, "rb") as fh:
                data = json.loads(fh.read().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise FatalError(f"{f}: not valid JSON ({e.__class__.__name__})") from None
        except RecursionError:
            raise FatalError(f"{f}: nested too deeply") from None
        except OSError as e:
            raise FatalError(f"cannot read {f}: {e.strerror}") from None
        for item in data if isinstance(data, list) else [data]:
            out.append((f, item))
            if len(out) > MAX_ENTRIES:
                raise FatalError(f"more than {MAX_ENTRIES} OSV entries")
    return out


def _str(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _record_id(entry: dict[str, Any], osv_id: str) -> str:
    own = entry.get("database_specific")
    if isinstance(own, dict) and isinstance(own.get("git_poison"), dict):
        rid = own["git_poison"].get("id")
        if isinstance(rid, str) and ID_RE.match(rid):
            return rid
    rid = osv_id.lower()
    if ID_RE.match(rid):
        return rid
    # Deterministic, so that importing the same file twice finds the same record.
    return "osv-" + hashlib.sha256(osv_id.encode()).hexdigest()[:12]


def _events(entry: dict[str, Any], plan: OsvPlan) -> tuple[list[str], list[str]]:
    introduced: list[str] = []
    fixed: list[str] = []
    affected = entry.get("affected")
    for aff in affected if isinstance(affected, list) else []:
        ranges = aff.get("ranges") if isinstance(aff, dict) else None
        for rng in ranges if isinstance(ranges, list) else []:
            if not isinstance(rng, dict) or rng.get("type") != "GIT":
                continue
            events = rng.get("events")
            for ev in events if isinstance(events, list) else []:
                if not isinstance(ev, dict) or len(ev) != 1:
                    plan.skip("malformed event")
                    continue
                ((kind, value),) = ev.items()
                if kind == "introduced" and value == "0":
                    plan.skip('introduced at the beginning of history ("0")')
                elif kind not in ("introduced", "fixed"):
                    plan.skip(f"{kind} events (not a commit that poisons or cures)")
                elif not isinstance(value, str) or not is_sha(value.lower()):
                    plan.skip("event is not a full commit SHA")
                else:
                    (introduced if kind == "introduced" else fixed).append(value.lower())
    return list(dict.fromkeys(introduced)), list(dict.fromkeys(fixed))


def plan_import(repo: SourceRepo, items: list[tuple[str, Any]], editor: str) -> OsvPlan:
    plan = OsvPlan()
    parsed = []
    for _source, entry in items:
        plan.entries += 1
        osv_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(osv_id, str) or not osv_id.strip() or len(osv_id) > MAX_SHORT:
            plan.skip("not an OSV entry (no id)")
            continue
        if entry.get("withdrawn"):
            plan.skip("withdrawn in OSV")
            continue
        introduced, fixed = _events(entry, plan)
        parsed.append((osv_id, entry, introduced, fixed))
    here = resolve_commits(repo, {c for _, _, i, f in parsed for c in (*i, *f)})
    for osv_id, entry, introduced, fixed in parsed:
        missing = [c for c in (*introduced, *fixed) if here.get(c) != c]
        if missing:
            plan.skip("event commits not in this clone", len(missing))
        poisons = tuple(c for c in introduced if here.get(c) == c)[:MAX_COMMITS]
        cures = tuple(c for c in fixed if here.get(c) == c and c not in poisons)[:MAX_COMMITS]
        if not poisons:
            plan.skip("entries with no introducing commit in this clone")
            continue
        plan.records.append(_record(entry, osv_id, poisons, cures, editor))
    return plan


def _record(
    entry: dict[str, Any],
    osv_id: str,
    poisons: tuple[str, ...],
    cures: tuple[str, ...],
    editor: str,
) -> Record:
    own = entry.get("database_specific")
    own = own.get("git_poison") if isinstance(own, dict) else None
    own = own if isinstance(own, dict) else {}
    summary = _str(entry.get("summary"), MAX_SHORT) or ""
    details = _str(entry.get("details"), MAX_TEXT) or ""
    comment = (
        details
        if details.startswith(summary) and details
        else "\n\n".join(p for p in (summary, details) if p)
    )
    bug = _str(own.get("bug"), MAX_SHORT) if own else None
    if not own:
        bug = osv_id.strip()
    severity = own.get("severity") if own.get("severity") in SEVERITIES else None
    stamp = now_iso()
    published = _str(entry.get("published"), MAX_SHORT) or stamp
    return Record(
        id=_record_id(entry, osv_id),
        poisons=poisons,
        cures=cures,
        comment=(comment or osv_id)[:MAX_TEXT],
        bug=bug,
        severity=severity,
        editor=editor,
        created=published,
        updated=stamp,
    )


def osv_change(plan: OsvPlan, outcome: dict[str, list[str]]) -> Callable[[Snapshot], list[Record]]:
    """Add each planned record, or the commits an existing one lacks; never remove any."""

    def change(snap: Snapshot) -> list[Record]:
        for key in ("created", "extended", "unchanged", "withdrawn"):
            outcome[key] = []
        updates = []
        for rec in plan.records:
            old = snap.records.get(rec.id)
            if old is None:
                updates.append(rec)
                outcome["created"].append(rec.id)
            elif old.withdrawn:
                outcome["withdrawn"].append(rec.id)
            else:
                poisons = tuple(dict.fromkeys([*old.poisons, *rec.poisons]))[:MAX_COMMITS]
                cures = tuple(dict.fromkeys([*old.cures, *rec.cures]))[:MAX_COMMITS]
                if poisons == old.poisons and cures == old.cures:
                    outcome["unchanged"].append(rec.id)
                    continue
                updates.append(
                    replace(old, poisons=poisons, cures=cures, updated=now_iso(), legacy=False)
                )
                outcome["extended"].append(rec.id)
        return updates

    return change
