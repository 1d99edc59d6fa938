"""The name of a source repository's branch in the poisons repository.

Every clone of one service must land on the same branch however it was cloned, so
the name comes from the `origin` URL with scheme, user, port, `.git` and case of the
host taken out: `git@host:org/svc.git`, `https://host/org/svc` and
`ssh://git@host:22/org/svc.git` all give `host/org/svc`.
`git config poison.project NAME` overrides it. A name with no records while the
poisons repository holds other projects' is warned about (`records.misspelt`).
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo

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
