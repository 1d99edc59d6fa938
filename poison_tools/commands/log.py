from __future__ import annotations

import click

from poison_tools.cli import App, pass_app


@click.command(
    "log",
    epilog="""\b
Examples:
  git poison log k3v7x2m9d0          # who changed the record, what, and signed or not
  git poison log k3v7 --json         # docs/json.md

\b
Oldest change first. Author names and dates are what each commit says; only a
good signature by a principal of the trust policy (docs/trust.md) says who made
a change. Exit codes: 0 done, 2 error.""",
)
@click.argument("record_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/json.md).")
@pass_app
def log_cmd(app: App, record_id: str, as_json: bool) -> int:
    """The audit trail of one record: each change, its author, and its signature."""
    from poison_tools.trust.audit import audit
    from poison_tools.trust.policy import load_policy
    from poison_tools.trust_render import audit_lines

    snap = app.snapshot()
    loaded = load_policy(app.store)
    if loaded.stale is not None:
        app.warn(f"trust policy not refreshed ({loaded.stale}); using the last fetched copy")
    trail = audit(app.store, snap, record_id, loaded.policy)
    if as_json:
        app.echo_json(trail.to_json())
    else:
        app.echo_lines(audit_lines(trail, app.out))
    return 0
