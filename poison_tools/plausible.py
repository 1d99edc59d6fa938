"""Whether a recorded cure can plausibly be the fix (issue 14).

`git poison cure ID master` records whatever master is today as the fix, and master
is then "cured" for ever. A fix is a descendant of the commit it fixes (or of a
cherry-picked copy of it), and a branch's tip that changes none of the files the
poison changed is more likely the branch than the fix. Neither is proof (a fix can
touch other files), so these are doubts: a warning when the cure is recorded, a mark in
`show`, never a refusal. Poisons not in this clone raise no doubt: nothing can be told.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from poison_tools.git import SourceRepo
from poison_tools.records.record import Record

if TYPE_CHECKING:
    from poison_tools.reach.answer import Reachability

BRANCHES = ("refs/heads", "refs/remotes")


def cure_doubts(
    repo: SourceRepo, record: Record, cures: Sequence[str], reach: Reachability | None = None
) -> dict[str, list[str]]:
    """cure -> why it may not be the fix (only the cures with a doubt)."""
    from poison_tools.reach.engine import reachability

    reach = reach or reachability(repo)
    poisons = sorted(reach.present(record.poisons))
    here = reach.present(cures)
    if not poisons:
        return {}
    doubts: dict[str, list[str]] = {}
    after = {c for c in here if any(reach.ancestors(c, [p]).status(p) for p in poisons)}
    strays = [c for c in here if c not in after]
    if strays:
        copies = _copies(repo, reach, poisons)
        for c in strays:
            if copies and any(reach.ancestors(c, copies).status(x) for x in copies):
                continue  # descends from a cherry-picked copy of the poison: an LTS fix
            doubts.setdefault(c, []).append(
                f"it does not descend from the poison {', '.join(p[:12] for p in poisons)} "
                "(nor from a copy of it): it cannot hold the fix"
            )
    tips: dict[str, list[str]] = {}
    for ref, commit in reach.ref_commits(BRANCHES):
        if commit in here and not ref.endswith("/HEAD"):
            tips.setdefault(commit, []).append(ref.split("/", 2)[2])
    if tips:
        touched = {p: _files(repo, p) for p in poisons}
        poison_files = set().union(*touched.values())
        for c, branches in tips.items():
            if poison_files and not (_files(repo, c) & poison_files):
                doubts.setdefault(c, []).append(
                    f"it is the tip of {', '.join(sorted(branches))} and changes none of the "
                    "files the poison changed: is it the fix, or the branch?"
                )
    return doubts


def _copies(repo: SourceRepo, reach: Reachability, poisons: list[str]) -> list[str]:
    from poison_tools.copies.equivalence import default_equivalence

    found = default_equivalence(repo, None, reach).expand(poisons)
    return sorted({c for eqs in found.values() for c, _how in eqs})


def _files(repo: SourceRepo, commit: str) -> set[str]:
    """The files `commit` changes (against its first parent)."""
    out = repo.git(
        [
            "diff-tree",
            "-r",
            "--name-only",
            "-z",
            "--root",
            "--no-commit-id",
            "--diff-merges=first-parent",
            commit,
        ]
    ).stdout
    return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}
