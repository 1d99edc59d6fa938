"""A project name that is most likely misspelt: no records under it while the
poisons repository holds other projects' records. Every answer would be "healthy" for
want of records, so the faces warn, naming the nearest project name.
"""

from __future__ import annotations

from poison_tools.records.store import PoisonStore, Snapshot
from poison_tools.term import printable

# Branches of the poisons repository that hold no project's records: the trust policy
# (`trust.policy.BRANCH`, named here because trust sits above records).
_NOT_PROJECTS = frozenset({"poison-policy"})


def project_warning(store: PoisonStore, snapshot: Snapshot) -> str | None:
    """What to say when this project has no records at all while other projects in
    the poisons repository have some: most likely `poison.project` is misspelt, and
    every answer would be "healthy" for want of records. None otherwise.

    Only then are the other projects listed (the local branches, or the remote's when
    it answered the fetch), so a project with records pays nothing for this."""
    if snapshot.tip is not None or snapshot.records or snapshot.problems:
        return None
    return _misspelt(store, "has no records", remote=snapshot.stale is None)


def first_record_warning(store: PoisonStore) -> str | None:
    """After a write that started this project's branch: the same warning, since a
    misspelt `poison.project` would file the record where no check of this
    repository looks for it. None when no other project could have been meant."""
    return _misspelt(store, "had no records before this one", remote=True)


def _misspelt(store: PoisonStore, state: str, *, remote: bool) -> str | None:
    others = sorted(set(_projects(store, remote=remote)) - {store.project} - _NOT_PROJECTS)
    if not others:
        return None  # a first project: nothing to confuse it with
    explicit = store.source.config_get("poison.project") is not None
    named = "" if explicit else " (named after remote.origin.url)"
    head = (
        f'poison.project "{store.project}"{named} {state}, but the poisons '
        f"repository has records of {len(others)} other project{'s' if len(others) != 1 else ''}"
    )
    import difflib

    lowered = {o.lower(): o for o in others}
    near = difflib.get_close_matches(store.project.lower(), list(lowered), n=1, cutoff=0.6)
    # The names are the poisons repository's branches: anyone with push access chooses
    # them, and git allows bidi overrides and C1 controls in a ref name.
    if near:
        name = printable(lowered[near[0]])
        return f'{head}: did you mean "{name}"? (git config poison.project {name})'
    listed = ", ".join(map(printable, others[:5])) + (", ..." if len(others) > 5 else "")
    return f"{head} ({listed}); set the right one with `git config poison.project NAME`"


def _projects(store: PoisonStore, *, remote: bool) -> list[str]:
    """The project branches of the poisons repository: the remote's when there is one
    and it may be asked, else the local copy's."""
    import subprocess

    from poison_tools import git

    if remote and store.remote and store.allow_fetch:
        try:
            proc = git.run(
                ["ls-remote", "--heads", "--end-of-options", store.remote],
                check=False,
                timeout=store.fetch_timeout,
            )
        except subprocess.TimeoutExpired:  # a hint is not worth waiting or failing for
            proc = None
        if proc is not None and proc.returncode == 0:
            return [
                line.partition("\trefs/heads/")[2]
                for line in proc.stdout.decode(errors="replace").splitlines()
                if "\trefs/heads/" in line
            ]
    if not store.exists:
        return []
    proc = git.run(
        [
            "--git-dir",
            store.path,
            "for-each-ref",
            "--format=%(refname)",
            "refs/heads/",
            "refs/remotes/origin/",
        ],
        check=False,
    )
    if proc.returncode != 0:
        return []
    return [
        ref.removeprefix("refs/heads/").removeprefix("refs/remotes/origin/")
        for ref in proc.stdout.decode(errors="replace").splitlines()
    ]
