"""What the editor shows, in words: the diagnostic of a run of poisoned lines, the
quick fix's title, the code lens, and the finished labels of the extension's quick
picks. Plain text (no colour); record text escaped by `term.printable` as everywhere.
The sentences themselves are `render.py`'s, so a poison reads as in `git poison check`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from poison_tools.ancestry_first import FAILED, KNOWN, PENDING, waits_on_copies
from poison_tools.render import (
    UNFIXED,
    cure_line,
    headline,
    ignored_line,
    missing_history_text,
    reverted_line,
    short,
    short_ref,
    title,
)
from poison_tools.term import printable as _p

if TYPE_CHECKING:
    from poison_tools.blame import PoisonedRun
    from poison_tools.check import CheckReport, CureElsewhere, Finding
    from poison_tools.records.record import Record


def _head(record: Record) -> str:
    sev = f" ({record.severity})" if record.severity else ""
    return f"poison {record.id}{sev}: {title(record)}"


def _undecided_reason(f: Finding, copies: str, error: str | None) -> str:
    cures = ", ".join(short(c) for c in f.unknown_copies)
    if f.undecided_commits:
        return (
            "cannot tell whether it is cured on this branch: "
            + missing_history_text(f.undecided_commits)
            + (" (checking for cherry-picked cures…)" if copies == PENDING and cures else "")
        )
    if copies == PENDING and cures:
        return (
            f"no recorded cure ({cures}) is in this branch's history "
            "(checking for cherry-picked cures…)"
        )
    if copies == FAILED and cures:
        return (
            f"no recorded cure ({cures}) is in this branch's history, and whether a "
            f"cherry-picked copy of one is cannot be told: the search for copies failed "
            f"({_p(error or '')})"
        )
    return (
        f"cannot tell whether it is cured on this branch: git cannot read the changes of "
        f"{cures} here (objects missing from this clone), so a copy among them cannot be "
        "ruled out; `git poison check` says how to complete the clone"
    )


def diagnostic_message(run: PoisonedRun, copies: str = KNOWN, error: str | None = None) -> str:
    """`copies`: what the report rests on (`ancestry_first.KNOWN`, `PENDING`, `FAILED`)."""
    f, r = run.finding, run.finding.record
    via = "" if run.evidence.via == "ancestry" else f", a copy of {short(run.evidence.recorded)}"
    if not run.decided:
        return "\n".join(
            [
                _head(r),
                f"from commit {short(run.commit)}{via}; {_undecided_reason(f, copies, error)}",
            ]
        )
    lines = [_head(r), f"from commit {short(run.commit)}{via}, not cured on this branch"]
    lines += [reverted_line(e, by) for e, by in f.reverted]
    lines += [ignored_line(c, p) for c, p in f.ignored]
    lines += [cure_line(c) for c in f.cures_elsewhere]
    if not r.cures:
        lines.append(UNFIXED)
    return "\n".join(lines)


def provisional(run: PoisonedRun, copies: str) -> bool:
    """The warning is what ancestry says while the copy scan runs: a copy of a cure
    could still cure these lines."""
    return copies == PENDING and waits_on_copies(run.finding)


def copies_note(run: PoisonedRun, copies: str, error: str | None) -> str | None:
    """The hover's last word on a warning that waits on the copy scan, if it does
    (`error`: why the scan failed, already escaped for the face's markup)."""
    if provisional(run, copies):
        return (
            "Provisional: the search for cherry-picked cures is still running; "
            "this is what ancestry alone says."
        )
    if copies == FAILED and waits_on_copies(run.finding):
        return f"Undecided: the search for cherry-picked cures failed ({_p(error or '')})."
    return None


def best_ref(cure: CureElsewhere) -> str | None:
    """Where to say the cure comes from: a local branch first, then a remote one."""
    for prefix in ("refs/heads/", "refs/remotes/", ""):
        for ref in cure.refs:
            if ref.startswith(prefix):
                return short_ref(ref)
    return None


def cherry_pick_title(cure: CureElsewhere) -> str | None:
    """The quick fix's title; None for a cure on no ref here (nothing to pick from)."""
    branch = best_ref(cure)
    return None if branch is None else f"Cherry-pick cure {short(cure.cure)} from {branch}"


def code_lens_label(runs: Sequence[PoisonedRun]) -> str | None:
    ids = list(dict.fromkeys(r.finding.record.id for r in runs if r.decided))
    unsure = list(dict.fromkeys(r.finding.record.id for r in runs if not r.decided))
    if not ids and not unsure:
        return None
    n = len(ids)
    return (
        ", ".join(
            part
            for part in (
                f"{n} uncured poison{'s' if n != 1 else ''}" if n else "",
                f"{len(unsure)} undecided" if unsure else "",
            )
            if part
        )
        + " in this file"
    )


def _first_line(text: str) -> str:
    return _p(text.splitlines()[0]) if text else ""


def record_item(record: Record) -> dict[str, Any]:
    """A record in a pick list (which poison does this cure fix?)."""
    poisons = f"poison {', '.join(short(p) for p in record.poisons)}" if record.poisons else ""
    return {
        "label": record.id,
        "description": _first_line(record.comment),
        "detail": " · ".join(p for p in (_p(record.bug or ""), poisons) if p),
        "recordId": record.id,
    }


def cure_item(finding: Finding, cure: CureElsewhere) -> dict[str, Any]:
    """A missing cure in a pick list; `recordId` and `cure` are what cherryPickCure takes."""
    r = finding.record
    where = ", ".join(short_ref(ref) for ref in cure.refs) or "no branch here"
    return {
        "label": short(cure.cure),
        "description": f"cures {r.id} · on {where}",
        "detail": _first_line(r.comment),
        "recordId": r.id,
        "cure": cure.cure,
    }


def finding_item(finding: Finding) -> dict[str, Any]:
    """A poisoned finding in a pick list, with its missing cures and what to say when
    there is none to pick."""
    r = finding.record
    poisons = ", ".join(short(e.commit) for e in finding.poison_evidence) or ", ".join(
        short(p) for p in r.poisons
    )
    facts = [f"poison {poisons}", *(cure_line(c) for c in finding.cures_elsewhere)]
    if not r.cures:
        facts.append(UNFIXED)
    return {
        "label": r.id,
        "description": " · ".join(p for p in (_p(r.bug or ""), _first_line(r.comment)) if p),
        "detail": " · ".join(facts),
        "recordId": r.id,
        "cures": [cure_item(finding, c) for c in finding.cures_elsewhere],
        "noCure": f"{r.id} has no cure on another branch yet; details: git poison show {r.id}",
    }


def no_cures_line(report: CheckReport) -> str:
    """Said when the user asks for a missing cure to cherry-pick and there is none."""
    if not report.poisoned:
        return headline(report)
    return "no recorded cure of these poisons exists on another branch yet"


def check_items(report: CheckReport) -> dict[str, Any]:
    """What the extension shows for "check this branch": finished labels, and the ids to act."""
    return {
        "findings": [finding_item(f) for f in report.poisoned],
        "noCures": no_cures_line(report),
    }


def status_labels(
    branch: str | None, head: str | None, uncured: int, undecided: int
) -> dict[str, str]:
    """The status bar's text (without its icon) and tooltip for one repository."""
    where = _p(branch) if branch else short(head) if head else "HEAD"
    if uncured:
        return {
            "label": f"{uncured} uncured",
            "tooltip": f"git-poison: {uncured} uncured poison{'s' if uncured != 1 else ''} on "
            f"{where}. Click to list them.",
        }
    if undecided:
        return {
            "label": f"{undecided} undecided",
            "tooltip": f"git-poison: {undecided} record{'s' if undecided != 1 else ''} could not "
            f"be decided on {where} (missing history?). Click to check.",
        }
    return {"label": "git-poison", "tooltip": f"git-poison: no uncured poison on {where}"}
