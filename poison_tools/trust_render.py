"""`git poison log ID` and the untrusted changes of `check --verify` in words. Every
field is record or commit text: shown escaped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from poison_tools.render import Styler, _plain, short
from poison_tools.term import printable
from poison_tools.trust.audit import CREATED, DELETED, UNREADABLE, AuditLog, Change

if TYPE_CHECKING:
    from poison_tools.trust.verify import Verification

# Changed on every edit: saying so on each line would hide what did change.
_QUIET = {"updated"}


def _value(key: str, value: Any) -> str:
    if value is None:
        return "none"
    if key in ("poisons", "cures") and isinstance(value, list):
        return ", ".join(short(str(v)) for v in value) or "none"
    if key == "withdrawn" and isinstance(value, dict):
        return (
            f"by {printable(str(value.get('by', '')))}: {printable(str(value.get('reason', '')))}"
        )
    if isinstance(value, str):
        first = value.splitlines()[0] if value else ""
        more = "…" if len(value.splitlines()) > 1 else ""
        return repr(printable(first) + more)
    return printable(str(value))


def _field(key: str, before: Any, after: Any) -> str:
    if key in ("poisons", "cures") and isinstance(before, list) and isinstance(after, list):
        plus = [f"+{short(str(c))}" for c in after if c not in before]
        minus = [f"-{short(str(c))}" for c in before if c not in after]
        return f"{key} {' '.join(plus + minus) or '(reordered)'}"
    if key == "withdrawn" and after is not None:
        return f"withdrawn {_value(key, after)}"
    if key == "withdrawn":
        return "withdrawal undone"
    return f"{key} {_value(key, before)} -> {_value(key, after)}"


def _summary(c: Change) -> str:
    if c.action == UNREADABLE:
        return f"unreadable: {printable(c.problem or '')}"
    if c.action == DELETED:
        return f"deleted {printable(c.path)}"
    if c.action == CREATED:
        shown = {
            k: b for k, (_a, b) in c.fields.items() if k not in _QUIET and b not in (None, [], "")
        }
        keys = [
            k
            for k in ("poisons", "cures", "comment", "bug", "severity", "editor", "withdrawn")
            if k in shown
        ]
        return "created: " + "; ".join(f"{k} {_value(k, shown[k])}" for k in keys)
    parts = [_field(k, a, b) for k, (a, b) in c.fields.items() if k not in _QUIET]
    # Only `updated` changed: a record written again to vouch for it (a signed
    # `cure` of a cure already there); its message says what for.
    return "; ".join(parts) or f"written again: {printable(c.subject)!r}"


def audit_lines(trail: AuditLog, style: Styler = _plain) -> list[str]:
    checked = (
        f"signatures checked against poison-policy {short(trail.policy.commit)}"
        if trail.policy
        else "no trust policy: signers cannot be named (docs/trust.md)"
    )
    n = len(trail.changes)
    lines = [
        f"{style(trail.id, 'bold')}: {n} change{'s' if n != 1 else ''}, oldest first; {checked}"
    ]
    for c in trail.changes:
        sig = c.signature
        colour = "green" if sig.good else ("red" if sig.code in ("B", "R") else "yellow")
        lines.append(
            f"{printable(c.date)}  {short(c.commit)}  {printable(c.author)}  "
            + style(printable(sig.describe()), colour)
        )
        lines.append(f"    {_summary(c)}")
    if not trail.changes:
        lines.append("    no commit of this project's branch changed it")
    return lines


def untrusted_lines(
    verification: Verification, style: Styler = _plain, *, only_uncounted: bool = False
) -> list[str]:
    """The changes the trust policy does not vouch for. Cures and withdrawals (not
    counted: they could make a verdict better) one line each; poisons and edits (still
    counted: they can only make it worse) summed up unless they are all there is."""
    uncounted = [u for u in verification.untrusted if not u.doubt.counted]
    counted = [] if only_uncounted else [u for u in verification.untrusted if u.doubt.counted]
    if not uncounted and not counted:
        return []
    where = f"trust policy poison-policy {short(verification.policy.commit)}"
    lines = [
        style(
            f"changes the {where} does not vouch for: {len(uncounted)} not counted, "
            f"{len(counted)} still counted",
            "yellow",
        )
    ]
    for u in uncounted:
        lines.append(f"  {style('?', 'yellow')} {printable(u.describe())}")
    if uncounted:
        lines.append(
            "  a cure or withdrawal counts once a principal the policy allows records it "
            "again, signed: `git poison cure ID SHA` / `git poison withdraw ID -m REASON`"
        )
    if counted:
        records = len({u.id for u in counted})
        lines.append(
            f"  {style('·', 'dim')} {len(counted)} change(s) to {records} record(s) by "
            "commits the policy does not vouch for still count (poisons and edits can "
            "only make a verdict worse), e.g. " + printable(counted[0].describe())
        )
        lines.append("  every change and its signature: `git poison log ID`; all of them: --json")
    return lines
