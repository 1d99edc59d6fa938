from __future__ import annotations

import json
import os

import click

from poison_tools.cli import App, pass_app
from poison_tools.errors import FatalError
from poison_tools.records.record import Record
from poison_tools.records.store import Snapshot
from poison_tools.term import printable


@click.command(
    epilog="""\b
Examples:
  git poison export --osv > poisons.osv.json      # a JSON array of OSV entries
  git poison export --osv -o advisories/          # one <id>.json file per record
  git poison export --osv --no-versions           # skip computing affected tags

\b
The mapping to OSV 1.7 is documented in docs/osv.md. Exit codes: 0 done, 2 error."""
)
@click.option("--osv", "osv", is_flag=True, required=True, help="Export as OSV (schema 1.7).")
@click.option("-o", "--output", metavar="DIR", help="Write one OSV file per record into DIR.")
@click.option(
    "--no-versions", is_flag=True, help="Leave out affected[].versions (the affected tags)."
)
@pass_app
def export(app: App, osv: bool, output: str | None, no_versions: bool) -> int:
    """Export the records for the wider security ecosystem."""
    from poison_tools.records.osv import to_osv

    snapshot = app.snapshot()
    records = sorted(snapshot.active, key=lambda r: (r.created, r.id))
    versions = {} if no_versions else _affected_tags(app, snapshot, records)
    url = app.repo.config_get("remote.origin.url") or app.repo.toplevel or app.repo.common_dir
    entries = [to_osv(r, url, None if no_versions else versions.get(r.id, [])) for r in records]
    if output is None:
        app.echo_json(entries)
    else:
        try:
            os.makedirs(output, exist_ok=True)
            for e in entries:
                with open(os.path.join(output, f"{e['id']}.json"), "w", encoding="utf-8") as f:
                    f.write(json.dumps(e, indent=2, ensure_ascii=False) + "\n")
        except OSError as e:
            raise FatalError(f"cannot write into {output}: {e.strerror}") from None
        click.echo(f"wrote {len(entries)} OSV files to {output}", err=True)
    for p in snapshot.problems:
        app.warn(f"unreadable record {printable(p.path)} not exported: {printable(p.message)}")
    return 2 if snapshot.problems else 0


def _affected_tags(app: App, snapshot: Snapshot, records: list[Record]) -> dict[str, list[str]]:
    from poison_tools.check import open_checker
    from poison_tools.scope import AFFECTED, Scope, ref_targets
    from poison_tools.term import StderrProgress

    progress = StderrProgress()
    reach = app.reach(progress)
    tags = ref_targets(reach, branches=False, tags=True)
    if not records or not tags:
        return {}
    checker = open_checker(app.repo, snapshot, reach=reach, progress=progress)
    # No hints: an OSV entry names affected tags, never a "probable cure".
    report = Scope(app.repo, checker, probe_applies=False).run(records, tags)
    return {rs.record.id: [c.target.label for c in rs.of(AFFECTED)] for rs in report.records}
