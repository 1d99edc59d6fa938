"""The edits a person makes to the records: add a poison, cure it, withdraw it, sync.

One implementation for every face (the CLI, the language server), so a record made in
the editor is exactly the record `git poison add` would have made, with the same
refusals. Each edit is a `store.Change`: a function of the newest records, applied
again on every retry of the write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.reach.engine import reachability
from poison_tools.records.record import Record, Withdrawal, new_id, now_iso
from poison_tools.records.store import PoisonStore, Snapshot, WriteResult
from poison_tools.term import printable


@dataclass
class Edit:
    record: Record  # as written (or as found, when nothing changed)
    result: WriteResult
    added: list[str] = field(default_factory=list)  # cures actually added
    same_poison: list[str] = field(default_factory=list)  # other records of the same commit
    confirmed: list[str] = field(default_factory=list)  # recorded cures vouched for again
    implausible: dict[str, list[str]] = field(default_factory=dict)  # cure -> doubts

    @property
    def changed(self) -> bool:
        return self.result.commit is not None


def _editor(author: tuple[str, str]) -> str:
    return f"{author[0]} <{author[1]}>"


def first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def add_poison(
    repo: SourceRepo,
    store: PoisonStore,
    poisons: Sequence[str],
    comment: str,
    *,
    bug: str | None = None,
    severity: str | None = None,
) -> Edit:
    """Record a poison; `poisons` are full SHAs already resolved in `repo`."""
    author = repo.identity()
    stamp = now_iso()
    record = Record(
        id=new_id(),
        poisons=tuple(dict.fromkeys(poisons)),
        comment=comment.strip(),
        bug=bug or None,
        severity=severity,
        editor=_editor(author),
        created=stamp,
        updated=stamp,
    )
    same: list[str] = []

    def change(snap: Snapshot) -> list[Record]:
        nonlocal record
        while snap.taken(record.id):  # fifty random bits: never in practice
            record = replace(record, id=new_id())
        same[:] = [r.id for r in snap.active if set(r.poisons) & set(record.poisons)]
        return [record]

    result = store.write(change, f"poison {record.id}: {first_line(record.comment)}", author)
    return Edit(record, result, same_poison=same)


def refuse_cures_older_than_poison(repo: SourceRepo, record: Record, cures: Sequence[str]) -> None:
    """A cure must be the fixing commit: not the poison, not one of its ancestors."""
    reach = reachability(repo)
    for poison in record.poisons:
        if poison in cures:
            raise FatalError(
                f"{poison[:12]} is the poison itself; a cure must be the fixing commit"
            )
        if not reach.present([poison]):
            continue
        answer = reach.ancestors(poison, cures)
        for c in cures:
            if answer.status(c):
                raise FatalError(
                    f"{c[:12]} is an ancestor of the poison {poison[:12]}: it cannot cure it"
                )


def add_cures(repo: SourceRepo, store: PoisonStore, record_id: str, cures: Sequence[str]) -> Edit:
    """Record fixing commits (full SHAs) of the record `record_id` (or a unique prefix)."""
    author = repo.identity()
    editor = _editor(author)
    snapshot = store.load()
    before = snapshot.find(record_id)
    refuse_cures_older_than_poison(repo, before, cures)
    from poison_tools.plausible import cure_doubts

    doubts = cure_doubts(repo, before, cures)  # warned about, never refused (issue 14)
    # Cures already recorded by a commit the trust policy does not vouch for are
    # recorded again, signed, to vouch for them (issue 14; see trust.py).
    confirm = _unvouched(store, snapshot, before, cures)
    added: list[str] = []
    after = before

    def change(snap: Snapshot) -> list[Record]:
        nonlocal after
        rec = snap.find(before.id)
        if rec.withdrawn:
            raise FatalError(f"record {rec.id} was withdrawn: {printable(rec.withdrawn.reason)}")
        if confirm:
            _next_second(rec.updated)
        after = rec.with_cures(list(cures), editor)
        added[:] = [c for c in after.cures if c not in rec.cures]
        return [after] if added or confirm else []

    # The trailers name each cure in full: a signed commit vouches for exactly these.
    message = f"cure {before.id}: {', '.join(c[:12] for c in cures)}\n\n" + "".join(
        f"Poison-Cure: {c}\n" for c in cures
    )
    result = store.write(change, message, author)
    return Edit(after, result, added=added, confirmed=[] if added else confirm, implausible=doubts)


def _next_second(stamp: str) -> None:
    """Wait until `now_iso()` differs from `stamp` (at most a second): a record written
    again to vouch for it must change, or git makes no commit to sign."""
    import time

    while now_iso() == stamp:
        time.sleep(0.05)


def _unvouched(
    store: PoisonStore, snap: Snapshot, record: Record, cures: Sequence[str]
) -> list[str]:
    """The `cures`, all recorded already, that the trust policy does not vouch for, when
    this write would be signed; [] otherwise (nothing to confirm, or no policy)."""
    if set(cures) - set(record.cures) or not store.signing.enabled:
        return []
    effective = _as_vouched(store, snap, record)
    return [c for c in cures if effective is not None and c not in effective.cures]


def _as_vouched(store: PoisonStore, snap: Snapshot, record: Record) -> Record | None:
    """`record` as the trust policy counts it; None without a (readable) policy."""
    from poison_tools.trust.policy import PolicyError
    from poison_tools.trust.verify import verify_snapshot

    try:
        return verify_snapshot(store, snap).effective.get(record.id, record)
    except PolicyError:
        return None


def _vanished(store: PoisonStore, snap: Snapshot, record_id: str) -> Record | None:
    """The last version of the record `record_id` names if its file vanished (issue 14)."""
    from poison_tools.records import seen_ids

    gone = seen_ids.find(snap.vanished, record_id)
    if gone is None:
        return None
    last = seen_ids.last_version(store.path, gone)
    if last is None:
        raise FatalError(
            f"record {gone.id} vanished and its last version cannot be read; "
            "restore its file from the poisons repository's history by hand"
        )
    return last


def restore(repo: SourceRepo, store: PoisonStore, record_id: str) -> Edit:
    """Write back, as it was, a record whose file was deleted or renamed."""
    author = repo.identity()
    snap = store.load()
    last = _vanished(store, snap, record_id)
    if last is None:
        snap.find(record_id)  # says "no record", or names the files claiming it
        raise FatalError(f"record {record_id} has not vanished: nothing to restore")
    after = last

    def change(snap: Snapshot) -> list[Record]:
        nonlocal after
        if last.id in snap.records:  # somebody restored it meanwhile
            after = snap.records[last.id]
            return []
        return [last]

    result = store.write(change, f"restore {last.id}: {first_line(last.comment)}", author)
    return Edit(after, result)


def withdraw(repo: SourceRepo, store: PoisonStore, record_id: str, reason: str) -> Edit:
    author = repo.identity()
    snap = store.load()
    # A vanished record is withdrawn properly: its last version comes back, withdrawn.
    restored = _vanished(store, snap, record_id)
    target = restored or snap.find(record_id)
    after = target
    # A withdrawal the trust policy does not vouch for is made again, signed (issue 14).
    again = bool(
        target.withdrawn
        and store.signing.enabled
        and (vouched := _as_vouched(store, snap, target)) is not None
        and vouched.withdrawn is None
    )

    def change(snap: Snapshot) -> list[Record]:
        nonlocal after
        rec = snap.records.get(target.id, restored) if restored else snap.find(target.id)
        assert rec is not None
        if rec.withdrawn and not again:
            after = rec
            return []
        if rec.withdrawn:
            _next_second(rec.withdrawn.at)
        stamp = now_iso()
        after = replace(
            rec, withdrawn=Withdrawal(reason.strip(), _editor(author), stamp), updated=stamp
        )
        return [after]

    result = store.write(change, f"withdraw {target.id}: {reason.strip()}", author)
    return Edit(after, result)


def sync(repo: SourceRepo, store: PoisonStore, message: str = "sync") -> WriteResult:
    """Fetch the shared records and push those made offline (a write that changes nothing)."""

    def nothing(_snap: Snapshot) -> list[Record]:
        return []

    return store.write(nothing, message, repo.identity())
