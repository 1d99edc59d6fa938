"""What the poisons remote's answers mean: a race to retry, or a refusal to report.

A write retries while it loses races to other writers (a hundred times, with backoff);
everything else the remote says is final and reported at once, with git's reason.
Remote messages are the remote's text: shown through `term.printable`.
"""

from __future__ import annotations

from dataclasses import dataclass

from poison_tools.errors import FatalError
from poison_tools.term import printable


def git_reason(stderr: str, default: str) -> str:
    """The line of git's complaint that says what went wrong (its first `fatal:`)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith("fatal: ")]
    return (fatal[0] if fatal else lines[-1] if lines else default).removeprefix("fatal: ")


@dataclass(frozen=True)
class PushRefused:
    """The remote answered, and said no for a reason that is not a race."""

    reason: str

    def kept(self, ids: list[str]) -> FatalError:
        where = f"kept locally: {', '.join(ids)}" if ids else "the records made here stay local"
        return FatalError(
            f"the poisons remote refused the push ({self.reason}); {where}; "
            "`git poison sync` shares them once the remote accepts them"
        )


# Why a remote may refuse a push when somebody else got there first: asking again,
# on top of the newer records, succeeds. `[rejected]` comes from this side (the
# remote's tip moved since our fetch), `[remote rejected]` from the remote's ref update.
_RACES = (
    "fetch first",
    "non-fast-forward",
    "stale info",
    "failed to update ref",
    "failed to lock",
    "cannot lock ref",
    "incorrect old value",
)


def push_outcome(out: str, err: str) -> str | PushRefused:
    """Read a failed `git push --porcelain`: "retry" (a race), or why it was refused.

    Only git's own status line of the ref is read to decide: words in the remote's
    messages ("unable to create…", "…is at…") are the remote's to choose, and once
    made a refused push look like a race, retried a hundred times ("too busy")."""
    status = [ln.split("\t") for ln in out.splitlines() if ln.startswith("!")]
    remote = [
        ln.removeprefix("remote:").strip() for ln in err.splitlines() if ln.startswith("remote:")
    ]
    said = next((ln for ln in remote if ln), "")
    if not status:
        # No ref was even tried (authentication, a read-only URL, the connection): the
        # remote answered our fetch a moment ago, so this is its answer, not a race.
        return PushRefused(printable(git_reason(err, "push failed")))
    summary = status[0][2] if len(status[0]) > 2 else ""
    reason = summary.partition("(")[2].rpartition(")")[0] or summary.strip()
    if reason.startswith(_RACES):
        return "retry"
    unpack = next((ln for ln in err.splitlines() if "remote unpack failed" in ln), "")
    detail = said or unpack.removeprefix("error: ")
    return PushRefused(printable(f"{reason}: {detail}" if detail else reason))
