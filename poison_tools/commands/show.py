from __future__ import annotations

from dataclasses import replace

import click

from poison_tools.check import open_checker
from poison_tools.cli import App, pass_app
from poison_tools.records.record import Record
from poison_tools.records.store import Snapshot
from poison_tools.release_refs import release_first
from poison_tools.render import record_lines, short_ref
from poison_tools.scope import AFFECTED, CURED, UNDECIDED, RecordScope, Scope, ref_targets

# Refs named per cure in the text (all of them in --json): a cure on master is held by
# every later tag.
SHOWN_REFS = 8


@click.command(
    epilog="""\b
Examples:
  git poison show k3v7x2m9d0
  git poison show k3v7 --json      # a unique prefix is enough"""
)
@click.argument("record_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/json.md).")
@pass_app
def show(app: App, record_id: str, as_json: bool) -> int:
    """Show one record, with the branches and tags each of its cures (or a copy of it)
    cures, release branches first, and those it does not."""
    snapshot = app.snapshot()
    record = snapshot.find(record_id)
    row = _where(app, snapshot, record)
    cure_refs = {
        c: [
            cell.target.ref
            for cell in row.of(CURED)
            if cell.finding and any(e.recorded == c for e in cell.finding.cure_evidence)
        ]
        for c in record.cures
    }
    affected = [cell.target.ref for cell in row.of(AFFECTED)]
    undecided = [cell.target.ref for cell in row.of(UNDECIDED)]
    doubts = _implausible(app, record)
    if as_json:
        app.echo_json(
            {
                **record.to_json(),
                "cure_refs": cure_refs,
                "affected_refs": affected,
                "undecided_refs": undecided,
                "warnings": list(app.warnings),
                "implausible_cures": doubts,
            }
        )
        return 0
    for line in record_lines(record, app.out):
        if line.startswith("cure:   ") and line[8:] in cure_refs:
            line = f"{line}  ({_names(cure_refs[line[8:]]) or 'cures no branch or tag here'})"
        app.echo(line)
    if affected:
        app.echo(f"not cured on: {_names(affected)}")
    if undecided:
        app.echo(f"could not decide on: {_names(undecided)} (missing history)")
    for c, why in doubts.items():
        app.echo(app.out(f"implausible cure {c[:12]}: ", "yellow") + "; ".join(why))
    return 0


def _where(app: App, snapshot: Snapshot, record: Record) -> RecordScope:
    """The record judged on every branch and tag by the Checker, as `scope` does: a cure
    carried by a cherry-pick cures there as it does in `check`."""
    rec = replace(record, withdrawn=None)  # a withdrawn record is shown where it would be
    reach = app.reach()
    checker = open_checker(
        app.repo, Snapshot({rec.id: rec}, [], snapshot.tip, snapshot.stale), reach=reach
    )
    targets = ref_targets(reach, tags=True)
    order = {ref: i for i, ref in enumerate(release_first(t.ref for t in targets))}
    targets.sort(key=lambda t: order[t.ref])
    [row] = Scope(app.repo, checker, probe_applies=False).run([rec], targets).records
    return row


def _names(refs: list[str]) -> str:
    names = ", ".join(short_ref(r) for r in refs[:SHOWN_REFS])
    return names + (f" and {len(refs) - SHOWN_REFS} more" if len(refs) > SHOWN_REFS else "")


def _implausible(app: App, record: Record) -> dict[str, list[str]]:
    """Cures that may not be the fix (issue 14, plausible.py): marked, still counted."""
    from poison_tools.plausible import cure_doubts

    return cure_doubts(app.repo, record, record.cures) if record.cures else {}
