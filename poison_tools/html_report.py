"""`scope --format html`: the records x branches / tags / deployments matrix as one
self-contained page (inline CSS, no script, no network), for people who would rather
look than read. Every cell's tooltip carries the same evidence as the text output
(a clean cell's would only repeat its column: it has none, which keeps a page of
3,000,000 cells to a size a browser can open). Written row by row as the matrix is
judged; the missing backports listed below the table wait in a temporary file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from html import escape

from poison_tools.render import claimed_copy_text, ignored_line, reverted_line, title
from poison_tools.scope import CLEAN, Cell, ScopeReport, ScopeRun
from poison_tools.scope_render import evidence_text, missing_text, probable_text

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
thead th{background:#f4f4f4;position:sticky;top:0}
th.t{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:normal}
td.affected{background:#f8c9c4}td.cured{background:#c8ebc5}td.clean{background:#fafafa;color:#999}
td.undecided,td.unknown-revision{background:#fbe7a6}
code{font-size:12px}.legend span{display:inline-block;padding:2px 8px;margin-right:6px}
"""

_SYMBOL = {"affected": "✗", "cured": "✓", "clean": "·", "undecided": "?", "unknown-revision": "?"}


def _tip(cell: Cell) -> str:
    f = cell.finding
    parts = [f"{cell.target.label}: {cell.status}"]
    if cell.target.kind == "deployment":
        parts.append(f"revision {cell.target.ref}")
    if f is not None:
        parts += [f"poison {evidence_text(e)}" for e in f.poison_evidence]
        parts += [f"cured by {evidence_text(e)}" for e in f.cure_evidence]
        parts += [reverted_line(e, by) for e, by in f.reverted]
    best = cell.best
    if best is not None:
        parts += [missing_text(best), best.cherry_pick if best.present else ""]
    if f is not None:
        parts += [probable_text(f.record.id, c, cure) for c, cure in cell.probable]
        parts += [ignored_line(c, p) for c, p in f.ignored]
        parts += [claimed_copy_text(f.record.id, e) for e in f.probable]
    return "\n".join(p for p in parts if p)


def _cell(c: Cell) -> str:
    if c.status == CLEAN:
        return '<td class="clean">·</td>'
    return f'<td class="{escape(c.status)}" title="{escape(_tip(c))}">{_SYMBOL.get(c.status, "")}</td>'


def render_html(report: ScopeReport | ScopeRun, project: str) -> str:
    return "".join(html_chunks(report, project))


def html_chunks(report: ScopeReport | ScopeRun, project: str) -> Iterator[str]:
    """The page in pieces, one table row per record."""
    head = "".join(
        f'<th class="t" title="{escape(t.ref)}">{escape(t.kind[0].upper())} {escape(t.label)}</th>'
        for t in report.targets
    )
    yield f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>git poison scope: {escape(project)}</title><style>{_CSS}</style></head>
<body><h1>Where are the bugs? <small>{escape(project)}</small></h1>
<p class="legend"><span style="background:#f8c9c4">✗ affected</span><span style="background:#c8ebc5">✓ cured</span>
<span style="background:#fafafa">· never poisoned</span><span style="background:#fbe7a6">? cannot decide</span>
B branch, T tag, D deployment; hover a cell for its evidence.</p>
<table><thead><tr><th>record</th>{head}</tr></thead><tbody>
"""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as backports:
        some = False
        for rs in (report.records if isinstance(report, ScopeReport) else report):
            r = rs.record
            cells = "".join(_cell(c) for c in rs.cells)
            yield f'<tr><th><code>{escape(r.id)}</code><br>{escape(title(r))}</th>{cells}</tr>\n'
            for c in rs.cells:
                best = c.best
                if c.status == "affected" and best is not None and best.present:
                    some = True
                    backports.write(f"<li><code>{escape(c.target.label)}</code> · {escape(r.id)}: "
                                    f"{escape(missing_text(best))}<br><code>{escape(best.cherry_pick)}</code></li>")
        yield "</tbody></table>\n<h2>Missing backports</h2><ul>"
        if not some:
            yield "<li>none</li>"
        backports.seek(0)
        while chunk := backports.read(1 << 20):
            yield chunk
    problems = "".join(f"<li>unreadable record {escape(p.path)}: {escape(p.message)}</li>"
                       for p in report.problems)
    yield f"""</ul>
{f"<h2>Unreadable records</h2><ul>{problems}</ul>" if problems else ""}
</body></html>
"""
