"""Carry a cure onto the current branch: `git cherry-pick -x <cure>`, safely.

The `-x` trailer ("cherry picked from commit …") is what lets git-poison recognise
the copy as the recorded cure. The work tree must be clean first: a conflict is then
undone with `git cherry-pick --abort`, which restores HEAD, index and files exactly,
and nothing the user had not committed can be caught up in it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo, is_sha


def cherry_pick_line(commit: str) -> str:
    """The line that carries a cure onto the current branch, as every face prints it."""
    return f"git cherry-pick -x {commit}"


PICKED = "picked"
DIRTY = "dirty"
CONFLICT = "conflict"
EMPTY = "already-applied"
ALREADY_HERE = "already-here"
BUSY = "in-progress"
REFUSED = "refused"
FAILED = "failed"

# Files that mean another operation owns the work tree right now.
_IN_PROGRESS = {
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or git am",
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "sequencer": "a cherry-pick or revert sequence",
}


@dataclass(frozen=True)
class CherryPickResult:
    status: str
    message: str
    cure: str
    commit: str | None = None  # the new commit on HEAD when picked
    paths: tuple[str, ...] = ()  # conflicting or dirty paths

    @property
    def ok(self) -> bool:
        return self.status == PICKED

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
            "cure": self.cure,
            "commit": self.commit,
            "paths": list(self.paths),
        }


def _status(repo: SourceRepo, untracked: bool) -> list[str]:
    """Paths `git status` lists, NUL-split so odd names survive."""
    out = repo.git(
        ["status", "--porcelain=v1", "-z", "--untracked-files=" + ("all" if untracked else "no")]
    ).stdout
    entries = out.decode(errors="surrogateescape").split("\0")
    return [e for e in entries if e]


def _busy(repo: SourceRepo) -> str | None:
    for name, what in _IN_PROGRESS.items():
        if os.path.exists(os.path.join(repo.git_dir, name)):
            return what
    return None


def _head(repo: SourceRepo) -> str | None:
    proc = repo.git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], check=False)
    return proc.stdout.decode().strip() or None


def _listing(paths: list[str]) -> str:
    names = [p[3:] if len(p) > 3 and p[2] == " " else p for p in paths]
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def cherry_pick(repo: SourceRepo, cure: str) -> CherryPickResult:
    """Cherry-pick `cure` onto HEAD with -x; refuse or undo rather than leave a mess."""
    short = cure[:12]
    if repo.toplevel is None:
        return CherryPickResult(REFUSED, "cannot cherry-pick in a bare repository", cure)
    if not is_sha(cure):
        return CherryPickResult(REFUSED, f"not a full commit SHA: {cure!r}", cure)
    busy = _busy(repo)
    if busy:
        return CherryPickResult(BUSY, f"{busy} is in progress here; finish or abort it first", cure)
    head = _head(repo)
    if head is None:
        return CherryPickResult(REFUSED, "the branch has no commit yet", cure)
    try:
        repo.resolve_commit(cure)
        repo.identity()
    except FatalError as e:
        hint = " (git fetch the branch that holds it)" if "unknown revision" in str(e) else ""
        return CherryPickResult(REFUSED, f"{e}{hint}", cure)
    if repo.git(["merge-base", "--is-ancestor", cure, head], check=False).returncode == 0:
        return CherryPickResult(ALREADY_HERE, f"cure {short} is already on this branch", cure)
    parents = repo.git_out(["rev-list", "--parents", "-n1", cure]).split()[1:]
    if len(parents) > 1:
        return CherryPickResult(
            REFUSED,
            f"cure {short} is a merge commit; cherry-pick it by hand with -m <parent>",
            cure,
        )
    dirty = _status(repo, untracked=False)
    if dirty:
        return CherryPickResult(
            DIRTY,
            f"uncommitted changes in {_listing(dirty)}; commit or stash them, then try again",
            cure,
            paths=tuple(p[3:] for p in dirty),
        )
    before = _status(repo, untracked=True)
    # No editor may open: the language server has no terminal.
    env = {"GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true"}
    proc = repo.git(["cherry-pick", "-x", "--end-of-options", cure], check=False, env=env)
    if proc.returncode == 0:
        return CherryPickResult(
            PICKED,
            f"cherry-picked cure {short} as {(_head(repo) or '')[:12]}",
            cure,
            commit=_head(repo),
        )
    return _undo(
        repo,
        cure,
        head,
        before,
        proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace"),
    )


def _undo(
    repo: SourceRepo, cure: str, head: str, before: list[str], output: str
) -> CherryPickResult:
    """The pick failed: abort it, then make sure nothing moved."""
    short = cure[:12]
    conflicts = [
        p
        for p in repo.git_out(["diff", "--name-only", "--diff-filter=U", "-z"], check=False).split(
            "\0"
        )
        if p
    ]
    if _busy(repo) or _head(repo) != head:
        repo.git(["cherry-pick", "--abort"], check=False)
    restored = _head(repo) == head and _status(repo, untracked=True) == before and not _busy(repo)
    if not restored:
        # Should not happen after --abort; say so rather than claim a clean state.
        return CherryPickResult(
            FAILED,
            f"cherry-pick of {short} failed and the repository could not be fully restored; "
            "check `git status`",
            cure,
            paths=tuple(conflicts),
        )
    if conflicts:
        return CherryPickResult(
            CONFLICT,
            f"cure {short} conflicts in {_listing(conflicts)}; cherry-pick aborted, "
            "nothing changed (pick it by hand: git cherry-pick -x " + cure + ")",
            cure,
            paths=tuple(conflicts),
        )
    if "now empty" in output or "nothing to commit" in output:
        return CherryPickResult(
            EMPTY,
            f"the changes of cure {short} are already here (the pick was empty); nothing changed",
            cure,
        )
    lines = [ln.strip() for ln in output.splitlines() if ln.strip() and not ln.startswith("hint:")]
    why = (
        lines[0].removeprefix("error: ").removeprefix("fatal: ")
        if lines
        else "git cherry-pick failed"
    )
    return CherryPickResult(FAILED, f"cherry-pick of {short} failed: {why}; nothing changed", cure)
