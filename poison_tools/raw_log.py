"""Reading `git log --raw -z` of the poisons repository, whose paths are untrusted.

A path may hold any byte but NUL, the `\\x01` that starts our commit headers included,
so the output is read token by token (tokens end with NUL): a `:` token is a change and
the token after it is its path, whatever that path holds; a `\\x01` token is a commit
header. Splitting on `\\x01` first would let a file name forge a commit.
"""

from __future__ import annotations

from dataclasses import dataclass

# Give git this format (plus `--raw -z --no-abbrev`): the header holds only what git
# writes itself (SHAs), never text a commit author chose.
HEADER_FORMAT = "--format=%x01%H %P"


@dataclass(frozen=True)
class RawChange:
    old: str  # blob before ("0" * 40 when added)
    new: str  # blob after ("0" * 40 when deleted)
    status: str  # A, M, D, T, ...
    path: str  # decoded with surrogateescape: undecodable bytes are kept


@dataclass
class RawCommit:
    commit: str
    parents: tuple[str, ...]
    changes: list[RawChange]


def parse_raw_log(out: bytes) -> list[RawCommit]:
    """Commits in git's order; with `-m` a merge comes once per parent, each time with
    its changes against that parent."""
    tokens = out.split(b"\0")
    commits: list[RawCommit] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i].lstrip(b"\n")
        if tok.startswith(b"\x01"):
            shas = tok[1:].decode("ascii", "replace").split()
            if shas:
                commits.append(RawCommit(shas[0], tuple(shas[1:]), []))
            i += 1
        elif tok.startswith(b":") and i + 1 < len(tokens):
            parts = tok.decode("ascii", "replace").split()
            path = tokens[i + 1].decode("utf-8", "surrogateescape")
            if len(parts) == 5 and commits:
                commits[-1].changes.append(RawChange(parts[2], parts[3], parts[4][:1], path))
            i += 2
        else:
            i += 1
    return commits
