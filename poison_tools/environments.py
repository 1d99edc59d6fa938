"""Per environment: how many uncured poisons, how bad, and which release fixes them.

Ops after a hotfix ask two things of the deployments inventory: "production: 2 uncured,
1 critical" and, for a deployed release, "upgrade to v5.0.9, the first release that has
the fix (no fixed release on the 4.1 line yet)", rather than a cherry-pick line.

The environment of a deployment is the first part of its name (`production` of
`production/eu-west/api`). A release is a tag whose name ends in a dotted version
(`v4.1.2`, `4.1.2`, `api/v4.1.2`; `v5.0.0-rc1` is not a release); its line is the first
two numbers. Which releases hold a fix is the `Checker`'s verdict on each release tag
(cherry-picked cures and reverts included), asked by `Scope`, never a guess from
names. Upgrade advice goes to the first release, in version order, newer than the one
deployed and cured for the record: on the deployed line if there is one, else on any.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from poison_tools.records.record import SEVERITIES, Record
from poison_tools.scope import (
    AFFECTED,
    CURED,
    TAG_ROOT,
    UNDECIDED,
    UNKNOWN_REVISION,
    RecordScope,
    Target,
)

# prefix (api/, release-), then the version: 2 to 4 dotted numbers, an optional "v".
_RELEASE = re.compile(r"\A(?P<prefix>(?:.*[/_-])?)v?(?P<version>\d+(?:\.\d+){1,3})\Z")
NO_SEVERITY = "none"


@dataclass(frozen=True, order=True)
class Release:
    """A release tag: `version` sorts numerically (4.10 after 4.9)."""

    prefix: str
    version: tuple[int, ...]
    name: str  # the tag's short name, as people type it
    commit: str = field(compare=False)

    @property
    def line(self) -> str:
        return ".".join(str(n) for n in self.version[:2])


def parse_release(name: str, commit: str) -> Release | None:
    m = _RELEASE.match(name)
    if m is None:
        return None
    return Release(m["prefix"], tuple(int(n) for n in m["version"].split(".")), name, commit)


def releases(tags: Iterable[Target]) -> list[Release]:
    """The release tags among `tags`, in version order."""
    found = (
        parse_release(t.ref.removeprefix(TAG_ROOT), t.commit or "")
        for t in tags
        if t.kind == "tag" and t.commit
    )
    return sorted(r for r in found if r is not None)


@dataclass
class Advice:
    """Where to go to be rid of some records: `to` is None when no release will do."""

    ids: list[str]
    to: str | None
    line: str | None  # the deployed release's line, "4.1"
    same_line: bool
    cured_elsewhere: bool = False  # some cure exists, just in no release yet
    released: bool = True  # the deployment runs a release (else: a branch, a SHA)

    def text(self) -> str:
        if self.to is None:
            if self.cured_elsewhere:
                return "no release has the fix yet (the cure is recorded, not released)"
            return "no release has the fix yet (no cure recorded)"
        if not self.released:
            return f"not a release: deploy one with the fix (the first is {self.to})"
        if self.same_line or self.line is None:
            where = f"the first {self.line} release" if self.line else "the first release"
            return f"upgrade to {self.to}, {where} with the fix"
        return (
            f"upgrade to {self.to}, the first release with the fix "
            f"(no fixed release on the {self.line} line yet)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ids": self.ids,
            "to": self.to,
            "line": self.line,
            "same_line": self.same_line,
            "released": self.released,
            "text": self.text(),
        }


@dataclass
class DeploymentRisk:
    target: Target
    status: str  # affected, undecided, unknown-revision, or cured/clean: nothing to do
    uncured: list[Record] = field(default_factory=list)
    undecided: list[Record] = field(default_factory=list)
    release: Release | None = None  # the release it runs, when one is known
    advice: list[Advice] = field(default_factory=list)  # one per uncured record
    upgrade: Advice | None = None  # one release for all uncured records, when more than one

    def to_json(self) -> dict[str, Any]:
        t = self.target
        return {
            "name": t.name,
            "revision": t.ref,
            "commit": t.commit,
            "status": self.status,
            "release": self.release.name if self.release else None,
            "uncured": [r.id for r in self.uncured],
            "undecided": [r.id for r in self.undecided],
            "advice": [a.to_json() for a in self.advice],
            "upgrade": self.upgrade.to_json() if self.upgrade else None,
        }


def severity_rank(severity: str | None) -> int:
    """critical 0, high 1, …, none last: the order people read them in."""
    return SEVERITIES[::-1].index(severity) if severity in SEVERITIES else len(SEVERITIES)


@dataclass
class EnvironmentSummary:
    name: str
    deployments: list[DeploymentRisk]

    @property
    def uncured(self) -> list[Record]:
        """Each record that some deployment here carries, worst first."""
        seen = {r.id: r for d in self.deployments for r in d.uncured}
        return sorted(seen.values(), key=lambda r: (severity_rank(r.severity), r.created, r.id))

    def severities(self) -> dict[str, int]:
        n = Counter(r.severity or NO_SEVERITY for r in self.uncured)
        return {s: n[s] for s in (*SEVERITIES[::-1], NO_SEVERITY) if n[s]}

    def count(self, status: str) -> int:
        return sum(1 for d in self.deployments if d.status == status)

    @property
    def undecided(self) -> list[str]:
        return list(dict.fromkeys(r.id for d in self.deployments for r in d.undecided))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "deployments": len(self.deployments),
            "affected": self.count(AFFECTED),
            "undecided": self.count(UNDECIDED),
            "unknown_revisions": self.count(UNKNOWN_REVISION),
            "uncured": len(self.uncured),
            "severities": self.severities(),
            "records": [r.id for r in self.uncured],
            "undecided_records": self.undecided,
            "targets": [d.to_json() for d in self.deployments],
        }


def environment_of(name: str) -> str:
    return name.split("/", 1)[0]


class Collector:
    """Watches the rows of a scope go by and keeps what the summary needs: per
    deployment the records it carries, and per record the release tags it is cured on
    when tags are among the targets (else `advise` asks for them)."""

    def __init__(self, targets: Sequence[Target], tags: Sequence[Target]) -> None:
        """`targets`: the scope's columns; `tags`: every tag here (the releases)."""
        self.deployments = [t for t in targets if t.kind == "deployment"]
        self.releases = releases(tags)
        # Every tag is a column: its verdicts come with the rows, nothing to ask later.
        self.has_tags = {t.ref for t in tags} <= {t.ref for t in targets if t.kind == "tag"}
        self.uncured: dict[int, list[Record]] = {i: [] for i in range(len(self.deployments))}
        self.undecided: dict[int, list[Record]] = {i: [] for i in range(len(self.deployments))}
        self.status: dict[int, str] = {}
        self.cured_on: dict[str, set[str]] = {}  # record id -> commits of cured release tags
        self.records: dict[str, Record] = {}

    def observe(self, rs: RecordScope) -> None:
        cells = [c for c in rs.cells if c.target.kind == "deployment"]
        hit = False
        for i, c in enumerate(cells):
            if c.status == AFFECTED:
                self.uncured[i].append(rs.record)
                hit = True
            elif c.status == UNDECIDED:
                self.undecided[i].append(rs.record)
            self.status[i] = _worse(self.status.get(i), c.status)
        if hit:
            self.records[rs.record.id] = rs.record
            if self.has_tags:
                self.cured_on[rs.record.id] = {
                    c.target.commit
                    for c in rs.cells
                    if c.target.kind == "tag" and c.status == CURED and c.target.commit
                }

    def rows(self, rows: Iterable[RecordScope]) -> Iterable[RecordScope]:
        for rs in rows:
            self.observe(rs)
            yield rs

    def needs_tags(self) -> list[Record]:
        """The records whose release verdicts are still to be asked."""
        return [r for i, r in self.records.items() if i not in self.cured_on]

    def summary(self, cured_on: dict[str, set[str]] | None = None) -> list[EnvironmentSummary]:
        """The environments, in inventory order; `cured_on` adds the release verdicts
        asked after the rows went by."""
        cured = {**self.cured_on, **(cured_on or {})}
        by_commit: dict[str, list[Release]] = {}
        for rel in self.releases:
            by_commit.setdefault(rel.commit, []).append(rel)
        envs: dict[str, list[DeploymentRisk]] = {}
        for i, t in enumerate(self.deployments):
            status = UNKNOWN_REVISION if t.commit is None else self.status.get(i, "clean")
            worst_first = sorted(
                self.uncured[i], key=lambda r: (severity_rank(r.severity), r.created, r.id)
            )
            risk = DeploymentRisk(t, status, worst_first, self.undecided[i])
            if t.commit is not None:
                risk.release = _deployed_release(t, by_commit.get(t.commit, []))
            if risk.uncured:
                risk.advice = [self._advise([r], risk.release, cured) for r in risk.uncured]
                if len(risk.uncured) > 1:
                    risk.upgrade = self._advise(risk.uncured, risk.release, cured)
            envs.setdefault(environment_of(t.name), []).append(risk)
        return [EnvironmentSummary(name, ds) for name, ds in envs.items()]

    def _advise(
        self, records: list[Record], deployed: Release | None, cured: dict[str, set[str]]
    ) -> Advice:
        ids = [r.id for r in records]
        line = deployed.line if deployed else None
        fixed = [
            rel
            for rel in self.releases
            if all(rel.commit in cured.get(i, set()) for i in ids)
            and (deployed is None or (rel.prefix == deployed.prefix and rel > deployed))
        ]
        same = [rel for rel in fixed if deployed is not None and rel.line == deployed.line]
        pick = (same or fixed)[0] if (same or fixed) else None
        return Advice(
            ids,
            pick.name if pick else None,
            line,
            bool(same),
            cured_elsewhere=all(r.cures for r in records),
            released=deployed is not None,
        )


def _deployed_release(t: Target, here: list[Release]) -> Release | None:
    """The release a deployment runs: the tag it names, else a release tag on its commit."""
    for rel in here:
        if rel.name == t.ref or f"{TAG_ROOT}{rel.name}" == t.ref:
            return rel
    named = parse_release(t.ref, t.commit or "")
    if named is not None:  # "v4.1.2" names a release though its tag is not scanned
        return named
    return here[-1] if here else None


_ORDER = {AFFECTED: 0, UNDECIDED: 1, UNKNOWN_REVISION: 2, CURED: 3}


def _worse(a: str | None, b: str) -> str:
    if a is None:
        return b
    return a if _ORDER.get(a, 9) <= _ORDER.get(b, 9) else b


def release_verdicts(
    scope: Any, records: list[Record], tags: Sequence[Target]
) -> dict[str, set[str]]:
    """record id -> commits of the release tags where the `Checker` finds it cured."""
    wanted = [
        t
        for t in tags
        if t.kind == "tag" and t.commit and parse_release(t.ref.removeprefix(TAG_ROOT), t.commit)
    ]
    if not records or not wanted:
        return {r.id: set() for r in records}
    report = scope.run(records, wanted)
    return {
        rs.record.id: {c.target.commit for c in rs.cells if c.status == CURED and c.target.commit}
        for rs in report.records
    }


def watch(
    run: Any, judge: Any, targets: Sequence[Target], tags: Sequence[Target]
) -> Callable[[], list[EnvironmentSummary]] | None:
    """The per-environment summary of a `ScopeRun` whose targets hold deployments (else
    None): it keeps its part of each row as the run goes by; once the run was read to
    the end, calling the result asks the release tags (`judge`, the run's `Scope`) and
    gives the summary. `tags`: every tag here."""
    if not any(t.kind == "deployment" for t in targets):
        return None
    collector = Collector(targets, tags)
    run.observers.append(collector.observe)
    done: list[list[EnvironmentSummary]] = []

    def summary() -> list[EnvironmentSummary]:
        if not done:
            if not run.done:
                raise RuntimeError("the summary of a scope run that was not read to the end")
            judge.probe_applies = False  # a release takes no cherry-pick
            done.append(collector.summary(release_verdicts(judge, collector.needs_tags(), tags)))
        return done[0]

    return summary
