"""The pre-push hook's report in words: what `hook.check_push` found, one line per
pushed branch and its findings (worded by `render.py`), then whether the push goes on.
Returns lines; the hook prints them on stderr.
"""

from __future__ import annotations

from poison_tools.prepush import STALE, UNDECIDED_RECORDS, UNREADABLE, Policy, PushReport
from poison_tools.render import (
    Styler,
    copies_line,
    finding_lines,
    problem_lines,
    short,
    unfixed_line,
)

BYPASS = "`git push --no-verify` (or SKIP=git-poison with pre-commit)"


def _why_protected(policy: Policy) -> str:
    if policy.strict:
        return "--strict"
    return "poison.protect = " + " ".join(policy.protect)


def report_lines(push: PushReport, policy: Policy, style: Styler) -> list[str]:
    name = style("git-poison", "bold")
    lines: list[str] = []
    if push.stale is not None:
        lines.append(f"{name}: {style('warning:', 'yellow')} {push.stale.describe()}")
    lines += [f"{name}: {style('warning:', 'yellow')} {w}" for w in push.warnings]
    if push.verification is not None:
        from poison_tools.trust_render import untrusted_lines

        # Only what the policy does not count (cures, withdrawals): they change verdicts.
        lines += [
            f"{name}: {ln}" for ln in untrusted_lines(push.verification, style, only_uncounted=True)
        ]
    for o in push.outcomes:
        where = o.ref.branch + (f" ({short(o.commit)})" if o.commit else "")
        if o.skipped:
            lines.append(f"{name}: {o.ref.branch}: {o.skipped}, nothing to check")
            continue
        if o.error:
            lines.append(f"{name}: {style('could not check', 'yellow')} {where}: {o.error}")
            continue
        assert o.report is not None
        missing, unfixed, undecided = o.missing_cures, o.unfixed, o.report.undecided
        if not (missing or undecided or o.report.problems):
            tail = f"; {len(unfixed)} known unfixed bug(s)" if unfixed else ""
            lines.append(f"{name}: {where} carries no poison cured elsewhere{tail}")
        else:
            n = len(missing)
            head = f"{where} lacks the cure of {n} poison{'s' if n != 1 else ''} fixed elsewhere"
            if not missing:
                head = f"could not decide whether {where} is poisoned"
            lines.append(f"{name}: {style(head, 'red' if missing else 'yellow', 'bold')}")
        for f in missing + undecided:
            lines += finding_lines(f, style)
        if o.report.copies == "incomplete":
            lines.append(copies_line(o.report.gap, style))
        lines += problem_lines(o.report.problems, style)
        lines += [unfixed_line(f, style) for f in unfixed]
    blocked = push.blocked
    if blocked:
        branches = ", ".join(o.ref.branch for o in blocked)
        reasons = sorted({doubt_text(*d) for o in blocked for d in o.doubts})
        lines.append(
            style(
                f"{name}: push blocked: {branches} is protected ({_why_protected(policy)})",
                "red",
                "bold",
            )
            + (f"; {'; '.join(reasons)}" if reasons else "")
        )
        lines.append(
            f"  cherry-pick the cures above and push again; in an emergency bypass with {BYPASS}"
        )
    elif any(o.missing_cures or o.doubts for o in push.outcomes):
        lines.append(
            f"{name}: the push goes on (branch not protected; see `git config poison.protect`)"
        )
    return lines


def doubt_text(kind: str, detail: int | str) -> str:
    """One reason a push's verdict cannot be trusted (`RefOutcome.doubts`)."""
    if kind == UNDECIDED_RECORDS:
        return f"{detail} poison(s) could not be decided"
    if kind == UNREADABLE:
        return f"{detail} unreadable record(s)"
    if kind == STALE:
        return "the records could not be refreshed"
    return str(detail)  # FAILED: the error, already a sentence
