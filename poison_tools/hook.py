"""The pre-push hook: check every tip being pushed before it leaves the machine.

`check_push()` is the core (data in, data out); `main()` only reads what git or
pre-commit hands over, renders with `render.py`, and returns the exit code git acts on:
0 the push goes on (healthy, or warnings only), 1 blocked by policy, 2 the hook could
not run (bad input or configuration). argparse rather than click keeps the import of
this module cheap: it runs on every push.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from poison_tools.check import Checker, CheckReport, Finding
from poison_tools.error_handler import error_handler
from poison_tools.errors import EXIT_OK, EXIT_POISONED, FatalError
from poison_tools.git import SourceRepo
from poison_tools.prepush import (
    Policy,
    PushedRef,
    from_pre_commit_env,
    hook_fetch_timeout,
    parse_pre_push,
)
from poison_tools.progress import Progress
from poison_tools.reach.engine import reachability
from poison_tools.records.misspelt import project_warning
from poison_tools.records.store import PoisonStore, Snapshot, Staleness
from poison_tools.render import (
    Styler,
    copies_line,
    finding_lines,
    problem_lines,
    short,
    unfixed_line,
)

if TYPE_CHECKING:
    from poison_tools.trust.verify import Verification

BYPASS = "`git push --no-verify` (or SKIP=git-poison with pre-commit)"


@dataclass
class RefOutcome:
    ref: PushedRef
    protected: bool
    commit: str | None = None
    report: CheckReport | None = None
    error: str | None = None  # could not check this ref at all
    skipped: str | None = None  # nothing to check (a deletion, a tag on a tree)

    @property
    def missing_cures(self) -> list[Finding]:
        """Poisons cured somewhere else: a missed backport, the reason this hook exists."""
        return [f for f in self.report.poisoned if f.record.cures] if self.report else []

    @property
    def unfixed(self) -> list[Finding]:
        return [f for f in self.report.poisoned if not f.record.cures] if self.report else []

    @property
    def doubts(self) -> list[str]:
        """Why the verdict is not trustworthy; each one blocks a protected branch."""
        if self.skipped:
            return []
        if self.error:
            return [self.error]
        assert self.report is not None
        out = []
        if self.report.undecided:
            out.append(f"{len(self.report.undecided)} poison(s) could not be decided")
        if self.report.problems:
            out.append(f"{len(self.report.problems)} unreadable record(s)")
        if self.report.stale is not None:
            out.append("the records could not be refreshed")
        return out

    @property
    def blocked(self) -> bool:
        # Known unfixed bugs never block: there is nothing to cherry-pick, and blocking
        # them would block the push of their own fix.
        return self.protected and bool(self.missing_cures or self.doubts)


@dataclass
class PushReport:
    outcomes: list[RefOutcome] = field(default_factory=list)
    stale: Staleness | None = None
    # Said before the verdicts: a misspelt poison.project, damaged caches read around.
    warnings: list[str] = field(default_factory=list)
    verification: Verification | None = None  # poison.verify: the trust policy's view

    @property
    def blocked(self) -> list[RefOutcome]:
        return [o for o in self.outcomes if o.blocked]

    @property
    def exit_code(self) -> int:
        return EXIT_POISONED if self.blocked else EXIT_OK


def _tip(repo: SourceRepo, ref: PushedRef) -> tuple[str | None, str | None]:
    """(commit, why not): the commit the pushed object is, or why there is none."""
    rev = ref.local_sha or ref.local_ref
    try:
        return repo.resolve_commit(rev), None
    except FatalError as e:
        exists = repo.git(["cat-file", "-e", "--end-of-options", rev], check=False).returncode == 0
        if exists and ref.local_sha:
            return None, "not a commit"  # e.g. a tag of a tree: no history to carry a poison
        return None, str(e)


def check_push(
    repo: SourceRepo,
    refs: Sequence[PushedRef],
    policy: Policy,
    *,
    store: PoisonStore,
    progress: Progress | None = None,
    verify: bool = False,
) -> PushReport:
    """Judge each pushed tip against one snapshot of the records (one fetch per push).

    Nothing is read or fetched for a push of deletions only."""
    report = PushReport()
    snapshot: Snapshot | None = None
    checker: Checker | None = None
    load_error: str | None = None
    by_commit: dict[str, CheckReport] = {}
    for ref in refs:
        out = RefOutcome(ref, policy.protected(ref))
        report.outcomes.append(out)
        if ref.deletion:
            out.skipped = "deletion"
            continue
        out.commit, why = _tip(repo, ref)
        if out.commit is None:
            if why == "not a commit":
                out.skipped = why
            else:
                out.error = why
            continue
        if snapshot is None and load_error is None:
            try:
                snapshot = store.load()
                report.stale = snapshot.stale
                unknown = project_warning(store, snapshot)
                # Before --verify narrows the snapshot to what the policy counts.
                report.warnings = [*([unknown] if unknown else []), *snapshot.notices]
                if verify:
                    from poison_tools.trust.verify import verify_snapshot

                    report.verification = verify_snapshot(store, snapshot)
                    snapshot = report.verification.counted
                checker = Checker(repo, snapshot, reach=reachability(repo, progress), progress=progress)
            except FatalError as e:
                load_error = f"cannot read the poison records: {e}"
        if load_error is not None or checker is None:
            out.error = load_error
            continue
        if out.commit not in by_commit:
            try:
                by_commit[out.commit] = checker.check(out.commit, ref.local_ref)
                if report.verification is not None:
                    report.verification.settle(checker, by_commit[out.commit])
            except FatalError as e:
                out.error = str(e)
                continue
        out.report = by_commit[out.commit]
    if checker is not None:
        report.warnings += [*checker.notices, *checker.reach.notices]
    return report


def _why_protected(policy: Policy) -> str:
    if policy.strict:
        return "--strict"
    return "poison.protect = " + " ".join(policy.protect)


def report_lines(push: PushReport, policy: Policy, style: Styler) -> list[str]:
    name = style("git-poison", "bold")
    lines: list[str] = []
    if push.stale is not None:
        lines.append(f"{name}: {style('warning:', 'yellow')} {push.stale.describe()}")
    lines += [f"{name}: {style('warning:', 'yellow')} {w}" for w in push.warnings]
    if push.verification is not None:
        from poison_tools.trust_render import untrusted_lines

        # Only what the policy does not count (cures, withdrawals): they change verdicts.
        lines += [f"{name}: {ln}" for ln in untrusted_lines(push.verification, style,
                                                             only_uncounted=True)]
    for o in push.outcomes:
        where = o.ref.branch + (f" ({short(o.commit)})" if o.commit else "")
        if o.skipped:
            lines.append(f"{name}: {o.ref.branch}: {o.skipped}, nothing to check")
            continue
        if o.error:
            lines.append(f"{name}: {style('could not check', 'yellow')} {where}: {o.error}")
            continue
        assert o.report is not None
        missing, unfixed, undecided = o.missing_cures, o.unfixed, o.report.undecided
        if not (missing or undecided or o.report.problems):
            tail = f"; {len(unfixed)} known unfixed bug(s)" if unfixed else ""
            lines.append(f"{name}: {where} carries no poison cured elsewhere{tail}")
        else:
            n = len(missing)
            head = f"{where} lacks the cure of {n} poison{'s' if n != 1 else ''} fixed elsewhere"
            if not missing:
                head = f"could not decide whether {where} is poisoned"
            lines.append(f"{name}: {style(head, 'red' if missing else 'yellow', 'bold')}")
        for f in missing + undecided:
            lines += finding_lines(f, style)
        if o.report.copies == "incomplete":
            lines.append(copies_line(o.report.gap, style))
        lines += problem_lines(o.report.problems, style)
        lines += [unfixed_line(f, style) for f in unfixed]
    blocked = push.blocked
    if blocked:
        branches = ", ".join(o.ref.branch for o in blocked)
        reasons = sorted({d for o in blocked for d in o.doubts})
        lines.append(
            style(
                f"{name}: push blocked: {branches} is protected ({_why_protected(policy)})",
                "red",
                "bold",
            )
            + (f"; {'; '.join(reasons)}" if reasons else "")
        )
        lines.append(
            f"  cherry-pick the cures above and push again; in an emergency bypass with {BYPASS}"
        )
    elif any(o.missing_cures or o.doubts for o in push.outcomes):
        lines.append(
            f"{name}: the push goes on (branch not protected; see `git config poison.protect`)"
        )
    return lines


def _refs(args: argparse.Namespace, env: Mapping[str, str], stdin: str | None) -> list[PushedRef]:
    if not args.remote:
        from_env = from_pre_commit_env(env)
        if from_env is not None:
            # `pre-commit run --hook-stage pre-push` by hand describes no push.
            return from_env or [PushedRef("HEAD", None, None)]
    if stdin is None:
        raise FatalError(
            "no push to check: git runs this as a pre-push hook and writes the refs on stdin "
            "(to check a commit by hand, run `git poison check`)"
        )
    return parse_pre_push(stdin)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="git-poison-hook",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="pre-push hook: warn (or block) when a pushed branch carries a poison cured elsewhere.",
        epilog="""examples:
  git poison install-hook                     # plain git: writes .git/hooks/pre-push
  pre-commit install --hook-type pre-push     # with `id: git-poison` in .pre-commit-config.yaml
  git config --add poison.protect 'release/*' # block pushes to these branches
  git config poison.hookFetchTimeout 2        # seconds to wait for the poisons remote

exit codes: 0 push goes on, 1 push blocked, 2 the hook could not run.
Bypass in an emergency: git push --no-verify""",
    )
    p.add_argument("remote", nargs="?", help="remote name (git passes it)")
    p.add_argument("url", nargs="?", help="remote URL (git passes it)")
    p.add_argument(
        "--strict", action="store_true", help="block on every branch, not only protected ones"
    )
    p.add_argument("--no-fetch", action="store_true", help="use the last fetched records")
    p.add_argument("--verify", action="store_true", default=None,
                   help="count only what the trust policy vouches for (default: poison.verify)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from poison_tools.reach.engine import warm_index_imports
    from poison_tools.term import StderrProgress, Style, use_color

    warm_index_imports()  # while the records are fetched and read

    style = Style(use_color(sys.stderr))
    # The first push in a big clone builds the reachability index: show that it moves
    # (drawn on a terminal; in a CI log, a plain line every few seconds once it is slow).
    progress = StderrProgress(sys.stderr)
    with error_handler("git-poison", hint=f"bypass: {BYPASS}"):
        stdin = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
        repo = SourceRepo.discover()
        refs = _refs(args, os.environ, stdin)
        policy = Policy.from_config(repo, strict=args.strict)
        fetch = not args.no_fetch and os.environ.get("GIT_POISON_NO_FETCH") != "1"
        store = PoisonStore(repo, fetch=fetch)
        store.fetch_timeout = hook_fetch_timeout(repo)
        verify = args.verify or repo.config_bool("poison.verify", False)
        push = check_push(repo, refs, policy, store=store, progress=progress, verify=verify)
        for line in report_lines(push, policy, style):
            print(line, file=sys.stderr)
        return push.exit_code
    raise AssertionError("error_handler raises SystemExit for what it catches")


if __name__ == "__main__":
    raise SystemExit(main())
