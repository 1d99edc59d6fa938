"""Core data -> lsprotocol types. Wording comes from `poison_tools.editor_render` and
`render`, so a poison reads the same in the editor as in `git poison check`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from git_poison_lsp.repos import Status
from poison_tools.ancestry_first import KNOWN
from poison_tools.blame import PoisonedRun
from poison_tools.check import CureElsewhere
from poison_tools.editor_render import (
    cherry_pick_title,
    code_lens_label,
    copies_note,
    diagnostic_message,
    provisional,
    status_labels,
)
from poison_tools.render import finding_lines, title
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


def line_range(
    lines: Sequence[str], start: int, end: int, units: Units = _utf16_len
) -> types.Range:
    """Whole lines start..end (inclusive), ending at the last line's end."""
    last = lines[end].rstrip("\r\n") if end < len(lines) else ""
    return types.Range(types.Position(start, 0), types.Position(end, units(last)))


def cure_data(cure: CureElsewhere) -> dict[str, Any]:
    return {"commit": cure.cure, "refs": list(cure.refs), "cherryPick": cure.cherry_pick}


def diagnostic(
    run: PoisonedRun,
    lines: Sequence[str],
    units: Units = _utf16_len,
    copies: str = KNOWN,
    error: str | None = None,
) -> types.Diagnostic:
    r = run.finding.record
    return types.Diagnostic(
        range=line_range(lines, run.start, run.end, units),
        message=diagnostic_message(run, copies, error),
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


def hover_markdown(
    runs: Sequence[PoisonedRun], copies: str = KNOWN, error: str | None = None
) -> str:
    parts = []
    for run in runs:
        r = run.finding.record
        head = f"**git-poison {escape_markdown(r.id)}**" + (
            f" ({r.severity})" if r.severity else ""
        )
        body = [f"{head}: {escape_markdown(title(r))}", ""]
        if r.bug:
            shown = printable(r.bug)  # no control or bidi character, in text or link
            text = escape_markdown(shown)
            bug = f"[{text}]({r.bug})" if _URL.match(r.bug) and shown == r.bug else text
            body += [f"Bug: {bug}", ""]
        body += _fenced(finding_lines(run.finding))
        # The error is git's message: no markup of it may reach the hover.
        note = copies_note(run, copies, escape_markdown(error or ""))
        if note is not None:
            body += ["", note]
        more = [printable(line, multiline=True) for line in r.comment.splitlines()[1:]]
        if any(line.strip() for line in more):
            body += ["", *_fenced(more)]
        parts.append("\n".join(body))
    return "\n\n---\n\n".join(parts)


def code_actions(
    uri: str, runs: Sequence[PoisonedRun], diagnostics: Sequence[types.Diagnostic]
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    seen: set[tuple[str, str]] = set()
    for run in runs:
        rid = run.finding.record.id
        diags = [d for d in diagnostics if d.source == SOURCE and d.code == rid]
        for cure in run.finding.cures_elsewhere:
            label = cherry_pick_title(cure)
            if label is None or (rid, cure.cure) in seen:
                continue  # not in this clone: nothing to pick from
            seen.add((rid, cure.cure))
            actions.append(
                types.CodeAction(
                    title=label,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=diags or None,
                    is_preferred=len(actions) == 0,
                    command=types.Command(
                        label,
                        CHERRY_PICK,
                        arguments=[{"uri": uri, "recordId": rid, "cure": cure.cure}],
                    ),
                )
            )
    return actions


def code_lens(uri: str, runs: Sequence[PoisonedRun]) -> list[types.CodeLens]:
    label = code_lens_label(runs)
    if label is None:
        return []
    return [
        types.CodeLens(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            command=types.Command(label, CHECK_BRANCH, arguments=[{"uri": uri}]),
        )
    ]


def status_params(status: Status) -> dict[str, Any]:
    return {
        "root": from_fs_path(status.root),
        "branch": status.branch,
        "head": status.head,
        "uncured": status.uncured,
        "undecided": status.undecided,
        "copies": status.copies,
        **status_labels(status.branch, status.head, status.uncured, status.undecided),
    }
