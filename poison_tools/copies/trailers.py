"""What a commit message says about other commits: cherry-picks, backports, reverts,
Change-Ids and `Fixes:` trailers. Pure text functions; the caller resolves the SHAs it finds.

Only explicit, machine-written forms count. A subject line that merely looks alike is
never evidence (issue 4: "subject-line matches are too loose to decide anything").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHERRY_PICK = "cherry-pick trailer"
BACKPORT = "backport line"
PATCH_ID = "patch-id"
CHANGE_ID = "change-id"

_HEX = r"([0-9a-fA-F]{7,64})"
_IM = re.IGNORECASE | re.MULTILINE

# (regex, how) — each names the commit this one was copied from.
_COPY_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # `git cherry-pick -x`; also "(cherry picked from commit X)" written by hand.
    (re.compile(rf"^\s*\(cherry[ -]picked from commit {_HEX}\)?", _IM), CHERRY_PICK),
    # Linux stable: "commit X upstream." as the first body line.
    (re.compile(rf"^\s*commit {_HEX} upstream\.?\s*$", _IM), BACKPORT),
    # Linux stable, other form: "[ Upstream commit X ]".
    (re.compile(rf"^\s*\[\s*upstream commit {_HEX}\s*\]", _IM), BACKPORT),
    # Ubuntu and others: "(backported from commit X)".
    (re.compile(rf"^\s*\(backported from commit {_HEX}", _IM), BACKPORT),
)

_CHANGE_ID = re.compile(r"^Change-Id:\s*(I[0-9a-f]{40})\s*$", re.MULTILINE)
# `git revert`: "This reverts commit X." (for a merge: "..., reversing changes made to Y.").
_REVERTS = re.compile(rf"^This reverts commit {_HEX}\b", re.MULTILINE)
# Linux style: `Fixes: 1a2b3c4d5e6f ("subject")`; the subject is optional in practice.
_FIXES = re.compile(rf"^Fixes:\s*{_HEX}\b", _IM)


@dataclass(frozen=True)
class MessageFacts:
    copied_from: tuple[tuple[str, str], ...] = ()  # (sha or abbreviation, how)
    change_id: str | None = None
    reverts: tuple[str, ...] = ()  # the commits this one undoes (sha or abbreviation)


def copied_from(message: str) -> list[tuple[str, str]]:
    """The commits this message says it was copied from, in order, deduplicated."""
    found: dict[str, str] = {}
    for pattern, how in _COPY_PATTERNS:
        for m in pattern.finditer(message):
            found.setdefault(m.group(1).lower(), how)
    return list(found.items())


def change_id(message: str) -> str | None:
    """The Gerrit Change-Id trailer, if the message has exactly one."""
    ids = set(_CHANGE_ID.findall(message))
    return ids.pop() if len(ids) == 1 else None


def reverts(message: str) -> list[str]:
    """The commits this message says it reverts (`git revert`'s own line)."""
    return list(dict.fromkeys(m.lower() for m in _REVERTS.findall(message)))


def facts(message: str) -> MessageFacts:
    return MessageFacts(tuple(copied_from(message)), change_id(message), tuple(reverts(message)))


def fixes(message: str) -> list[str]:
    """The (possibly abbreviated) SHAs named by `Fixes:` trailers."""
    return list(dict.fromkeys(m.lower() for m in _FIXES.findall(message)))
