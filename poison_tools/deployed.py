"""Which deployments carry one record, asked right after `add` or `cure` wrote it.

The on-call engineer who has just recorded a poison wants at once "where does this
run?". The record is judged against the default inventory (`deployments.py`) by the
same `Scope` as `git poison scope --deployments-only`, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `add` without an inventory pays for none of these imports
    from poison_tools.git import SourceRepo
    from poison_tools.progress import Progress
    from poison_tools.records.record import Record
    from poison_tools.records.store import PoisonStore
    from poison_tools.scope import RecordScope


@dataclass
class Deployed:
    source: str  # the inventory read
    scope: RecordScope  # the record's row: one cell per deployment


def judge_deployments(
    repo: SourceRepo,
    store: PoisonStore,
    record: Record,
    tip: str | None,
    progress: Progress | None = None,
) -> Deployed | None:
    """The record's row over the default inventory; None when there is no inventory."""
    from poison_tools.check import open_checker
    from poison_tools.deployments import default_inventory, resolve
    from poison_tools.reach.engine import reachability
    from poison_tools.records.store import Snapshot
    from poison_tools.scope import Scope

    inventory = default_inventory(repo, store, tip)
    if inventory is None:
        return None
    targets = resolve(repo, inventory.pairs)
    reach = reachability(repo, progress)
    # Only this record: its copies are all the judgement needs.
    checker = open_checker(
        repo, Snapshot({record.id: record}, [], tip, None), reach=reach, progress=progress
    )
    report = Scope(repo, checker, probe_applies=False).run([record], targets)
    return Deployed(inventory.source, report.records[0])
