from __future__ import annotations

import click

from poison_tools.cli import App, pass_app
from poison_tools.errors import FatalError
from poison_tools.records.store import Change


@click.command(
    "import",
    epilog="""\b
Examples:
  git poison import --fixes                    # every Fixes: trailer in HEAD's history
  git poison import --fixes v6.1..v6.6 --dry-run
  git poison import --osv advisories/          # OSV files (docs/osv.md)
  git poison import --osv GIT-POISON-k3v7x2m9d0.json

\b
Running an import twice adds nothing. Exit codes: 0 done, 2 error.""",
)
@click.option(
    "--fixes",
    "fixes",
    is_flag=True,
    help="Turn `Fixes: <sha>` trailers into poisons (the fixed commit) and cures (the fixing one).",
)
@click.option(
    "--osv", "osv_path", metavar="FILE|DIR", help="Import OSV records (schema 1.7, GIT ranges)."
)
@click.option("--dry-run", is_flag=True, help="Say what would be recorded; record nothing.")
@click.argument("rev_range", required=False, metavar="[RANGE]")
@pass_app
def import_cmd(
    app: App, fixes: bool, osv_path: str | None, dry_run: bool, rev_range: str | None
) -> int:
    """Import records projects already keep: Fixes: trailers or OSV files."""
    if fixes == (osv_path is not None):
        raise click.UsageError("say what to import: --fixes [RANGE] or --osv FILE|DIR")
    if osv_path is not None and rev_range is not None:
        raise click.UsageError("RANGE goes with --fixes, not --osv")
    return _fixes(app, rev_range, dry_run) if fixes else _osv(app, osv_path or "", dry_run)


def _write(app: App, change: Change, message: str, dry_run: bool) -> None:
    if dry_run:
        change(app.snapshot())  # fills in the outcome, writes nothing
        return
    result = app.store.write(change, message, app.author())
    app.report_write(result, "imported")


def _fixes(app: App, rev_range: str | None, dry_run: bool) -> int:
    from poison_tools.records.importers import ImportOutcome, fixes_change, scan_fixes

    plan = scan_fixes(app.repo, rev_range)
    outcome = ImportOutcome()
    if plan.cures_of:
        _write(
            app,
            fixes_change(plan, app.editor(), outcome),
            f"import Fixes: trailers of {rev_range or 'HEAD'}",
            dry_run,
        )
    would = "would import" if dry_run else "imported"
    app.echo(
        f"{would} {len(outcome.created)} new records and added cures to "
        f"{len(outcome.extended)} existing ones, from {plan.trailers} Fixes: trailers "
        f"in {plan.scanned} commits"
    )
    if outcome.withdrawn_skipped:
        app.echo(
            f"left alone {len(outcome.withdrawn_skipped)} poisons whose records were withdrawn"
        )
    if plan.unresolved:
        sample = ", ".join(f"{w} (in {s[:12]})" for s, w in plan.unresolved[:3])
        more = "…" if len(plan.unresolved) > 3 else ""
        app.warn(
            f"skipped {len(plan.unresolved)} Fixes: trailers whose SHA does not resolve "
            f"to another commit here: {sample}{more}"
        )
    return 0


def _osv(app: App, path: str, dry_run: bool) -> int:
    from poison_tools.records.osv import osv_change, plan_import, read_entries

    plan = plan_import(app.repo, read_entries(path), app.editor())
    outcome: dict[str, list[str]] = {}
    if plan.records:
        _write(app, osv_change(plan, outcome), f"import OSV records from {path}", dry_run)
    elif not plan.entries:
        raise FatalError(f"{path}: no OSV entries")
    would = "would import" if dry_run else "imported"
    app.echo(
        f"{would} {len(outcome.get('created', []))} new records, extended "
        f"{len(outcome.get('extended', []))}, {len(outcome.get('unchanged', []))} already "
        f"recorded, from {plan.entries} OSV entries"
    )
    if outcome.get("withdrawn"):
        app.echo(f"left alone {len(outcome['withdrawn'])} records that were withdrawn here")
    for reason, n in sorted(plan.skipped.items()):
        app.warn(f"skipped {n}: {reason}")
    return 0
