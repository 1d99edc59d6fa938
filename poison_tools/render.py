"""One way of putting a finding into words, shared by the CLI, the hook and the editor,
so that a poison reads the same everywhere. Returns lines; printing is the caller's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from poison_tools.check import CheckReport, CureElsewhere, Evidence, Finding, ReleaseReport
from poison_tools.copies.protocol import CopiesGap
from poison_tools.records.record import Problem, Record
from poison_tools.term import printable as _p

# Record text is untrusted (anyone with push access writes it): every field shown here
# goes through `printable`, so a comment cannot clear the screen, retitle the terminal
# or reverse the reading order. Ids, SHAs and severities are validated when read.

if TYPE_CHECKING:
    from poison_tools.gate import Gate

Styler = Callable[..., str]


def _plain(text: str, *_names: str) -> str:
    return text


# Said of a poison nobody has cured anywhere, by every face.
UNFIXED = "no cure recorded yet (known unfixed bug)"


def short(sha: str) -> str:
    return sha[:12]


def missing_history_text(commits: Sequence[str]) -> str:
    """Why a verdict waits on history this clone lacks, and how to fetch it: said the
    same by `check`, `scope`, the HTML page and the editor."""
    return (
        f"the history needed is missing ({', '.join(short(c) for c in commits)}; shallow or "
        "partial clone): fetch it, e.g. `git fetch --unshallow` or `git fetch origin <sha>`"
    )


def short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def title(record: Record) -> str:
    text = _p(record.comment.splitlines()[0]) if record.comment else "(no comment)"
    return f"{text} [{_p(record.bug)}]" if record.bug else text


def editor(record: Record) -> str:
    return _p(record.editor) if record.editor else "unknown"


def cure_line(cure: CureElsewhere) -> str:
    if cure.refs:
        from poison_tools.release_refs import release_first

        # Release lines and tags first: the three named are the ones people act on.
        where = ", ".join(short_ref(r) for r in release_first(cure.refs)[:3])
        more = f" and {len(cure.refs) - 3} more" if len(cure.refs) > 3 else ""
        return f"fixed on {where}{more} by {short(cure.cure)}, missing here"
    if cure.present is False:
        # Lost from this clone (a gc after a branch was deleted) or never fetched: the
        # verdict stands (poisoned fails closed), but the reason is said.
        return (
            f"cure {short(cure.cure)} is not in this repository (lost from this clone, "
            "or never fetched: git fetch it first), missing here"
        )
    if cure.present:
        return f"cure {short(cure.cure)} is on no branch here, missing here"
    return f"cure {short(cure.cure)} is not in this clone (git fetch it first), missing here"


def ignored_line(cure: str, poison: str) -> str:
    if cure == poison:
        return f"cure {short(cure)} is the poison itself: it cures nothing (fix the record)"
    return (
        f"cure {short(cure)} is an ancestor of poison {short(poison)}: it cures nothing "
        "(fix the record)"
    )


def claimed_copy_text(record_id: str, e: Evidence) -> str:
    """A commit that says it is a copy of a cure but changes no file the cure changes."""
    return (
        f"probable cure {short(e.commit)} ({e.via} names cure {short(e.recorded)}, but they "
        f"change no file in common), confirm? git poison cure {record_id} {short(e.commit)}"
    )


def reverted_line(cure: Evidence, by: str) -> str:
    return f"cure {short(cure.commit)} was reverted here by {short(by)}"


def finding_lines(f: Finding, style: Styler = _plain) -> list[str]:
    r = f.record
    mark = {"poisoned": ("✗", "red"), "undecided": ("?", "yellow"), "cured": ("✓", "green")}
    sym, colour = mark.get(f.status, ("·", "dim"))
    sev = f" ({r.severity})" if r.severity else ""
    lines = [f"{style(sym, colour)} {style(r.id, 'bold')}{sev}  {title(r)}"]
    for e in f.poison_evidence:
        via = "" if e.via == "ancestry" else f" (copy of {short(e.recorded)}, by {e.via})"
        lines.append(
            f"    poison {short(e.commit)}{via}, recorded by {editor(r)}"
            + (f" on {_p(r.created[:10])}" if r.created else "")
        )
    if not f.poison_evidence:
        lines.append(
            f"    poison {', '.join(short(p) for p in r.poisons)}, recorded by {editor(r)}"
        )
    for e in f.cure_evidence:
        via = "" if e.via == "ancestry" else f" (copy of {short(e.recorded)}, by {e.via})"
        lines.append(f"    cured by {short(e.commit)}{via}")
    for e, by in f.reverted:
        lines.append(f"    {reverted_line(e, by)}")
    for void, poison in f.ignored:
        lines.append(f"    {ignored_line(void, poison)}")
    for e in f.probable:
        lines.append(f"    {claimed_copy_text(r.id, e)}")
    if f.undecided_commits:
        lines.append(f"    could not decide: {missing_history_text(f.undecided_commits)}")
    if f.unknown_copies:
        n = len(f.unknown_copies)
        names = ", ".join(short(c) for c in f.unknown_copies[:5]) + (
            f" and {n - 5} more" if n > 5 else ""
        )
        lines.append(
            f"    could not decide: the patch-id of {names} is unknown here; a copy there "
            "would change this verdict"
            if n == 1
            else f"    could not decide: the patch-ids of {names} are unknown here; a copy among "
            "them would change this verdict"
        )
    for cure in f.cures_elsewhere:
        lines.append(f"    {cure_line(cure)}:")
        lines.append(f"      {style(cure.cherry_pick, 'blue')}")
    if f.status == "poisoned" and not r.cures:
        lines.append(f"    {UNFIXED}")
    return lines


def unfixed_line(f: Finding, style: Styler = _plain) -> str:
    """One quiet line for a poison nobody has cured anywhere: nothing to cherry-pick,
    so it is known news rather than a missed backport (the hook's 'known unfixed')."""
    r = f.record
    poisons = ", ".join(short(e.commit) for e in f.poison_evidence) or ", ".join(
        short(p) for p in r.poisons
    )
    return style(
        f"· {r.id}  {title(r)} (known unfixed bug: poison {poisons}, recorded by {editor(r)})",
        "dim",
    )


def problem_line(problem: Problem, style: Styler = _plain) -> str:
    return f"{style('?', 'yellow')} {problem_text(problem)}"


def copies_line(gap: CopiesGap | None, style: Styler = _plain) -> str:
    """The reason and the fix for verdicts left undecided by unknown patch-ids, in one line."""
    remote = gap.remote if gap else "origin"
    why = f"; could not fetch them: {gap.fetch_error}" if gap and gap.fetch_error else ""
    return (
        f"{style('?', 'yellow')} copies incomplete: git cannot read some commits' changes here "
        f"(objects missing from this clone{why}), so their patch-ids are unknown: run "
        f"`git fetch --refetch --no-filter {remote}`, or `git config poison.equivalence trailers` "
        "to match copies without patch-ids"
    )


def problem_lines(problems: list[Problem], style: Styler = _plain) -> list[str]:
    return [problem_line(p, style) for p in problems]


def problem_text(p: Problem) -> str:
    # A record can be read and still be wrong: it may name a blob where a commit belongs.
    what = "record" if p.message.startswith("record ") else "unreadable record"
    return f"{what} {_p(p.path)}: {_p(p.message)}"


def headline(report: CheckReport, style: Styler = _plain) -> str:
    """The verdict in one line: `check`'s first line, the editor's answer to "check this branch"."""
    head = f"{short(report.target)} ({_p(report.rev)})"
    verdict = report.verdict
    if verdict == "poisoned":
        n = len(report.poisoned)
        return style(
            f"poisoned: {head} carries {n} uncured poison{'s' if n != 1 else ''}", "red", "bold"
        )
    if verdict == "undecided":
        return style(f"could not decide: {head}", "yellow", "bold")
    return style(f"healthy: {head} carries no uncured poison", "green")


def check_lines(report: CheckReport, style: Styler = _plain) -> list[str]:
    lines = [headline(report, style)]
    for f in report.poisoned + report.undecided:
        lines += finding_lines(f, style)
    if report.copies == "incomplete":
        lines.append(copies_line(report.gap, style))
    lines += problem_lines(report.problems, style)
    if report.problems:
        lines.append(
            "  records that cannot be believed count as undecided; fix or withdraw them in the "
            "poisons repository"
        )
    return lines


def release_lines(report: ReleaseReport, style: Styler = _plain) -> list[str]:
    lines = [
        style(
            f"release {short(report.current.target)} ({report.current.rev}) since "
            f"{short(report.since)} ({report.since_rev})",
            "bold",
        )
    ]
    if report.descends is not True:
        how = (
            "cannot tell whether it descends from"
            if report.descends is None
            else "does not descend from"
        )
        lines.append(
            style(
                f"note: {report.current.rev} {how} {report.since_rev}: what was cured "
                "there and is not here is listed as a regression",
                "yellow",
            )
        )
    sections = (
        ("regressions (cured before, not now)", report.regressions),
        ("bugfixes in this release", report.fixed),
        ("poisons introduced in this release", report.introduced),
        ("known unfixed bugs", report.current.poisoned),
        ("could not decide", report.current.undecided),
    )
    for name, findings in sections:
        lines.append(f"{name}: {len(findings)}")
        for f in findings:
            lines += ["  " + ln for ln in finding_lines(f, style)]
    if report.current.copies == "incomplete":
        lines.append(copies_line(report.current.gap, style))
    lines += problem_lines(report.current.problems, style)
    lines.append("verdict: " + report.current.verdict)
    return lines


def record_lines(record: Record, style: Styler = _plain) -> list[str]:
    lines = [f"{style(record.id, 'bold')}  {title(record)}"]
    if record.withdrawn:
        w = record.withdrawn
        lines.append(style(f"withdrawn by {_p(w.by)} on {_p(w.at[:10])}: {_p(w.reason)}", "yellow"))
    lines.append(
        f"recorded by {editor(record)}" + (f" on {_p(record.created)}" if record.created else "")
    )
    if record.severity:
        lines.append(f"severity: {record.severity}")
    lines += [f"poison: {p}" for p in record.poisons]
    lines += [f"cure:   {c}" for c in record.cures] or ["cure:   none recorded"]
    if len(record.comment.splitlines()) > 1:
        lines += ["", *(_p(line, multiline=True) for line in record.comment.splitlines())]
    if record.legacy:
        lines.append(f"(original git-poison record {_p(record.path)})")
    return lines


def gate_lines(gate: Gate, style: Styler = _plain) -> list[str]:
    """The --fail-on verdict, after the report it judges."""
    below = ", ".join(f"{f.record.id} ({f.record.severity})" for f in gate.below)
    lines = []
    if gate.below:
        lines.append(
            style(f"below --fail-on {gate.threshold} (listed, not blocking): {below}", "dim")
        )
    if gate.blocking:
        n = len(gate.blocking)
        lines.append(
            style(
                f"blocking: {n} poison{'s' if n != 1 else ''} at or above {gate.threshold}"
                " (or without a severity)",
                "red",
                "bold",
            )
        )
    elif gate.undecided or gate.problems:
        lines.append(
            style(
                f"could not decide whether anything at or above {gate.threshold} is here",
                "yellow",
                "bold",
            )
        )
    else:
        lines.append(style(f"not blocking: nothing at or above {gate.threshold}", "green"))
    return lines
