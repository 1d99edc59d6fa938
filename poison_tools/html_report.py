"""`scope --format html` (and the page `git poison serve` shows): the risk view as one
self-contained page, for people who would rather look than read.

At real scale (1,000 records x 700 branches and tags) a records x refs matrix is a page
a thousand columns wide with the deployments at its far end. So the columns are what
people act on: the deployments first, then the release lines (release branches and the
main line, `release_refs`); tags and the other branches fold into one column each
("2 of 640 affected", the names on click). The per-environment summary sits on top,
with the page's generation time and how fresh the records are.

Every evidence is a `<details>` element: opened by click, tap or keyboard (Enter on its
focused summary), no hover needed, no script needed. A small inline script (no network:
the page forbids it in its Content-Security-Policy) filters and sorts the records by
severity, status and bug, and moves the summary first in the document. Written row by
row as the matrix is judged; the missing backports wait in a temporary file, and the
summary, known only at the end, is placed on top by CSS `order`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from html import escape

from poison_tools.environments import EnvironmentSummary, severity_rank
from poison_tools.release_refs import ref_rank
from poison_tools.render import title
from poison_tools.scope import AFFECTED, CLEAN, Cell, RecordScope, ScopeReport, ScopeRun, Target
from poison_tools.scope_render import STATUS_WORDS, cell_evidence, missing_text

# More branch columns than this and only the release lines keep their own.
MAX_BRANCH_COLUMNS = 40
# Other (feature) branches keep columns of their own while they are this few.
MAX_OTHER_COLUMNS = 12
# Cells listed, with their evidence, under a folded column ("2 of 640 affected").
MAX_FOLDED_NAMES = 50

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fff}
main{display:flex;flex-direction:column;gap:1em;padding:1em;max-width:100%}
#top{order:-2}#summary{order:-1}
h1{font-size:1.3em;margin:0}h2{font-size:1.1em;margin:.2em 0}
.meta{color:#555;font-size:13px;margin:.2em 0}
.envs{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,22em),1fr));gap:.6em}
.env{border:1px solid #ccc;border-radius:6px;padding:.5em .7em;background:#fafafa}
.env.bad{border-color:#d9534f;background:#fdf0ef}.env.ok{border-color:#5cb85c;background:#f1f9f0}
.env.doubt{border-color:#d4a72c;background:#fdf6dc}
.env h3{margin:0 0 .3em;font-size:1em}.env ul{margin:.2em 0;padding-left:1.1em;font-size:13px}
.controls{display:flex;flex-wrap:wrap;gap:.5em;align-items:center;font-size:14px}
.controls input,.controls select{font-size:14px;padding:4px}
.wrap{overflow-x:auto;max-width:100%;border:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 5px;text-align:left;vertical-align:top}
thead th{background:#f4f4f4;position:sticky;top:0;z-index:2}
th.rec{position:sticky;left:0;background:#fff;z-index:1;min-width:12em;max-width:22em;font-weight:normal}
thead th.rec{z-index:3;background:#f4f4f4}
th.col{white-space:nowrap;font-weight:normal}th.col small{color:#666}
td.affected{background:#f8c9c4}td.cured{background:#c8ebc5}td.clean{background:#fafafa;color:#999}
td.undecided,td.unknown-revision{background:#fbe7a6}td.folded{background:#fff}
td.folded.affected{background:#f8c9c4}
summary{cursor:pointer;min-width:1.6em;min-height:1.6em;text-align:center;list-style:none}
summary::-webkit-details-marker{display:none}
summary:focus-visible{outline:3px solid #1a73e8;outline-offset:1px}
details[open]>summary{font-weight:bold}
.ev{white-space:pre-wrap;font-size:12px;min-width:16em;max-width:32em;padding:.3em;background:#fff;border:1px solid #999}
.sev{display:inline-block;padding:0 5px;border-radius:3px;font-size:11px;color:#fff;background:#888}
.sev-critical{background:#a00}.sev-high{background:#d9534f}.sev-medium{background:#e08e0b}.sev-low{background:#5b8fc7}
code{font-size:12px}.legend span{display:inline-block;padding:1px 7px;margin-right:4px}
@media (max-width:600px){main{padding:.5em}th.rec{min-width:9em;max-width:12em}}
"""

_SCRIPT = """
(function(){
var main=document.querySelector('main'),summary=document.getElementById('summary');
var recs=document.getElementById('records');
if(main&&summary&&recs){main.insertBefore(summary,recs);}
var body=document.querySelector('#matrix tbody');if(!body)return;
var rows=Array.prototype.slice.call(body.rows),q=document.getElementById('q'),
sev=document.getElementById('sev'),st=document.getElementById('status'),
order=document.getElementById('sort'),shown=document.getElementById('shown');
var RANK={affected:0,undecided:1,cured:3,clean:4};
function cmp(key){return function(a,b){var x,y;
 if(key==='severity'){x=+a.dataset.sevorder;y=+b.dataset.sevorder;}
 else if(key==='status'){x=RANK[a.dataset.status];y=RANK[b.dataset.status];}
 else if(key==='bug'){x=a.dataset.bug||'~';y=b.dataset.bug||'~';}
 else{x=+a.dataset.pos;y=+b.dataset.pos;}
 return x<y?-1:x>y?1:(+a.dataset.pos)-(+b.dataset.pos);};}
function apply(){var text=q.value.trim().toLowerCase(),min=+sev.value,want=st.value,n=0;
 rows.forEach(function(r){var s=+r.dataset.sev;
  var ok=(!text||r.dataset.text.indexOf(text)>=0)&&(s<0||s>=min)&&(!want||r.dataset.status===want);
  r.hidden=!ok;if(ok)n++;});
 rows.slice().sort(cmp(order.value)).forEach(function(r){body.appendChild(r);});
 shown.textContent=n+' of '+rows.length+' records shown';}
[q,sev,st,order].forEach(function(el){el.addEventListener('input',apply);el.addEventListener('change',apply);});
apply();
})();
"""

_SYMBOL = {"affected": "✗", "cured": "✓", "clean": "·", "undecided": "?", "unknown-revision": "?"}
_WORST = {AFFECTED: 0, "undecided": 1, "unknown-revision": 2, "cured": 3, CLEAN: 4}
_SEVERITY_VALUE = {"low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass
class PageInfo:
    """What the page says about itself: when it was made, from which records."""

    generated: str = ""  # ISO 8601 UTC
    records_note: str = ""  # "poisons commit abc…, fetched 5 minutes ago", or the staleness
    live: bool = False  # served by `git poison serve`: the page reloads on new records


def _cell(c: Cell) -> str:
    if c.status == CLEAN:
        return '<td class="clean">·</td>'
    label = escape(f"{c.target.label}: {STATUS_WORDS.get(c.status, c.status)}", quote=True)
    ev = escape("\n".join(cell_evidence(c)))
    return (
        f'<td class="{escape(c.status)}"><details><summary aria-label="{label}">'
        f'{_SYMBOL.get(c.status, "")}</summary><div class="ev">{ev}</div></details></td>'
    )


@dataclass
class Columns:
    """Which targets get a column of their own; the rest fold into "tags" and "other
    branches"."""

    own: list[int]  # indexes into the targets, in column order
    tags: list[int]
    others: list[int]

    @classmethod
    def of(cls, targets: Sequence[Target]) -> Columns:
        deps = [i for i, t in enumerate(targets) if t.kind == "deployment"]
        branches = [i for i, t in enumerate(targets) if t.kind == "branch"]
        lines = [i for i in branches if ref_rank(targets[i].ref) == 0]
        own = set(lines)
        rest = [i for i in branches if i not in own]
        if len(rest) <= MAX_OTHER_COLUMNS or (not lines and len(branches) <= MAX_BRANCH_COLUMNS):
            lines, rest = lines + rest, []  # few enough: every branch asked about is shown
        tags = [i for i, t in enumerate(targets) if t.kind == "tag"]
        return cls(deps + lines, tags, rest)


def _folded(cells: list[Cell], what: str) -> str:
    if not cells:
        return ""
    bad = [c for c in cells if c.status == AFFECTED]
    doubt = [c for c in cells if c.status in ("undecided", "unknown-revision")]
    if not bad and not doubt:
        cured = sum(1 for c in cells if c.status == "cured")
        text = f"none of {len(cells)}" + (f" ({cured} cured)" if cured else "")
        return f'<td class="folded">{escape(text)}</td>'
    listed = (bad + doubt)[:MAX_FOLDED_NAMES]
    # Each with its evidence, as its own column's cell would give it.
    names = [
        line if k == 0 else "    " + line for c in listed for k, line in enumerate(cell_evidence(c))
    ]
    more = len(bad) + len(doubt) - len(listed)
    if more > 0:
        names.append(f"and {more} more")
    words = f"{len(bad)} of {len(cells)} affected" + (f", {len(doubt)} undecided" if doubt else "")
    cls = "folded affected" if bad else "folded undecided"
    return (
        f'<td class="{cls}"><details><summary aria-label="{escape(what)}: {escape(words)}">'
        f'{escape(words)}</summary><div class="ev">{escape(chr(10).join(names))}</div>'
        f"</details></td>"
    )


def _row(rs: RecordScope, cols: Columns, pos: int) -> str:
    r = rs.record
    worst = min((c.status for c in rs.cells), key=lambda s: _WORST.get(s, 9), default=CLEAN)
    if worst == "unknown-revision":
        worst = "undecided"  # for the status filter, an unknown revision is doubt
    sev = r.severity or ""
    text = " ".join(x for x in (r.id, r.bug or "", r.comment, sev) if x).lower()
    badge = f' <span class="sev sev-{escape(sev)}">{escape(sev)}</span>' if sev else ""
    bug = f" [{escape(r.bug)}]" if r.bug else ""
    head = (
        f'<th class="rec" scope="row"><code>{escape(r.id)}</code>{badge}<br>'
        f"{escape(r.comment.splitlines()[0] if r.comment else '(no comment)')}{bug}</th>"
    )
    cells = "".join(_cell(rs.cells[i]) for i in cols.own)
    if cols.tags:
        cells += _folded([rs.cells[i] for i in cols.tags], "tags")
    if cols.others:
        cells += _folded([rs.cells[i] for i in cols.others], "other branches")
    return (
        f'<tr data-pos="{pos}" data-status="{escape(worst)}" '
        f'data-sev="{_SEVERITY_VALUE.get(sev, -1)}" data-sevorder="{severity_rank(r.severity)}" '
        f'data-bug="{escape((r.bug or "").lower(), quote=True)}" '
        f'data-text="{escape(text, quote=True)}">{head}{cells}</tr>\n'
    )


def _header(targets: Sequence[Target], cols: Columns) -> str:
    kinds = {"deployment": "deployment", "branch": "branch", "tag": "tag"}
    heads = []
    for i in cols.own:
        t = targets[i]
        sub = f"= {t.ref}" if t.kind == "deployment" else kinds[t.kind]
        heads.append(
            f'<th class="col" scope="col" title="{escape(t.ref)}">{escape(t.label)}'
            f"<br><small>{escape(sub)}</small></th>"
        )
    if cols.tags:
        heads.append(f'<th class="col" scope="col">tags<br><small>{len(cols.tags)}</small></th>')
    if cols.others:
        heads.append(
            f'<th class="col" scope="col">other branches<br><small>{len(cols.others)}</small></th>'
        )
    return "".join(heads)


def environment_html(envs: list[EnvironmentSummary]) -> str:
    if not envs:
        return ""
    cards = []
    for env in envs:
        uncured = env.uncured
        sev = ", ".join(f"{n} {s}" for s, n in env.severities().items() if s != "none")
        total = len(env.deployments)
        if uncured:
            head = (
                f"{len(uncured)} uncured"
                + (f" ({sev})" if sev else "")
                + f" in {env.count(AFFECTED)} of {total}"
            )
        else:
            head = f"nothing uncured in {total}"
        items = []
        for d in env.deployments:
            t = d.target
            if d.status == "unknown-revision":
                items.append(
                    f"<li>? <b>{escape(t.name)}</b> = {escape(t.ref)}: revision not known here</li>"
                )
                continue
            if not d.uncured and not d.undecided:
                continue
            ids = ", ".join(
                escape(r.id) + (f" ({escape(r.severity)})" if r.severity else "") for r in d.uncured
            )
            advice = "".join(
                f"<br>{escape(r.id)}: {escape(a.text())}"
                for r, a in zip(d.uncured, d.advice, strict=True)
            )
            if d.undecided:
                advice += "<br>cannot decide: " + escape(", ".join(r.id for r in d.undecided))
            items.append(f"<li>✗ <b>{escape(t.name)}</b> = {escape(t.ref)}: {ids}{advice}</li>")
        cls = (
            "bad"
            if uncured
            else "doubt"
            if env.count("unknown-revision") or env.count("undecided")
            else "ok"
        )
        cards.append(
            f'<section class="env {cls}" data-env="{escape(env.name, quote=True)}">'
            f"<h3>{escape(env.name)}: {escape(head)}</h3>"
            + (f"<ul>{''.join(items)}</ul>" if items else "")
            + "</section>"
        )
    return "".join(cards)


def render_html(report: ScopeReport | ScopeRun, project: str, **kwargs: object) -> str:
    return "".join(html_chunks(report, project, **kwargs))  # type: ignore[arg-type]


def html_chunks(
    report: ScopeReport | ScopeRun,
    project: str,
    *,
    environments: Callable[[], list[EnvironmentSummary]] | None = None,
    info: PageInfo | None = None,
) -> Iterator[str]:
    """The page in pieces, one table row per record."""
    info = info or PageInfo()
    targets = report.targets
    cols = Columns.of(targets)
    live = ' data-live="1"' if info.live else ""
    yield f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'">
<title>git poison scope: {escape(project)}</title><style>{_CSS}</style></head>
<body{live}><main>
<header id="top"><h1>Where are the bugs? <small>{escape(project)}</small></h1>
<p class="meta" id="generated">Generated {escape(info.generated or "now")}.
Records: <span id="records-note">{escape(info.records_note or "as read for this page")}</span>.</p>
<p class="legend meta"><span style="background:#f8c9c4">✗ affected</span><span style="background:#c8ebc5">✓ cured</span>
<span style="background:#fafafa">· never poisoned</span><span style="background:#fbe7a6">? cannot decide</span>
Click or press Enter on a cell for its evidence.</p></header>
<section id="records"><h2>Records</h2>
<div class="controls" role="search">
<label>Find <input id="q" type="search" placeholder="id, bug, words"></label>
<label>Severity <select id="sev"><option value="0">any</option><option value="1">low or worse</option>
<option value="2">medium or worse</option><option value="3">high or worse</option>
<option value="4">critical</option></select></label>
<label>Status <select id="status"><option value="">any</option><option value="affected">affected somewhere</option>
<option value="undecided">undecided</option><option value="cured">cured</option><option value="clean">clean</option></select></label>
<label>Sort <select id="sort"><option value="pos">recorded</option><option value="severity">severity</option>
<option value="status">status</option><option value="bug">bug</option></select></label>
<span id="shown" class="meta"></span></div>
<div class="wrap"><table id="matrix"><thead><tr><th class="rec" scope="col">record</th>{_header(targets, cols)}</tr></thead><tbody>
"""
    col_branches = {targets[i].ref for i in cols.own if targets[i].kind == "branch"}
    records = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as backports:
        some = False
        for pos, rs in enumerate(report.records if isinstance(report, ScopeReport) else report):
            records += 1
            yield _row(rs, cols, pos)
            r = rs.record
            for c in rs.cells:
                best = c.best
                if (
                    c.status == AFFECTED
                    and best is not None
                    and best.present
                    and c.target.ref in col_branches
                ):
                    some = True
                    backports.write(
                        f"<li><code>{escape(c.target.label)}</code> · {escape(r.id)} "
                        f"{escape(title(r))}: {escape(missing_text(best))}<br>"
                        f"<code>{escape(best.cherry_pick)}</code></li>"
                    )
        yield '</tbody></table></div></section>\n<section id="backports"><h2>Missing backports</h2><ul>'
        if not some:
            yield "<li>none</li>"
        backports.seek(0)
        while chunk := backports.read(1 << 20):
            yield chunk
    problems = "".join(
        f"<li>unreadable record {escape(p.path)}: {escape(p.message)}</li>" for p in report.problems
    )
    envs = environments() if environments is not None else []
    stale = report.stale.describe() if report.stale is not None else ""
    counts = (
        f"{records} record{'s' if records != 1 else ''}, {len(cols.own)} columns"
        f" ({sum(1 for i in cols.own if targets[i].kind == 'deployment')} deployments)"
        + (
            f", {len(cols.tags)} tags and {len(cols.others)} other branches folded"
            if cols.tags or cols.others
            else ""
        )
    )
    yield f"""</ul></section>
{f"<section id='problems'><h2>Unreadable records</h2><ul>{problems}</ul></section>" if problems else ""}
<section id="summary"><h2>Per environment</h2>
{f'<p class="meta" role="alert">{escape(stale)}</p>' if stale else ""}
<p class="meta">{escape(counts)}</p>
<div class="envs">{environment_html(envs) or '<p class="meta">No deployments inventory (git config poison.deployments FILE).</p>'}</div>
</section>
</main><script>{_SCRIPT}{_LIVE if info.live else ""}</script></body></html>
"""


# Served live (`git poison serve`): reload when the records or the refs change.
_LIVE = """
(function(){var seen=null;function poll(){fetch('/api/v1/version',{cache:'no-store'})
.then(function(r){return r.json();}).then(function(v){if(seen!==null&&v.key!==seen){location.reload();}
seen=v.key;}).catch(function(){});}poll();setInterval(poll,5000);})();
"""


def records_note(tip: str | None, remote: bool, fetched_at: float | None, now: float) -> str:
    """How fresh the records are, in words: the page may be read hours later."""
    where = (
        f"poisons commit {tip[:12]}"
        if tip
        else "no single poisons commit (local and remote merged)"
    )
    if not remote:
        return f"{where}, local records (no poison.remote)"
    if fetched_at is None:
        return f"{where}, never fetched"
    seconds = max(0, int(now - fetched_at))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            n = seconds // size
            return f"{where}, fetched {n} {unit}{'s' if n != 1 else ''} before this page"
    return where
