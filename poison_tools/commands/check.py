from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from poison_tools.check import CheckReport, ReleaseReport, open_checker
from poison_tools.cli import App, pass_app
from poison_tools.gate import gate
from poison_tools.records.record import SEVERITIES
from poison_tools.render import check_lines, gate_lines, release_lines
from poison_tools.report_meta import check_meta
from poison_tools.term import StderrProgress

if TYPE_CHECKING:
    from poison_tools.records.store import Snapshot
    from poison_tools.trust.verify import Verification


@click.command(
    epilog="""\b
Examples:
  git poison check                      # is HEAD healthy?
  git poison check origin/lts/2.1
  git poison check v2.1.0 --since v2.0.0 --json   # release report
  git poison check v2.1.0 --since v2.0.0 --fail-on high   # block on high, critical

\b
With --since B, what was cured at B and is not at REV (a downgrade, or a cure
undone since) is listed as a regression; REV not descending from B is said.

\b
Exit codes: 0 healthy, 1 poisoned, 2 could not decide (missing history,
missing objects, unknown commit, unreadable records) or error. With --fail-on,
1 only for a poison at or above that severity (or with none set)."""
)
@click.argument("rev", default="HEAD", required=False)
@click.option(
    "--since",
    "since",
    metavar="REV",
    help="Last release: also list the bugfixes and poisons that arrived since.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (docs/json.md).")
@click.option(
    "--fail-on",
    "fail_on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="Exit 1 only for poisons of this severity or worse (or none set); "
    "list the lower ones without failing.",
)
@click.option(
    "--verify/--no-verify",
    "verify",
    default=None,
    help="Count only what the trust policy vouches for (docs/trust.md); "
    "default: git config poison.verify.",
)
@pass_app
def check(
    app: App, rev: str, since: str | None, as_json: bool, fail_on: str | None, verify: bool | None
) -> int:
    """Does REV (default HEAD) carry an uncured poison?"""
    # A first check on a large repository builds the reachability index and scans
    # for copies (patch-ids): show both (on a terminal only).
    progress = StderrProgress()
    reach = app.reach(progress)  # lists the refs meanwhile
    target = app.repo.resolve_commit(rev)
    base = app.repo.resolve_commit(since) if since else None
    snapshot = app.snapshot()
    verification = _verification(app, snapshot, verify)
    if verification is not None:
        snapshot = verification.counted
    checker = open_checker(app.repo, snapshot, reach=reach, progress=progress)
    report: CheckReport | ReleaseReport
    if base is not None:
        report = checker.release(target, rev, base, since or "")
        current = report.current
        if verification is not None:
            verification.settle_release(checker, report)
    else:
        report = current = checker.check(target, rev)
        if verification is not None:
            verification.settle(checker, current)
    current.warnings = list(app.warnings)
    for notice in checker.notices:
        app.warn(notice)
    judged = gate(current, fail_on) if fail_on else None
    if as_json:
        app.echo_json(
            _with_trust(
                {
                    **report.to_json(),
                    **check_meta(app.store.project, len(current.findings)),
                    **({"fail_on": judged.to_json()} if judged else {}),
                },
                verification,
            )
        )
    else:
        lines = (
            release_lines(report, app.out)
            if isinstance(report, ReleaseReport)
            else check_lines(report, app.out)
        )
        app.echo_lines(
            lines
            + (gate_lines(judged, app.out) if judged else [])
            + _trust_lines(app, verification)
        )
    return judged.exit_code if judged else report.exit_code


# --verify (issue 14): the trust policy's view of the records; see poison_tools/trust/verify.py.


def _verification(app: App, snapshot: Snapshot, flag: bool | None) -> Verification | None:
    if not (flag if flag is not None else app.repo.config_bool("poison.verify", False)):
        return None
    from poison_tools.trust.verify import verify_snapshot

    verification = verify_snapshot(app.store, snapshot)
    if verification.policy_stale is not None:
        app.warn(
            f"trust policy not refreshed ({verification.policy_stale}); using the last fetched copy"
        )
    return verification


def _with_trust(data: dict[str, Any], verification: Verification | None) -> dict[str, Any]:
    if verification is not None:
        data["trust"] = verification.to_json()
    return data


def _trust_lines(app: App, verification: Verification | None) -> list[str]:
    if verification is None:
        return []
    from poison_tools.trust_render import untrusted_lines

    return untrusted_lines(verification, app.out)
