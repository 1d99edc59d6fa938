"""The name of a source repository's branch in the poisons repository.

Every clone of one service must land on the same branch however it was cloned, so
the name comes from the `origin` URL with scheme, user, port, `.git` and case of the
host taken out: `git@host:org/svc.git`, `https://host/org/svc` and
`ssh://git@host:22/org/svc.git` all give `host/org/svc`.
`git config poison.project NAME` overrides it. A name with no records while the
poisons repository holds other projects' is warned about (`project_warning`).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo

if TYPE_CHECKING:
    from poison_tools.store import PoisonStore, Snapshot

_SCP_LIKE = re.compile(r"\A(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>(?!//).*)\Z")
_SAFE_PART = re.compile(r"[^A-Za-z0-9._-]+")


def normalize_url(url: str) -> str:
    url = url.strip()
    if "://" in url:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        path = parts.path
        if parts.scheme == "file":
            host = ""
    elif m := _SCP_LIKE.match(url):
        host, path = m.group("host").lower(), m.group("path")
    else:  # a local path
        host, path = "", url
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    return "/".join(p for p in (host, *path.split("/")) if p)


def sanitize_ref_name(name: str) -> str:
    """Turn a project name into something `git check-ref-format` accepts."""
    parts = []
    for part in name.split("/"):
        part = _SAFE_PART.sub("-", part).strip(".-")
        while ".." in part:
            part = part.replace("..", ".")
        if part.endswith(".lock"):
            part = part[: -len(".lock")] + "-lock"
        if part:
            parts.append(part)
    return "/".join(parts)


def project_name(repo: SourceRepo) -> str:
    explicit = repo.config_get("poison.project")
    if explicit is not None:
        name = sanitize_ref_name(explicit)
        if not name:
            raise FatalError(f"poison.project is not a usable name: {explicit!r}")
        return name
    origin = repo.config_get("remote.origin.url")
    if origin:
        name = sanitize_ref_name(normalize_url(origin))
        if name:
            return name
    # The common dir, not the work tree: every linked worktree shares one name.
    common = repo.common_dir.rstrip("/")
    base = os.path.basename(common.removesuffix("/.git") if common.endswith("/.git") else common)
    base = base.removesuffix(".git") or "repo"
    return "local/" + (sanitize_ref_name(base) or "repo")


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
    others = sorted(set(_projects(store, remote=remote)) - {store.project})
    if not others:
        return None  # a first project: nothing to confuse it with
    explicit = store.source.config_get("poison.project") is not None
    named = "" if explicit else " (named after remote.origin.url)"
    head = (f'poison.project "{store.project}"{named} {state}, but the poisons '
            f"repository has records of {len(others)} other project{'s' if len(others) != 1 else ''}")
    import difflib

    lowered = {o.lower(): o for o in others}
    near = difflib.get_close_matches(store.project.lower(), list(lowered), n=1, cutoff=0.6)
    if near:
        name = lowered[near[0]]
        return f'{head}: did you mean "{name}"? (git config poison.project {name})'
    listed = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
    return f"{head} ({listed}); set the right one with `git config poison.project NAME`"


def _projects(store: PoisonStore, *, remote: bool) -> list[str]:
    """The project branches of the poisons repository: the remote's when there is one
    and it may be asked, else the local copy's."""
    import subprocess

    from poison_tools import git

    if remote and store.remote and store.allow_fetch:
        try:
            proc = git.run(["ls-remote", "--heads", "--end-of-options", store.remote],
                           check=False, timeout=store.fetch_timeout)
        except subprocess.TimeoutExpired:  # a hint is not worth waiting or failing for
            proc = None
        if proc is not None and proc.returncode == 0:
            return [line.partition("\trefs/heads/")[2]
                    for line in proc.stdout.decode(errors="replace").splitlines()
                    if "\trefs/heads/" in line]
    if not store.exists:
        return []
    proc = git.run(["--git-dir", store.path, "for-each-ref", "--format=%(refname)",
                    "refs/heads/", "refs/remotes/origin/"], check=False)
    if proc.returncode != 0:
        return []
    return [ref.removeprefix("refs/heads/").removeprefix("refs/remotes/origin/")
            for ref in proc.stdout.decode(errors="replace").splitlines()]
