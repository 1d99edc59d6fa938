"""What the `gitPoison.*` commands do, on the core, in a worker thread.

Each returns the JSON object the client gets: at least `{"ok": bool, "message": str}`.
Writing records goes through `poison_tools.edits`, the same code as `git poison add` /
`git poison cure`, so a record made in the editor is the record the CLI would have made.
"""

from __future__ import annotations

from typing import Any

from git_poison_lsp.repos import RepoState
from poison_tools import edits
from poison_tools.blame import BlameUnavailable, line_commit
from poison_tools.check import check_head
from poison_tools.cherry_pick import cherry_pick
from poison_tools.edit_render import (
    cure_line,
    implausible_line,
    no_remote_line,
    offline_line,
    poisoned_line,
    synced_line,
    unreachable_line,
)
from poison_tools.editor_render import check_items, record_item
from poison_tools.errors import FatalError
from poison_tools.records.misspelt import project_warning
from poison_tools.records.record import MAX_SHORT, MAX_TEXT, SEVERITIES
from poison_tools.records.store import PoisonStore, Snapshot, WriteResult
from poison_tools.render import headline
from poison_tools.report_meta import check_meta

Result = dict[str, Any]


def fail(message: str, **extra: Any) -> Result:
    return {"ok": False, "message": message, **extra}


def _offline_note(result: WriteResult, done: str) -> str:
    line = offline_line(done, result.offline)
    return "" if line is None else f"; warning: {line}"


def cherry_pick_cure(state: RepoState, record_id: str, cure: str) -> Result:
    record = state.snapshot().find(record_id)
    if cure not in record.cures:
        return fail(f"{cure[:12]} is not a cure of record {record.id}")
    result = cherry_pick(state.repo, cure)
    return {
        "ok": result.ok,
        "message": result.message,
        "status": result.status,
        "commit": result.commit,
        "paths": list(result.paths),
    }


def sync(state: RepoState) -> Result:
    # `git poison init --remote` may have run since the server last read the config.
    state.reload_config()
    store = PoisonStore(state.repo)
    if not store.remote:
        n = len(store.load().records)
        return {"ok": True, "records": n, "message": no_remote_line(store.path)}
    result = edits.sync(state.repo, store)
    n = len(PoisonStore(state.repo, fetch=False).load().records)
    if result.offline is not None:
        return fail(unreachable_line(result.offline), records=n)
    return {
        "ok": True,
        "records": n,
        "message": synced_line(result.pushed, n, store.project, store.remote),
    }


def check_branch(state: RepoState) -> Result:
    store = PoisonStore(state.repo)
    snap = store.load()
    report = check_head(state.repo, snap)
    report.warnings = _warnings(store, snap)  # as `git poison check --json` has them
    # The same report as `git poison check --json`, its metadata included.
    meta = check_meta(store.project, len(report.findings))
    # The verdict in `check`'s words, and the finished labels the extension shows.
    return {
        "ok": True,
        "message": headline(report),
        "report": {**report.to_json(), **meta},
        **check_items(report),
    }


def list_records(state: RepoState) -> Result:
    store = PoisonStore(state.repo)
    snap = store.load()
    records = sorted(snap.active, key=lambda r: (r.created, r.id))
    return {
        "ok": True,
        "message": f"{len(records)} records for {store.project}",
        "items": [record_item(r) for r in records],
        "records": {
            "project": store.project,
            "records": [r.to_json() for r in records],
            "problems": [p.to_json() for p in snap.problems],
            "stale": None if snap.stale is None else snap.stale.describe(),
            "warnings": _warnings(store, snap),
        },
    }


def _warnings(store: PoisonStore, snap: Snapshot) -> list[str]:
    unknown = project_warning(store, snap)
    return [unknown] if unknown else []


def _text_arg(value: Any, name: str, limit: int, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise FatalError(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise FatalError(f"{name} must be a string")
    if len(value) > limit:
        raise FatalError(f"{name} is longer than {limit} characters")
    return value.strip()


def poison_line(
    state: RepoState,
    rel: str,
    text: str,
    line: Any,
    comment: Any,
    bug: Any = None,
    severity: Any = None,
) -> Result:
    if not isinstance(line, int) or isinstance(line, bool):
        return fail("line must be a 0-based line number")
    comment_text = _text_arg(comment, "comment", MAX_TEXT, required=True)
    bug_text = _text_arg(bug, "bug", MAX_SHORT, required=False)
    if severity is not None and severity not in SEVERITIES:
        return fail(f"severity must be one of {', '.join(SEVERITIES)}")
    try:
        poison = line_commit(state.repo, rel, text.encode("utf-8", "surrogatepass"), line)
    except BlameUnavailable as e:
        return fail(f"cannot blame line {line + 1}: {e.reason}")
    if poison is None:
        return fail(f"line {line + 1} is not committed yet; commit it before recording a poison")
    state.reload_config()
    edit = edits.add_poison(
        state.repo,
        PoisonStore(state.repo),
        [poison],
        comment_text or "",
        bug=bug_text,
        severity=severity,
    )
    state.invalidate()
    return {
        "ok": True,
        "id": edit.record.id,
        "poison": poison,
        "message": poisoned_line(edit.record.id, poison) + _offline_note(edit.result, "recorded"),
    }


def record_cure(state: RepoState, record_id: str, revs: Any) -> Result:
    if not isinstance(revs, list) or not revs or not all(isinstance(r, str) for r in revs):
        return fail("revs must be a non-empty list of revisions")
    cures = list(dict.fromkeys(state.repo.resolve_commit(r) for r in revs))
    state.reload_config()
    edit = edits.add_cures(state.repo, PoisonStore(state.repo), record_id, cures)
    state.invalidate()
    # A cure that may not be the fix is recorded all the same, and said so (issue 14).
    doubts = "".join(
        f"; warning: {implausible_line(c, why)}" for c, why in edit.implausible.items()
    )
    return {
        "ok": True,
        "message": cure_line(edit, cures) + _offline_note(edit.result, "cure recorded") + doubts,
    }
