"""Core data -> lsprotocol types. Wording comes from `poison_tools.render`, so a
poison reads the same in the editor as in `git poison check`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from git_poison_lsp.repos import FAILED, KNOWN, PENDING, Status
from poison_tools.ancestry_first import waits_on_copies
from poison_tools.blame import PoisonedRun
from poison_tools.check import CureElsewhere, Finding
from poison_tools.render import (
    cure_line,
    finding_lines,
    ignored_line,
    reverted_line,
    short,
    short_ref,
    title,
)
from poison_tools.term import printable

SOURCE = "git-poison"
CHERRY_PICK = "gitPoison.cherryPickCure"
CHECK_BRANCH = "gitPoison.checkBranch"
STATUS = "gitPoison/status"
_URL = re.compile(r"\Ahttps?://[^\s<>()\[\]`]+\Z")
_MD_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+\-.!|<>~&]")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


Units = Callable[[str], int]  # length of a string in the negotiated position encoding


def line_range(lines: Sequence[str], start: int, end: int, units: Units = _utf16_len) -> types.Range:
    """Whole lines start..end (inclusive), ending at the last line's end."""
    last = lines[end].rstrip("\r\n") if end < len(lines) else ""
    return types.Range(types.Position(start, 0), types.Position(end, units(last)))


def cure_data(cure: CureElsewhere) -> dict[str, Any]:
    return {"commit": cure.cure, "refs": list(cure.refs), "cherryPick": cure.cherry_pick}


def provisional(run: PoisonedRun, copies: str) -> bool:
    """The warning is what ancestry says while the copy scan runs: a copy of a cure
    could still cure these lines."""
    return copies == PENDING and waits_on_copies(run.finding)


def _undecided_reason(f: Finding, copies: str, error: str | None) -> str:
    cures = ", ".join(short(c) for c in f.unknown_copies)
    if f.undecided_commits:
        missing = ", ".join(short(c) for c in f.undecided_commits)
        return (f"cannot tell whether it is cured on this branch: the history needed is missing "
                f"({missing}); try `git fetch --unshallow`"
                + (" (checking for cherry-picked cures…)" if copies == PENDING and cures else ""))
    if copies == PENDING and cures:
        return (f"no recorded cure ({cures}) is in this branch's history "
                "(checking for cherry-picked cures…)")
    if copies == FAILED and cures:
        return (f"no recorded cure ({cures}) is in this branch's history, and whether a "
                f"cherry-picked copy of one is cannot be told: the search for copies failed "
                f"({printable(error or '')})")
    return (f"cannot tell whether it is cured on this branch: git cannot read the changes of "
            f"{cures} here (objects missing from this clone), so a copy among them cannot be "
            "ruled out; `git poison check` says how to complete the clone")


def message(run: PoisonedRun, copies: str = KNOWN, error: str | None = None) -> str:
    f, r = run.finding, run.finding.record
    sev = f" ({r.severity})" if r.severity else ""
    via = "" if run.evidence.via == "ancestry" else f", a copy of {short(run.evidence.recorded)}"
    if not run.decided:
        return "\n".join([f"poison {r.id}{sev}: {title(r)}",
                          f"from commit {short(run.commit)}{via}; {_undecided_reason(f, copies, error)}"])
    lines = [f"poison {r.id}{sev}: {title(r)}",
             f"from commit {short(run.commit)}{via}, not cured on this branch"]
    lines += [reverted_line(e, by) for e, by in f.reverted]
    lines += [ignored_line(c, p) for c, p in f.ignored]
    lines += [cure_line(c) for c in f.cures_elsewhere]
    if not r.cures:
        lines.append("no cure recorded yet (known unfixed bug)")
    return "\n".join(lines)


def diagnostic(run: PoisonedRun, lines: Sequence[str], units: Units = _utf16_len,
               copies: str = KNOWN, error: str | None = None) -> types.Diagnostic:
    r = run.finding.record
    return types.Diagnostic(
        range=line_range(lines, run.start, run.end, units),
        message=message(run, copies, error),
        severity=types.DiagnosticSeverity.Warning,
        source=SOURCE,
        code=r.id,
        data={
            "recordId": r.id,
            "poison": run.commit,
            "recordedPoison": run.evidence.recorded,
            "cures": [cure_data(c) for c in run.finding.cures_elsewhere],
            "undecided": not run.decided,
            "provisional": provisional(run, copies),
        },
    )


def escape_markdown(text: str) -> str:
    """Record text is untrusted: shown literally, it can neither format nor link nor
    load an image in the editor's hover."""
    return _MD_SPECIAL.sub(r"\\\g<0>", text)


def _fenced(lines: Sequence[str]) -> list[str]:
    """A code block no line can close early: the fence is longer than any run of
    backticks inside (CommonMark)."""
    longest = max((len(m) for line in lines for m in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *lines, fence]


def hover_markdown(runs: Sequence[PoisonedRun], copies: str = KNOWN, error: str | None = None) -> str:
    parts = []
    for run in runs:
        r = run.finding.record
        head = f"**git-poison {escape_markdown(r.id)}**" + (f" ({r.severity})" if r.severity else "")
        body = [f"{head}: {escape_markdown(title(r))}", ""]
        if r.bug:
            shown = printable(r.bug)  # no control or bidi character, in text or link
            text = escape_markdown(shown)
            bug = f"[{text}]({r.bug})" if _URL.match(r.bug) and shown == r.bug else text
            body += [f"Bug: {bug}", ""]
        body += _fenced(finding_lines(run.finding))
        if provisional(run, copies):
            body += ["", "Provisional: the search for cherry-picked cures is still running; "
                     "this is what ancestry alone says."]
        elif copies == FAILED and waits_on_copies(run.finding):
            body += ["", f"Undecided: the search for cherry-picked cures failed "
                     f"({escape_markdown(printable(error or ''))})."]
        more = [printable(line, multiline=True) for line in r.comment.splitlines()[1:]]
        if any(line.strip() for line in more):
            body += ["", *_fenced(more)]
        parts.append("\n".join(body))
    return "\n\n---\n\n".join(parts)


def best_ref(cure: CureElsewhere) -> str | None:
    """Where to say the cure comes from: a local branch first, then a remote one."""
    for prefix in ("refs/heads/", "refs/remotes/", ""):
        for ref in cure.refs:
            if ref.startswith(prefix):
                return short_ref(ref)
    return None


def code_actions(uri: str, runs: Sequence[PoisonedRun], diagnostics: Sequence[types.Diagnostic]
                 ) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    seen: set[tuple[str, str]] = set()
    for run in runs:
        rid = run.finding.record.id
        diags = [d for d in diagnostics if d.source == SOURCE and d.code == rid]
        for cure in run.finding.cures_elsewhere:
            branch = best_ref(cure)
            if branch is None or (rid, cure.cure) in seen:
                continue  # not in this clone: nothing to pick from
            seen.add((rid, cure.cure))
            label = f"Cherry-pick cure {short(cure.cure)} from {branch}"
            actions.append(types.CodeAction(
                title=label,
                kind=types.CodeActionKind.QuickFix,
                diagnostics=diags or None,
                is_preferred=len(actions) == 0,
                command=types.Command(
                    label, CHERRY_PICK, arguments=[{"uri": uri, "recordId": rid, "cure": cure.cure}]),
            ))
    return actions


def code_lens(uri: str, runs: Sequence[PoisonedRun]) -> list[types.CodeLens]:
    ids = list(dict.fromkeys(r.finding.record.id for r in runs if r.decided))
    unsure = list(dict.fromkeys(r.finding.record.id for r in runs if not r.decided))
    if not ids and not unsure:
        return []
    n = len(ids)
    label = ", ".join(part for part in (
        f"{n} uncured poison{'s' if n != 1 else ''}" if n else "",
        f"{len(unsure)} undecided" if unsure else "") if part) + " in this file"
    return [types.CodeLens(
        range=types.Range(types.Position(0, 0), types.Position(0, 0)),
        command=types.Command(label, CHECK_BRANCH, arguments=[{"uri": uri}]),
    )]


def status_params(status: Status) -> dict[str, Any]:
    return {"root": from_fs_path(status.root), "branch": status.branch, "head": status.head,
            "uncured": status.uncured, "undecided": status.undecided, "copies": status.copies}
