"""What is being pushed, and how strict to be about it.

Git hands a pre-push hook one stdin line per ref: `<local ref> <local sha> <remote ref>
<remote sha>` (githooks(5)). pre-commit reads that stdin itself and passes only the
first range that has new commits, as `PRE_COMMIT_*` environment variables (see
pre-commit's `hook_impl._pre_push_ns` and `run._run_hooks`, 4.x): FROM_REF/TO_REF when
the remote already has an ancestor, only LOCAL_BRANCH/REMOTE_BRANCH for a new history.
Both become the same `PushedRef` list here; the policy decides what blocks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from poison_tools.errors import EXIT_OK, EXIT_POISONED, FatalError
from poison_tools.git import SourceRepo, is_sha

if TYPE_CHECKING:
    from poison_tools.check import CheckReport, Finding
    from poison_tools.records.store import Staleness
    from poison_tools.trust.verify import Verification

ZERO_SHA = "0" * 40
DEFAULT_HOOK_FETCH_TIMEOUT = 3.0


# Why a push's verdict cannot be trusted (`RefOutcome.doubts`).
UNDECIDED_RECORDS, UNREADABLE, STALE, FAILED = "undecided", "unreadable", "stale", "failed"


@dataclass(frozen=True)
class PushedRef:
    local_ref: str
    local_sha: str | None  # None: pre-commit named the ref but not the commit
    remote_ref: str | None  # None: unknown (a manual `pre-commit run`)
    remote_sha: str | None = None

    @property
    def deletion(self) -> bool:
        return self.local_sha is not None and set(self.local_sha) == {"0"}

    @property
    def branch(self) -> str:
        """The remote branch as people say it (`lts/2.1`), for messages and patterns."""
        ref = self.remote_ref or self.local_ref
        return ref.removeprefix("refs/heads/")


def parse_pre_push(stdin: str) -> list[PushedRef]:
    """The lines git writes to a pre-push hook; a malformed line is an error, not a skip."""
    refs = []
    for n, line in enumerate(stdin.splitlines(), 1):
        if not line.strip():
            continue
        # Ref names cannot hold spaces, but the local "ref" is whatever the user typed
        # as the source of the refspec; split from the right like pre-commit does.
        parts = line.rsplit(maxsplit=3)
        if len(parts) != 4 or not is_sha(parts[1]) or not is_sha(parts[3]):
            raise FatalError(
                f"pre-push input line {n} is not `<local ref> <sha> <remote ref> <sha>`: {line[:80]!r}"
            )
        refs.append(PushedRef(parts[0], parts[1], parts[2], parts[3]))
    return refs


def from_pre_commit_env(env: Mapping[str, str]) -> list[PushedRef] | None:
    """The push pre-commit describes in the environment; None when not run by pre-commit."""
    if env.get("PRE_COMMIT") != "1":
        return None
    to_ref = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_SOURCE")
    local = env.get("PRE_COMMIT_LOCAL_BRANCH")
    remote = env.get("PRE_COMMIT_REMOTE_BRANCH")
    if to_ref:
        return [PushedRef(local or to_ref, to_ref, remote, env.get("PRE_COMMIT_FROM_REF"))]
    if local:
        # A new branch whose history reaches a root commit: pre-commit gives no range,
        # only the names; the tip is what the local ref points at now.
        return [PushedRef(local, None, remote)]
    return []


@dataclass(frozen=True)
class Policy:
    protect: tuple[str, ...] = ()
    strict: bool = False

    @classmethod
    def from_config(cls, repo: SourceRepo, *, strict: bool = False) -> Policy:
        # Several patterns may share one value ("release/* lts/*") or be given with
        # `git config --add`; both read the same.
        patterns = [
            p for v in repo.config.get("poison.protect", []) for p in re.split(r"[\s,]+", v) if p
        ]
        return cls(tuple(patterns), strict)

    def protected(self, ref: PushedRef) -> bool:
        if self.strict:
            return True
        if ref.remote_ref is None:
            return False
        full = ref.remote_ref
        return any(fnmatchcase(ref.branch, p) or fnmatchcase(full, p) for p in self.protect)


def hook_fetch_timeout(repo: SourceRepo) -> float:
    """How long a push may wait for the poisons remote: short, because a push is waiting."""
    raw = repo.config_get("poison.hookfetchtimeout")
    if raw is None:
        return DEFAULT_HOOK_FETCH_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 600:
        raise FatalError(
            f"poison.hookFetchTimeout is not a number of seconds between 0 and 600: {raw!r}"
        )
    return value


def describe_refs(refs: Sequence[PushedRef]) -> str:
    return ", ".join(r.branch for r in refs) or "nothing"


# What the hook found in a push: data for `push_render.report_lines`.


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
    def doubts(self) -> list[tuple[str, int | str]]:
        """Why the verdict is not trustworthy, each one blocking a protected branch:
        (`UNDECIDED`, how many), (`UNREADABLE`, how many), (`STALE`, 0) or (`FAILED`, the
        error). Worded by `push_render.doubt_text`."""
        if self.skipped:
            return []
        if self.error:
            return [(FAILED, self.error)]
        assert self.report is not None
        out: list[tuple[str, int | str]] = []
        if self.report.undecided:
            out.append((UNDECIDED_RECORDS, len(self.report.undecided)))
        if self.report.problems:
            out.append((UNREADABLE, len(self.report.problems)))
        if self.report.stale is not None:
            out.append((STALE, 0))
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
