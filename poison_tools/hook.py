"""The pre-push hook: check every tip being pushed before it leaves the machine.

`check_push()` is the core (data in, data out); `main()` only reads what git or
pre-commit hands over, prints the lines `push_render.py` makes of the outcome, and
returns the exit code git acts on: 0 the push goes on (healthy, or warnings only), 1 blocked by policy, 2 the hook could
not run (bad input or configuration). argparse rather than click keeps the import of
this module cheap: it runs on every push.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from poison_tools.check import Checker, CheckReport, open_checker
from poison_tools.error_handler import error_handler
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.prepush import (
    Policy,
    PushedRef,
    PushReport,
    RefOutcome,
    from_pre_commit_env,
    hook_fetch_timeout,
    parse_pre_push,
)
from poison_tools.progress import Progress
from poison_tools.push_render import BYPASS, report_lines
from poison_tools.reach.engine import reachability
from poison_tools.records.misspelt import project_warning
from poison_tools.records.store import PoisonStore, Snapshot


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
                checker = open_checker(
                    repo, snapshot, reach=reachability(repo, progress), progress=progress
                )
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
    p.add_argument(
        "--verify",
        action="store_true",
        default=None,
        help="count only what the trust policy vouches for (default: poison.verify)",
    )
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
