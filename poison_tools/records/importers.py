"""Records that projects already wrote down: `Fixes: <sha> ("subject")` trailers.

Each trailer names the commit a fix repairs (the poison) and is carried by the fix
(the cure). Importing is a function of the records found, like every write
(`store.Change`): a poison already recorded gains the missing cures, a withdrawn one
is left alone, so running it twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from poison_tools.copies import trailers
from poison_tools.copies.patchid import resolve_commits
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.records.record import MAX_COMMITS, MAX_TEXT, Record, new_id, now_iso
from poison_tools.records.store import Snapshot


@dataclass
class FixesPlan:
    cures_of: dict[str, list[str]] = field(default_factory=dict)  # poison -> fixing commits
    subject: dict[str, str] = field(default_factory=dict)  # fixing commit -> its subject
    unresolved: list[tuple[str, str]] = field(default_factory=list)  # (fixing commit, as written)
    scanned: int = 0
    trailers: int = 0


def scan_fixes(repo: SourceRepo, rev_range: str | None) -> FixesPlan:
    rng = rev_range or "HEAD"
    if rng.startswith("-") or "\n" in rng or "\0" in rng:
        raise FatalError(f"not a revision range: {rng!r}")
    proc = repo.git(
        [
            "-c",
            "log.showSignature=false",
            "log",
            "--no-merges",
            "--format=%x01%H%x00%s%x00%B",
            "--end-of-options",
            rng,
            "--",
        ],
        check=False,
    )
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise FatalError(f"cannot read history {rng}: {err[-1] if err else 'git log failed'}")
    plan = FixesPlan()
    named: list[tuple[str, str]] = []
    for chunk in proc.stdout.split(b"\x01")[1:]:
        sha, subject, body = (p.decode(errors="replace") for p in chunk.split(b"\x00", 2))
        plan.scanned += 1
        for fixed in trailers.fixes(body):
            named.append((sha, fixed))
            plan.subject[sha] = subject.strip()
    plan.trailers = len(named)
    full = resolve_commits(repo, {f for _, f in named})
    # Oldest first, so a record's first cure is the original fix and later ones its backports.
    for sha, fixed in reversed(named):
        poison = full.get(fixed)
        if poison is None or poison == sha:
            plan.unresolved.append((sha, fixed))
            continue
        cures = plan.cures_of.setdefault(poison, [])
        if sha not in cures:
            cures.append(sha)
    return plan


@dataclass
class ImportOutcome:
    created: list[str] = field(default_factory=list)
    extended: list[str] = field(default_factory=list)
    withdrawn_skipped: list[str] = field(default_factory=list)


def fixes_change(
    plan: FixesPlan, editor: str, outcome: ImportOutcome
) -> Callable[[Snapshot], list[Record]]:
    def change(snap: Snapshot) -> list[Record]:
        outcome.created.clear()
        outcome.extended.clear()
        outcome.withdrawn_skipped.clear()
        by_poison: dict[str, Record] = {}
        withdrawn: set[str] = set()
        for rec in sorted(snap.records.values(), key=lambda r: (r.created, r.id)):
            for p in rec.poisons:
                if rec.active:
                    by_poison.setdefault(p, rec)
                else:
                    withdrawn.add(p)
        taken = set(snap.records)
        updates: list[Record] = []
        stamp = now_iso()
        for poison, cures in plan.cures_of.items():
            found = by_poison.get(poison)
            if found is not None:
                new = [c for c in cures if c not in found.cures]
                room = MAX_COMMITS - len(found.cures)
                if new and room > 0:
                    updates.append(found.with_cures(new[:room], editor))
                    outcome.extended.append(found.id)
                continue
            if poison in withdrawn:
                outcome.withdrawn_skipped.append(poison)
                continue
            rid = new_id()
            while rid in taken:
                rid = new_id()
            taken.add(rid)
            comment = plan.subject.get(cures[0], "") or "imported from a Fixes: trailer"
            comment = f"{comment}\n\n(imported from the Fixes: trailer of {cures[0][:12]})"[
                :MAX_TEXT
            ]
            updates.append(
                Record(
                    id=rid,
                    poisons=(poison,),
                    cures=tuple(cures[:MAX_COMMITS]),
                    comment=comment,
                    editor=editor,
                    created=stamp,
                    updated=stamp,
                )
            )
            outcome.created.append(rid)
        return updates

    return change
