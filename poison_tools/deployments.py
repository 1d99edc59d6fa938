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
"""

from __future__ import annotations

import json
import os
from typing import Any

from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.scope import Target

MAX_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 10_000


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
    _walk(data, [], pairs, source)
    return pairs


def _walk(node: Any, path: list[str], out: list[tuple[str, str]], source: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _walk(value, [*path, str(key)], out, source)
        return
    name = "/".join(path)
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        # YAML reads 1234567 as a number and 0123456 as octal: the SHA would be lost.
        raise FatalError(f"{source}: {name}: {node!r} reads as a number; quote the revision")
    if not isinstance(node, str):
        raise FatalError(f"{source}: {name}: the revision must be a string (a tag, branch or SHA)")
    rev = node.strip()
    if not rev:
        raise FatalError(f"{source}: {name}: empty revision")
    if len(out) >= MAX_ENTRIES:
        raise FatalError(f"{source}: more than {MAX_ENTRIES} deployments")
    out.append((name, rev))


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else e.__class__.__name__


def load(path: str) -> list[tuple[str, str]]:
    try:
        if os.path.getsize(path) > MAX_BYTES:
            raise FatalError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; is it an inventory?")
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise FatalError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise FatalError(f"cannot read deployments file {path}: {e.strerror}") from None
    return parse(text, path)


def deployment_targets(repo: SourceRepo, path: str) -> list[Target]:
    targets = []
    for name, rev in load(path):
        try:
            commit: str | None = repo.resolve_commit(rev)
        except FatalError:
            commit = None
        targets.append(Target("deployment", rev, commit, name))
    return targets
