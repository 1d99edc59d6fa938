"""Which parts of each record the trust policy vouches for (`check --verify`, issue 14).

A record is the sum of the commits that changed its file. Each change is attributed to
its commit, and counts as trusted when that commit carries a good signature by a
principal the policy allows that kind of change (`add`: the record, its poisons and
text; `cure`: a cure; `withdraw`: a withdrawal), or lies in the policy's `baseline`.
The history is replayed once, oldest commit first, merges included (`git log --raw -m`
over the whole branch; one `cat-file` for the versions, one signature check for the
commits not checked before), and each file's state follows the version it came from.

Fail closed: untrusted evidence can only make a verdict worse, never better.
- a poison counts whoever added it; a poison removed by an untrusted commit still counts;
- a cure counts only if a trusted commit added it, or a trusted commit vouched for it
  later (`git poison cure` of a cure already recorded writes a `Poison-Cure: <sha>`
  trailer for that);
- a withdrawal counts only if a trusted commit made it.
- a record whose file was deleted counts as it last was, unless a trusted commit had
  withdrawn it first.
Every change still in effect that the policy does not vouch for is a `Doubt`, reported.
`settle()` then turns a verdict that only an untrusted cure or withdrawal made healthy
into "undecided": the gate cannot tell a real fix from a forged one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from poison_tools.git import is_sha
from poison_tools.raw_log import HEADER_FORMAT, RawCommit, parse_raw_log
from poison_tools.records.record import (
    MAX_FILE_BYTES,
    Problem,
    Record,
    is_record_path,
    parse_record,
)
from poison_tools.records.store import PoisonStore, Snapshot
from poison_tools.trust import cache as trust_cache
from poison_tools.trust.policy import ACTIONS, Policy, PolicyError, load_policy
from poison_tools.trust.signatures import Signature, verify

if TYPE_CHECKING:
    from poison_tools.check import Checker, CheckReport, Finding, ReleaseReport

ADD, CURE, WITHDRAW = ACTIONS
_TEXT = ("comment", "bug", "severity", "editor")
_ZERO = "0" * 40
MERGED = ""  # the commit of a doubt made by reading diverged local and remote records


@dataclass(frozen=True)
class Doubt:
    """A change still in effect that the policy does not vouch for."""

    commit: str  # MERGED: the merge of local and remote records made while reading
    action: str  # add, cure, withdraw: the permission it would have needed
    what: str  # "created the record", "added cure 9f8e7d6c5b4a", ...
    counted: bool  # whether --verify still counts it (a poison does; a cure does not)
    item: str = ""  # the cure or poison SHA it is about


@dataclass(frozen=True)
class _State:
    """What the policy vouches for in one version of one record file."""

    blob: str
    record: Record | None  # None: the version cannot be read
    cures: frozenset[str] = frozenset()  # the trusted ones
    poisons: frozenset[str] = frozenset()  # effective: recorded, or removed untrusted
    withdrawal: bool = False  # record.withdrawn is vouched for
    doubts: tuple[tuple[tuple[str, str], Doubt], ...] = ()


@dataclass
class Untrusted:
    """A doubt, with what is needed to show it: the record, the commit's word, the signature."""

    id: str
    doubt: Doubt
    author: str = ""
    signature: Signature = field(default_factory=lambda: Signature("N"))

    def describe(self) -> str:
        if self.doubt.commit == MERGED:
            by = "the merge of local and remote records"
        else:
            by = f"{self.doubt.commit[:12]} ({self.author}, {self.signature.describe()})"
        tail = "still counted" if self.doubt.counted else "not counted"
        return f"{self.id}: {self.doubt.what} by {by}; needs '{self.doubt.action}': {tail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "commit": self.doubt.commit or None,
            "author": self.author,
            "signature": self.signature.to_json(),
            "action": self.doubt.action,
            "what": self.doubt.what,
            "item": self.doubt.item or None,
            "counted": self.doubt.counted,
        }


def _transition(
    record: Record,
    parents: list[_State],
    blob: str,
    commit: str,
    trusted: Callable[[str], bool],
    vouched: frozenset[str],
) -> _State:
    """The state of a new version `record` written by `commit` over `parents`."""
    known = [p for p in parents if p.record is not None]
    doubts: dict[tuple[str, str], Doubt] = {}

    def inherited(key: tuple[str, str], holders: list[_State]) -> Doubt | None:
        """The doubt `key` of the parents holding the same value, or None if one of
        them holds it trusted (a trusted parent's value is trusted here too)."""
        found = None
        for p in holders:
            d = dict(p.doubts).get(key)
            if d is None:
                return None
            found = found or d
        return found

    # Cures: trusted when a parent trusted them, or a trusted curer added or vouched them.
    cures = set()
    may_cure = trusted(CURE)
    for c in record.cures:
        holders = [p for p in known if c in p.record.cures]  # type: ignore[union-attr]
        if any(c in p.cures for p in holders) or (may_cure and (not holders or c in vouched)):
            cures.add(c)
            continue
        d = inherited(("cure", c), holders) if holders else None
        doubts[("cure", c)] = d or Doubt(commit, CURE, f"added cure {c[:12]}", False, c)
    # Poisons: every recorded one counts; one removed counts on unless a trusted adder removed it.
    may_add = trusted(ADD)
    recorded = set(record.poisons)
    before_actual = {p for s in known for p in s.record.poisons}  # type: ignore[union-attr]
    before_effective = {p for s in known for p in s.poisons}
    removed_now = before_actual - recorded
    poisons = recorded | (before_effective - recorded - (removed_now if may_add else set()))
    for p in sorted(poisons - recorded):
        holders = [s for s in known if p in s.poisons]
        d = inherited(("unpoison", p), holders) if p not in removed_now else None
        doubts[("unpoison", p)] = d or Doubt(commit, ADD, f"removed poison {p[:12]}", True, p)
    if not known:
        if not may_add:
            doubts[("record", "")] = Doubt(commit, ADD, "created the record", True)
    else:
        created = inherited(("record", ""), known)
        if created is not None:
            doubts[("record", "")] = created
        for p in sorted(recorded - before_actual):
            if not may_add:
                doubts[("poison", p)] = Doubt(commit, ADD, f"added poison {p[:12]}", True, p)
        for p in sorted(recorded & before_actual):
            holders = [s for s in known if p in s.record.poisons]  # type: ignore[union-attr]
            d = inherited(("poison", p), holders)
            if d is not None:
                doubts[("poison", p)] = d
        for name in _TEXT:
            value = getattr(record, name)
            holders = [s for s in known if getattr(s.record, name) == value]
            if holders:
                d = inherited(("edit", name), holders)
            else:
                d = None if may_add else Doubt(commit, ADD, f"changed {name}", True)
            if d is not None:
                doubts[("edit", name)] = d
    # The withdrawal: vouched for when a trusted withdrawer wrote it (or rewrote it).
    withdrawal = False
    if record.withdrawn is not None:
        holders = [s for s in known if s.record.withdrawn == record.withdrawn]  # type: ignore[union-attr]
        if any(s.withdrawal for s in holders) or (not holders and trusted(WITHDRAW)):
            withdrawal = True
        else:
            d = inherited(("withdraw", ""), holders) if holders else None
            doubts[("withdraw", "")] = d or Doubt(commit, WITHDRAW, "withdrew it", False)
    return _State(
        blob,
        record,
        frozenset(cures),
        frozenset(poisons),
        withdrawal,
        tuple(sorted(doubts.items())),
    )


@dataclass
class Verification:
    """The policy's verdict on every record of one snapshot."""

    policy: Policy
    # As read, plus the records deleted without a withdrawal the policy vouches for.
    snapshot: Snapshot
    effective: dict[str, Record]  # id -> the record as --verify counts it
    untrusted: list[Untrusted]
    policy_stale: str | None = None

    def settle_release(self, checker: Checker, report: ReleaseReport) -> None:
        """`settle` the release's verdict; a bugfix only an untrusted cure makes is none."""
        from poison_tools.check import CURED

        self.settle(checker, report.current)
        cured = {f.record.id for f in report.current.findings if f.status == CURED}
        report.fixed = [f for f in report.fixed if f.record.id in cured]

    @property
    def counted(self) -> Snapshot:
        """The snapshot a `Checker` is built on: every poison that counts, every
        recorded cure (so that both verdicts below can be asked), and only the
        withdrawals the policy vouches for."""
        records = {}
        for rid, rec in self.snapshot.records.items():
            eff = self.effective.get(rid, rec)
            records[rid] = replace(rec, poisons=eff.poisons, withdrawn=eff.withdrawn)
        return replace(self.snapshot, records=records)

    def settle(self, checker: Checker, report: CheckReport) -> None:
        """Judge each record as the policy counts it: a verdict that only an untrusted
        cure or withdrawal would make healthy becomes undecided."""
        from poison_tools.check import POISONED, UNDECIDED, CureElsewhere
        from poison_tools.reach.answer import refs_holding

        affected = [
            i
            for i, f in enumerate(report.findings)
            if f.record.cures != self.effective.get(f.record.id, f.record).cures
            or self._untrusted_withdrawal(f.record.id)
        ]
        if not affected:
            return
        answer = checker.answer(report.target)
        for i in affected:
            f = report.findings[i]
            eff = self.effective[f.record.id]
            judged: Finding = checker.judge(replace(f.record, cures=eff.cures), answer)
            claimed_healthy = f.status != POISONED or self._untrusted_withdrawal(f.record.id)
            if judged.status == POISONED and claimed_healthy:
                judged.status = UNDECIDED  # only untrusted evidence says it is not
                # The cures the policy does vouch for, and where they are: the way out.
                holders = refs_holding(checker.reach, eff.cures)
                judged.cures_elsewhere = [
                    CureElsewhere(c, tuple(holders.get(c, ()))) for c in eff.cures
                ]
            elif judged.status == POISONED:
                judged = f  # poisoned either way: keep the cures found elsewhere
            report.findings[i] = judged

    def _untrusted_withdrawal(self, record_id: str) -> bool:
        rec = self.snapshot.records.get(record_id)
        return bool(rec and rec.withdrawn and not self.effective[record_id].withdrawn)

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy.to_json(), "untrusted": [u.to_json() for u in self.untrusted]}


def verify_snapshot(store: PoisonStore, snapshot: Snapshot) -> Verification:
    """Replay the records' history against the trust policy; `PolicyError` when there is
    no policy to verify against (verification asked for cannot pass without one)."""
    loaded = load_policy(store)
    policy = loaded.policy
    if policy is None:
        raise PolicyError(
            "no trust policy to verify against: the poisons repository has no branch "
            "poison-policy (see docs/trust.md)"
        )
    tips = sorted({t for t in store._tips() if t})
    cache_key = trust_cache.key(
        tips, snapshot.tip, policy.commit, policy.allowed_signers, snapshot.records
    )
    cached = trust_cache.read(store.path, cache_key)
    read = snapshot
    snapshot = replace(snapshot, records=dict(snapshot.records))
    untrusted: list[Untrusted] | None = None
    if cached is not None:
        verdicts, described, deleted = cached
        try:
            untrusted = [_untrusted_of(u) for u in described]
            snapshot.records.update({r.id: r for r in deleted})
        except (KeyError, TypeError, ValueError, AttributeError):
            untrusted = None  # a damaged cache: replay
        if set(verdicts) != set(snapshot.records):
            untrusted = None
    if untrusted is None:
        snapshot = replace(read, records=dict(read.records))
        verdicts, doubts = _verdicts(store, snapshot, tips, policy)
        untrusted = _described(store, policy, doubts)
        trust_cache.write(
            store.path,
            cache_key,
            verdicts,
            [u.to_json() for u in untrusted],
            [r for rid, r in snapshot.records.items() if rid not in read.records],
        )
    effective: dict[str, Record] = {}
    for rid, rec in snapshot.records.items():
        cures, extra, withdrawal = verdicts[rid]
        effective[rid] = replace(
            rec,
            cures=tuple(c for c in rec.cures if c in cures),
            poisons=tuple(dict.fromkeys([*rec.poisons, *extra])),
            withdrawn=rec.withdrawn if withdrawal else None,
        )
    return Verification(policy, snapshot, effective, untrusted, loaded.stale)


def _verdicts(
    store: PoisonStore, snapshot: Snapshot, tips: list[str], policy: Policy
) -> tuple[trust_cache.Verdicts, dict[str, list[Doubt]]]:
    """Replay the history: what the policy vouches for in each record, and the doubts.
    `snapshot` gains the records whose file was deleted without a withdrawal the policy
    vouches for: with --verify they count as if still there (fail closed)."""
    states, buried = _replay(store, tips, policy) if tips else ({}, {})
    verdicts: trust_cache.Verdicts = {}
    doubts: dict[str, list[Doubt]] = {}
    for rid, (state, deleting) in sorted(buried.items()):
        if rid in snapshot.records or rid in snapshot.claimed or state.record is None:
            continue
        if state.record.withdrawn is not None and state.withdrawal:
            continue  # withdrawn properly, then deleted: nothing is lost
        snapshot.records[rid] = state.record
        verdicts[rid] = (
            sorted(state.cures),
            sorted(state.poisons - set(state.record.poisons)),
            False,
        )
        doubts[rid] = [
            *(d for _k, d in state.doubts),
            Doubt(deleting, WITHDRAW, "deleted its file", False),
        ]
    for rid, rec in snapshot.records.items():
        if rid in verdicts:
            continue
        parents = [states[t][rec.path] for t in tips if rec.path in states.get(t, {})]
        same = [s for s in parents if s.record == rec]
        if snapshot.tip is not None and same:
            state = same[0]
        else:
            # Read from diverged local and remote records (or not found at all): the
            # merge made while reading vouches for nothing new.
            state = _transition(rec, parents, "", MERGED, lambda _a: False, frozenset())
        verdicts[rid] = (
            sorted(state.cures),
            sorted(state.poisons - set(rec.poisons)),
            state.withdrawal,
        )
        doubts[rid] = [d for _k, d in state.doubts]
    return verdicts, doubts


def _untrusted_of(data: dict[str, Any]) -> Untrusted:
    sig = data.get("signature") or {}
    return Untrusted(
        str(data["id"]),
        Doubt(
            str(data.get("commit") or MERGED),
            str(data["action"]),
            str(data["what"]),
            bool(data["counted"]),
            str(data.get("item") or ""),
        ),
        str(data.get("author", "")),
        Signature(str(sig.get("code", "E")), str(sig.get("key", "")), str(sig.get("signer", ""))),
    )


def _described(
    store: PoisonStore, policy: Policy, doubts: dict[str, list[Doubt]]
) -> list[Untrusted]:
    commits = sorted({d.commit for ds in doubts.values() for d in ds if d.commit})
    sigs = verify(store, commits, policy.allowed_signers)
    authors = _authors(store, commits)
    out = [
        Untrusted(rid, d, authors.get(d.commit, ""), sigs.get(d.commit, Signature("N")))
        for rid, ds in sorted(doubts.items())
        for d in ds
    ]
    return out


def _authors(store: PoisonStore, commits: list[str]) -> dict[str, str]:
    if not commits:
        return {}
    out = store._git(
        ["log", "--no-walk=unsorted", "--stdin", "-z", "--format=%H%x00%an <%ae>"],
        input="".join(c + "\n" for c in commits).encode(),
    ).stdout
    fields = out.decode("utf-8", "replace").split("\0")
    return {fields[i].strip(): fields[i + 1] for i in range(0, len(fields) - 1, 2)}


def _replay(
    store: PoisonStore, tips: list[str], policy: Policy
) -> tuple[dict[str, dict[str, _State]], dict[str, tuple[_State, str]]]:
    """tip -> path -> state, for every record file at each of `tips`; and id -> (last
    state, deleting commit) of every record whose file was deleted at some point."""
    out = store._git(
        [
            "-c",
            "log.showSignature=false",
            "log",
            "--topo-order",
            "--reverse",
            "-m",
            "--root",
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "-z",
            HEADER_FORMAT,
            *tips,
            "--",
        ]
    ).stdout
    entries = parse_raw_log(out)
    commits: dict[str, list[RawCommit]] = {}
    for e in entries:  # a merge comes once per parent, in the parents' order
        commits.setdefault(e.commit, []).append(e)
    order = list(commits)
    sigs = verify(store, order, policy.allowed_signers)
    baseline = _baseline(store, policy)
    vouched = _vouched(
        store, [c for c in order if sigs[c].by_policy and policy.may(sigs[c].signer, CURE)]
    )
    blobs = _parsed_versions(store, entries)

    def trusted_by(commit: str) -> Callable[[str], bool]:
        sig = sigs.get(commit)

        def may(action: str) -> bool:
            return commit in baseline or bool(
                sig and sig.by_policy and policy.may(sig.signer, action)
            )

        return may

    children: dict[str, int] = {}
    for c in order:
        for p in commits[c][0].parents:
            children[p] = children.get(p, 0) + 1
    pinned = set(tips)
    states: dict[str, dict[str, _State]] = {}
    # id -> the last state of a record whose file was deleted: a restore or a move to
    # records/<id>.json continues from it instead of starting afresh.
    buried: dict[str, tuple[_State, str]] = {}
    for c in order:
        # With -m the first block is the diff against the first parent: the files it
        # does not name are as that parent has them, states included.
        block = commits[c][0]
        first = block.parents[0] if block.parents else None
        if first is None:
            files: dict[str, _State] = {}
        elif children.get(first) == 1 and first not in pinned:
            files = states.pop(first, {})  # its only child carries its dict on: no copy
        else:
            files = dict(states.get(first, {}))
        others = [states.get(p, {}) for p in block.parents[1:]]
        may, vouch = trusted_by(c), vouched.get(c, frozenset())
        changes = [ch for ch in block.changes if is_record_path(ch.path)]
        for ch in changes:
            if ch.new == _ZERO:  # deletions first: a file moved in this commit is buried
                gone = files.pop(ch.path, None)
                if gone is not None and gone.record is not None:
                    buried[gone.record.id] = (gone, c)
        for ch in changes:
            if ch.new == _ZERO:
                continue
            before = [
                st
                for st in (files.get(ch.path), *(o.get(ch.path) for o in others))
                if st is not None
            ]
            same = next((st for st in before if st.blob == ch.new), None)
            parsed = blobs.get(ch.new)
            if same is not None:
                files[ch.path] = same  # as a parent had it: that parent's state
            elif isinstance(parsed, Record):
                if not before and parsed.id in buried:
                    # The record comes back (restored, or moved from an original-format
                    # file): what it was vouched for stays; its restorer vouches for nothing.
                    before = [buried[parsed.id][0]]
                files[ch.path] = _transition(parsed, before, ch.new, c, may, vouch)
            else:
                files[ch.path] = _State(ch.new, None)
        states[c] = files
        for p in block.parents:
            children[p] = children.get(p, 0) - 1
            if children[p] <= 0 and p not in pinned:
                states.pop(p, None)
    return {t: states.get(t, {}) for t in tips}, buried


def _baseline(store: PoisonStore, policy: Policy) -> set[str]:
    if not policy.baseline:
        return set()
    proc = store._git(["rev-list", *policy.baseline, "--"], check=False)
    if proc.returncode != 0:
        raise PolicyError(
            "trust policy poison-policy:policy.json: a 'baseline' commit is not in the poisons "
            "repository"
        )
    return set(proc.stdout.decode().split())


def _vouched(store: PoisonStore, commits: list[str]) -> dict[str, frozenset[str]]:
    """commit -> the cures its message vouches for (`Poison-Cure: <sha>` trailers)."""
    if not commits:
        return {}
    out = (
        store._git(
            [
                "log",
                "--no-walk=unsorted",
                "--stdin",
                "-z",
                "--format=%H%x00%(trailers:key=Poison-Cure,valueonly,separator=%x20)",
            ],
            input="".join(c + "\n" for c in commits).encode(),
        )
        .stdout.decode("utf-8", "replace")
        .split("\0")
    )
    found = {}
    for i in range(0, len(out) - 1, 2):
        shas = frozenset(w for w in out[i + 1].split() if is_sha(w))
        if shas:
            found[out[i].strip()] = shas
    return found


def _parsed_versions(
    store: PoisonStore, entries: Iterable[RawCommit]
) -> dict[str, Record | Problem]:
    """blob -> its parse, for every version of a record file in the history."""
    paths: dict[str, str] = {}
    for e in entries:
        for ch in e.changes:
            if ch.new != _ZERO and is_record_path(ch.path):
                paths.setdefault(ch.new, ch.path)
    if not paths:
        return {}
    oids = list(paths)
    sizes = (
        store._git(
            ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
            input="".join(o + "\n" for o in oids).encode(),
        )
        .stdout.decode()
        .splitlines()
    )
    small = []
    parsed: dict[str, Record | Problem] = {}
    for line in sizes:
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob" and parts[2].isdigit():
            if int(parts[2]) <= MAX_FILE_BYTES:
                small.append(parts[0])
            else:
                parsed[parts[0]] = Problem(paths[parts[0]], "file too large")
    for oid, blob in store._blobs(small).items():
        parsed[oid] = parse_record(paths[oid], blob)
    return parsed


__all__ = ["Doubt", "Untrusted", "Verification", "verify_snapshot"]
