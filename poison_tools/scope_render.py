"""`scope` and `backports` in words. Returns lines; printing is the caller's.

Evidence is phrased like `render.finding_lines` ("copy of X, by cherry-pick trailer")
so a branch's verdict reads the same in `check`, `scope` and the editor.
"""

from __future__ import annotations

from collections.abc import Iterator

from poison_tools.check import Evidence, Finding
from poison_tools.environments import NO_SEVERITY, EnvironmentSummary
from poison_tools.release_refs import release_first
from poison_tools.render import (
    UNFIXED,
    Styler,
    claimed_copy_text,
    ignored_line,
    missing_history_text,
    problem_line,
    reverted_line,
    short,
    short_ref,
    title,
)
from poison_tools.scope import (
    AFFECTED,
    Backport,
    Cell,
    MissingCure,
    RecordScope,
    ScopeReport,
    ScopeRun,
    Target,
)


def _plain(text: str, *_names: str) -> str:
    return text


_MARK = {
    AFFECTED: "red",
    "cured": "green",
    "clean": "dim",
    "undecided": "yellow",
    "unknown-revision": "yellow",
}


def evidence_text(e: Evidence) -> str:
    if e.via == "ancestry":
        return short(e.commit)
    return f"{short(e.commit)} (copy of {short(e.recorded)}, by {e.via})"


def missing_text(m: MissingCure) -> str:
    if not m.present:
        return f"cure {short(m.cure)} is not in this clone (git fetch it first)"
    where = ", ".join(short_ref(r) for r in release_first(m.refs)[:3]) or "no branch"
    more = f" and {len(m.refs) - 3} more" if len(m.refs) > 3 else ""
    applies = {True: "applies cleanly", False: "conflicts: resolve by hand", None: "not checked"}[
        m.applies
    ]
    return f"missing cure {short(m.cure)} (on {where}{more}), {applies}"


def released_text(m: MissingCure) -> str:
    """For a tag or a deployment: where the cure is, and that a release must carry it."""
    if not m.present:
        return f"cure {short(m.cure)} is not in this clone (git fetch it first)"
    where = ", ".join(short_ref(r) for r in release_first(m.refs)[:3]) or "no branch"
    return f"needs a release with cure {short(m.cure)} (on {where})"


def probable_text(record_id: str, commit: str, cure: str) -> str:
    return (
        f"probable cure {short(commit)} (same subject as {short(cure)}), confirm? "
        f"git poison cure {record_id} {short(commit)}"
    )


def cell_lines(cell: Cell, style: Styler = _plain, width: int = 24) -> list[str]:
    t = cell.target
    label = t.label + (f" = {t.ref}" if t.kind == "deployment" else "")
    word = "unknown" if cell.status == "unknown-revision" else cell.status
    status = style(f"{word:<9}", _MARK.get(cell.status, "dim"))
    head = f"  {status} {label:<{width}}"
    f = cell.finding
    if cell.status == "unknown-revision":
        return [f"{head} revision {t.ref!r} is not known here (fetch it, or fix the inventory)"]
    if f is None:
        return [head.rstrip()]
    if cell.status == AFFECTED:
        lines = [f"{head} poison {', '.join(evidence_text(e) for e in f.poison_evidence)}"]
        lines += [" " * 14 + reverted_line(e, by) for e, by in f.reverted]
        lines += [" " * 14 + ignored_line(c, p) for c, p in f.ignored]
        best = cell.best
        if best is not None and t.kind != "branch":
            # A tag or a deployment takes a release with the fix, not a cherry-pick
            # (`scope --summary` names the release).
            lines.append(" " * 14 + released_text(best))
        elif best is not None:
            lines.append(" " * 14 + missing_text(best))
            if best.present:
                lines.append(" " * 16 + style(best.cherry_pick, "blue"))
        for commit, cure in cell.probable:
            lines.append(" " * 14 + probable_text(f.record.id, commit, cure))
        lines += [" " * 14 + claimed_copy_text(f.record.id, e) for e in f.probable]
        return lines
    if cell.status == "cured":
        return [f"{head} by {', '.join(evidence_text(e) for e in f.cure_evidence)}"]
    if cell.status == "undecided":
        return [f"{head} {undecided_text(f)}"]
    return [f"{head} never poisoned"]


def undecided_text(f: Finding) -> str:
    """Why a cell cannot be decided, and what would decide it."""
    if f.unknown_copies and not f.undecided_commits:
        unknown = ", ".join(short(c) for c in f.unknown_copies[:3]) + (
            " …" if len(f.unknown_copies) > 3 else ""
        )
        return (
            f"a copy cannot be ruled out: the patch-id of {unknown} is unknown here "
            "(objects missing); try `git fetch --refetch --no-filter`"
        )
    return missing_history_text(f.undecided_commits)


STATUS_WORDS = {
    "affected": "affected",
    "cured": "cured",
    "clean": "never poisoned",
    "undecided": "cannot decide",
    "unknown-revision": "unknown revision",
}


def cell_evidence(cell: Cell) -> list[str]:
    """A cell's evidence, one fact a line, in `scope`'s words (the HTML page's cells)."""
    f = cell.finding
    t = cell.target
    parts = [f"{t.label}: {STATUS_WORDS.get(cell.status, cell.status)}"]
    if t.kind == "deployment":
        parts.append(
            f"revision {t.ref}" + (f" ({t.commit[:12]})" if t.commit else " (not known here)")
        )
    if f is not None:
        parts += [f"poison {evidence_text(e)}" for e in f.poison_evidence]
        parts += [f"cured by {evidence_text(e)}" for e in f.cure_evidence]
        parts += [reverted_line(e, by) for e, by in f.reverted]
        if cell.status == "undecided":
            parts.append(undecided_text(f))
    best = cell.best
    if best is not None:
        if t.kind == "branch":
            parts += [missing_text(best), best.cherry_pick if best.present else ""]
        else:
            parts.append(released_text(best))
    if f is not None:
        parts += [probable_text(f.record.id, c, cure) for c, cure in cell.probable]
        parts += [ignored_line(c, p) for c, p in f.ignored]
        parts += [claimed_copy_text(f.record.id, e) for e in f.probable]
        if cell.status == AFFECTED and not f.record.cures:
            parts.append(UNFIXED)
    return [p for p in parts if p]


def label_width(targets: list[Target]) -> int:
    return min(
        40,
        max(
            (len(t.label) + (len(t.ref) + 3 if t.kind == "deployment" else 0) for t in targets),
            default=10,
        ),
    )


def record_lines(rs: RecordScope, style: Styler = _plain, width: int = 24) -> list[str]:
    r = rs.record
    n = rs.counts()
    counts = ", ".join(f"{n[s]} {s}" for s in (AFFECTED, "cured", "clean", "undecided") if n.get(s))
    lines = [
        f"{style(r.id, 'bold')}  {title(r)}"
        + (f"  ({counts})" if counts else "")
        + ("; no cure recorded yet" if not r.cures and n.get(AFFECTED) else "")
    ]
    for cell in rs.cells:
        lines += cell_lines(cell, style, width)
    return lines


def scope_lines(report: ScopeReport | ScopeRun, style: Styler = _plain) -> Iterator[str]:
    """The matrix in words, record by record: a `ScopeRun` is read as it is judged."""
    width = label_width(report.targets)
    for rs in report.records if isinstance(report, ScopeReport) else report:
        yield from record_lines(rs, style, width)
    if not report.targets:
        yield "no branches, tags or deployments matched"
    for p in report.problems:
        yield problem_line(p, style)


def backport_lines(todo: dict[str, list[Backport]], style: Styler = _plain) -> list[str]:
    lines: list[str] = []
    for ref, items in todo.items():
        head = f"{short_ref(ref)}: "
        lines.append(
            style(
                head
                + (
                    f"{len(items)} missing backport{'s' if len(items) != 1 else ''}"
                    if items
                    else "nothing to backport"
                ),
                "bold",
            )
        )
        for b in items:
            lines.append(f"  {b.record.id}  {title(b.record)}")
            best = b.cell.best
            if best is not None:
                lines.append(f"    {missing_text(best)}")
                lines.append(f"    {style(best.cherry_pick, 'blue')}")
            for commit, cure in b.cell.probable:
                lines.append(f"    {probable_text(b.record.id, commit, cure)}")
    return lines


def deployed_lines(rs: RecordScope, source: str, style: Styler = _plain) -> list[str]:
    """After `add` / `cure`: the deployments that carry the record, then one line for
    the rest. Clean and cured deployments are counted, not listed: on-call reads
    the ones to act on."""
    r = rs.record
    total = len(rs.cells)
    act = [c for c in rs.cells if c.status in (AFFECTED, "undecided", "unknown-revision")]
    affected = sum(1 for c in act if c.status == AFFECTED)
    head = (
        f"deployments carrying {r.id}: {affected} of {total}"
        if affected
        else f"deployments carrying {r.id}: none of {total}"
    )
    lines = [style(head, "bold") + f" (inventory {source})"]
    width = label_width([c.target for c in act])
    for cell in act:
        lines.append(deployment_line(cell, style, width))
    rest = total - len(act)
    if rest and act:
        n = rs.counts()
        parts = [f"{n[s]} {s}" for s in ("cured", "clean") if n.get(s)]
        lines.append(f"  ({', '.join(parts)})")
    return lines


def deployment_line(cell: Cell, style: Styler = _plain, width: int = 24) -> str:
    """One deployment's status in one line, without the evidence `cell_lines` gives."""
    t = cell.target
    word = "unknown" if cell.status == "unknown-revision" else cell.status
    label = f"{t.label} = {t.ref}"
    head = f"  {style(f'{word:<9}', _MARK.get(cell.status, 'dim'))} "
    if cell.status == "unknown-revision":
        return f"{head}{label:<{width}} revision not known here (fetch it, or fix the inventory)"
    if cell.status == "undecided":
        return f"{head}{label:<{width}} history needed to decide is missing"
    return f"{head}{label}"


def _severity_words(env: EnvironmentSummary) -> str:
    n = env.severities()
    return ", ".join(f"{k} {s}" for s, k in n.items() if s != NO_SEVERITY)


def environment_lines(envs: list[EnvironmentSummary], style: Styler = _plain) -> list[str]:
    """Per environment: "production: 2 uncured (1 critical) in 2 of 3 deployments", then
    each deployment that carries something, with where to upgrade."""
    lines: list[str] = []
    for env in envs:
        uncured = env.uncured
        total = len(env.deployments)
        affected = env.count(AFFECTED)
        if uncured:
            sev = _severity_words(env)
            head = (
                f"{env.name}: {len(uncured)} uncured"
                + (f" ({sev})" if sev else "")
                + f" in {affected} of {total} deployment{'s' if total != 1 else ''}"
            )
            head = style(head, "red", "bold")
        else:
            head = style(
                f"{env.name}: nothing uncured in {total} deployment{'s' if total != 1 else ''}",
                "green",
            )
        doubts = [
            f"{n} {word}"
            for n, word in (
                (env.count("undecided"), "undecided"),
                (env.count("unknown-revision"), "unknown revision"),
            )
            if n
        ]
        lines.append(head + (f"; {', '.join(doubts)}" if doubts else ""))
        for d in env.deployments:
            t = d.target
            if d.status == "unknown-revision":
                lines.append(
                    f"  ? {t.name} = {t.ref}: revision not known here (fetch it, or fix the inventory)"
                )
                continue
            if d.undecided and not d.uncured:
                lines.append(
                    f"  ? {t.name} = {t.ref}: cannot decide "
                    f"{', '.join(r.id for r in d.undecided)} (history missing)"
                )
            if not d.uncured:
                continue
            names = ", ".join(r.id + (f" ({r.severity})" if r.severity else "") for r in d.uncured)
            lines.append(f"  {style('✗', 'red')} {t.name} = {t.ref}: {names}")
            for r, advice in zip(d.uncured, d.advice, strict=True):
                lines.append(f"      {r.id} {title(r)}: {advice.text()}")
            # One release for them all, when the single answers do not already say it.
            if (
                d.upgrade is not None
                and d.upgrade.to is not None
                and any(a.to != d.upgrade.to for a in d.advice)
            ):
                lines.append(f"      all {len(d.uncured)}: {d.upgrade.text()}")
    return lines
