"""The deployment inventory: which revision runs where (docs/scope.md).

A small YAML or JSON file maps names to revisions, nested as deep as the operations
team likes (environment / cluster / service); nested names are joined with "/":

    production:
      eu-west: {api: v2.3.1, worker: v2.3.0}
      us-east: {api: 1a2b3c4d}
    staging: release/2.4

An optional top-level `deployments:` key holds the same mapping. A revision that
does not resolve here is reported as such, never skipped: an unknown version could
be the affected one.

Without `--deployments FILE`, the inventory is `git config poison.deployments FILE`,
else a `deployments.yaml` (or `.yml`, `.json`) at the root of this project's branch in
the poisons repository, shared by the team. That file is written by anyone who can
push there, so it is read like a record: regular file, bounded size, bounded nesting,
names and revisions without control characters (they are printed to terminals).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo

if TYPE_CHECKING:
    from poison_tools.records.store import PoisonStore
    from poison_tools.scope import Target

MAX_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 10_000
# YAML aliases make a small file a huge tree: walking it is bounded too.
MAX_NODES = 100_000
MAX_DEPTH = 32
CONFIG_KEY = "poison.deployments"
SHARED_NAMES = ("deployments.yaml", "deployments.yml", "deployments.json")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Inventory:
    source: str  # where it was read: a path, or poisons:<branch>:<file>
    pairs: list[tuple[str, str]]


def parse(text: str, source: str) -> list[tuple[str, str]]:
    """(name, revision) pairs in file order."""
    try:
        if source.endswith(".json"):
            data = json.loads(text)
        else:
            import yaml  # only this command pays for the import

            data = yaml.safe_load(text)
    except (ValueError, ImportError) as e:
        raise FatalError(f"{source}: not valid YAML or JSON ({_first_line(e)})") from None
    except Exception as e:  # yaml.YAMLError and friends, whatever PyYAML version
        raise FatalError(f"{source}: not valid YAML or JSON ({_first_line(e)})") from None
    if isinstance(data, dict) and set(data) == {"deployments"}:
        data = data["deployments"]
    if not isinstance(data, dict) or not data:
        raise FatalError(f"{source}: expected a mapping of deployment names to revisions")
    pairs: list[tuple[str, str]] = []
    _walk(data, [], pairs, source, [0])
    return pairs


def _walk(
    node: Any, path: list[str], out: list[tuple[str, str]], source: str, seen: list[int]
) -> None:
    seen[0] += 1
    if seen[0] > MAX_NODES or len(path) > MAX_DEPTH:
        raise FatalError(f"{source}: nested too deep or too large to be an inventory")
    if isinstance(node, dict):
        for key, value in node.items():
            _walk(value, [*path, str(key)], out, source, seen)
        return
    name = "/".join(path)
    if _CONTROL.search(name):
        raise FatalError(f"{source}: {name!r}: control characters in a deployment name")
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        # YAML reads 1234567 as a number and 0123456 as octal: the SHA would be lost.
        raise FatalError(f"{source}: {name}: {node!r} reads as a number; quote the revision")
    if not isinstance(node, str):
        raise FatalError(f"{source}: {name}: the revision must be a string (a tag, branch or SHA)")
    rev = node.strip()
    if not rev:
        raise FatalError(f"{source}: {name}: empty revision")
    if _CONTROL.search(rev):
        raise FatalError(f"{source}: {name}: control characters in the revision {rev!r}")
    if len(out) >= MAX_ENTRIES:
        raise FatalError(f"{source}: more than {MAX_ENTRIES} deployments")
    out.append((name, rev))


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else e.__class__.__name__


def load(path: str) -> list[tuple[str, str]]:
    try:
        if os.path.getsize(path) > MAX_BYTES:
            raise FatalError(
                f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; is it an inventory?"
            )
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise FatalError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise FatalError(f"cannot read deployments file {path}: {e.strerror}") from None
    return parse(text, path)


def config_path(repo: SourceRepo) -> str | None:
    """`poison.deployments`, relative paths read from the top of the work tree (the
    file usually lives in the repository), or from the git directory when bare."""
    raw = repo.config_get(CONFIG_KEY)
    if not raw or not raw.strip():
        return None
    path = os.path.expanduser(raw.strip())
    if not os.path.isabs(path):
        path = os.path.join(repo.toplevel or repo.common_dir, path)
    return path


def shared_inventory(store: PoisonStore, tip: str | None = None) -> Inventory | None:
    """`deployments.yaml` at the root of the project's branch in the poisons repository
    (the commit `tip` when given, else the newest of the local and fetched branch)."""
    from poison_tools import git

    if not store.exists:
        return None
    commits = [tip] if tip else [store.branch, store.tracking]
    for commit in commits:
        proc = git.run(
            [
                "--git-dir",
                store.path,
                "ls-tree",
                "-z",
                "-l",
                "--end-of-options",
                commit,
                "--",
                *SHARED_NAMES,
            ],
            check=False,
        )
        if proc.returncode != 0:
            continue  # no such branch (yet): try the next
        entries = {}
        for entry in proc.stdout.decode(errors="replace").split("\0"):
            meta, _, name = entry.partition("\t")
            if name:
                entries[name] = meta.split()
        for name in SHARED_NAMES:
            if name not in entries:
                continue
            source = f"poisons:{store.project}:{name}"
            mode, kind, oid, size = (entries[name] + ["", "", "", ""])[:4]
            if kind != "blob" or mode not in ("100644", "100755"):
                raise FatalError(f"{source}: not a regular file")
            if not size.isdigit() or int(size) > MAX_BYTES:
                raise FatalError(
                    f"{source}: larger than {MAX_BYTES // (1024 * 1024)} MiB; is it an inventory?"
                )
            blob = git.run(["--git-dir", store.path, "cat-file", "blob", oid]).stdout
            try:
                text = blob.decode("utf-8")
            except UnicodeDecodeError:
                raise FatalError(f"{source}: not UTF-8 text") from None
            return Inventory(source, parse(text, source))
        return None
    return None


def default_inventory(
    repo: SourceRepo, store: PoisonStore | None, tip: str | None = None
) -> Inventory | None:
    """The inventory used when none is named: `poison.deployments`, else the shared file."""
    path = config_path(repo)
    if path is not None:
        return Inventory(path, load(path))
    return shared_inventory(store, tip) if store is not None else None


def resolve(repo: SourceRepo, pairs: list[tuple[str, str]]) -> list[Target]:
    from poison_tools.scope import Target  # numpy and the index only once there is an inventory

    targets = []
    for name, rev in pairs:
        try:
            commit: str | None = repo.resolve_commit(rev)
        except FatalError:
            commit = None
        targets.append(Target("deployment", rev, commit, name))
    return targets


def deployment_targets(repo: SourceRepo, path: str) -> list[Target]:
    return resolve(repo, load(path))
