"""Who signed the commits of the poisons repository: git verifies, we remember.

git checks each signature itself (`%G?`, `%GK`, `%GS` of `git log`; for ssh it runs
`ssh-keygen -Y verify` against `gpg.ssh.allowedSignersFile`). That costs about 14 ms per
signed commit, so the answers are kept per commit in
`<poisons repository>/git-poison-signatures.json`, keyed by the allowed-signers list they
were checked against: the history is append-only, a commit's signature never changes, and
only commits not seen before are asked about, all in one `git log --no-walk --stdin`.
A changed list checks everything again once. The file is only a cache: safe to delete.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poison_tools import cachefile

if TYPE_CHECKING:
    from poison_tools.records.store import PoisonStore

CACHE_FILE = "git-poison-signatures.json"
FORMAT = 1
_SHA = re.compile(r"\A[0-9a-f]{40}(?:[0-9a-f]{24})?\Z")

# git's %G? letters, in words (git-log(1), "Placeholders").
STATUS = {
    "G": "good",  # a valid signature by a key the allowed-signers list names
    "U": "unknown-key",  # a valid signature by a key the list does not name
    "B": "bad",
    "X": "expired",
    "Y": "expired-key",
    "R": "revoked-key",
    "E": "unverifiable",  # cannot be checked (missing key, no ssh-keygen)
    "N": "unsigned",
}
# Answers that may change without the commit changing (a key imported later): not kept.
_TRANSIENT = {"E"}


@dataclass(frozen=True)
class Signature:
    code: str  # git's %G? letter
    key: str = ""  # %GK: the key's fingerprint (ssh) or id (openpgp)
    signer: str = ""  # %GS: the principal the allowed-signers list gives that key

    @property
    def status(self) -> str:
        return STATUS.get(self.code, "unverifiable")

    @property
    def good(self) -> bool:
        return self.code == "G" and bool(self.signer)

    @property
    def by_policy(self) -> bool:
        """A good ssh signature: its signer comes from the policy's allowed_signers. An
        openpgp or x509 "good" comes from this machine's own keyring instead, which the
        policy does not control, so it names nobody the policy can trust."""
        return self.good and self.key.startswith("SHA256:")

    def describe(self) -> str:
        key = f" {self.key}" if self.key else ""
        return {
            "G": f"signed by {self.signer}",
            "U": f"signed by an unknown key{key}",
            "B": f"BAD signature{key}",
            "X": f"expired signature{key}",
            "Y": f"signed with an expired key{key}",
            "R": f"signed with a revoked key{key}",
            "N": "unsigned",
        }.get(self.code, f"signature cannot be checked{key}")

    def to_json(self) -> dict[str, str]:
        return {"status": self.status, "code": self.code, "key": self.key, "signer": self.signer}


UNSIGNED = Signature("N")


def signers_digest(allowed_signers: str) -> str:
    return hashlib.sha256(allowed_signers.encode("utf-8", "surrogateescape")).hexdigest()


def _read(path: str, digest: str) -> dict[str, Signature]:
    data = cachefile.read_json(path, format=FORMAT, signers=digest)
    if data is None:
        return {}
    try:
        if not isinstance(data.get("commits"), dict):
            return {}
        out = {}
        for sha, v in data["commits"].items():
            if (
                isinstance(v, list)
                and len(v) == 3
                and all(isinstance(x, str) for x in v)
                and v[0] in STATUS
                and v[0] not in _TRANSIENT
            ):
                out[sha] = Signature(v[0], v[1], v[2])
        return out
    except (OSError, ValueError, TypeError):
        return {}


def _write(path: str, digest: str, known: dict[str, Signature]) -> None:
    data: dict[str, Any] = {
        "format": FORMAT,
        "signers": digest,
        "commits": {
            s: [g.code, g.key, g.signer] for s, g in known.items() if g.code not in _TRANSIENT
        },
    }
    cachefile.keep(path, json.dumps(data, separators=(",", ":")).encode(), ".sigs-")


def verify(
    store: PoisonStore, commits: Iterable[str], allowed_signers: str
) -> dict[str, Signature]:
    """The signature of each of `commits` as checked against `allowed_signers` (the text
    of a `gpg.ssh.allowedSignersFile`; "" checks validity but names nobody)."""
    wanted = [c for c in dict.fromkeys(commits) if _SHA.match(c)]
    if not wanted:
        return {}
    digest = signers_digest(allowed_signers)
    path = os.path.join(store.path, CACHE_FILE)
    known = _read(path, digest)
    todo = [c for c in wanted if c not in known]
    if todo:
        known.update(_ask_git(store, todo, allowed_signers))
        _write(path, digest, known)
    return {c: known.get(c, Signature("E")) for c in wanted}


def _ask_git(store: PoisonStore, commits: list[str], allowed_signers: str) -> dict[str, Signature]:
    fd, signers_file = tempfile.mkstemp(prefix="git-poison-signers-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(allowed_signers)
        proc = store._git(
            [
                "-c",
                f"gpg.ssh.allowedSignersFile={signers_file}",
                "-c",
                "log.showSignature=false",
                "log",
                "--no-walk=unsorted",
                "--stdin",
                "-z",
                "--format=%H%x00%G?%x00%GK%x00%GS",
            ],
            input="".join(c + "\n" for c in commits).encode(),
        )
    finally:
        os.unlink(signers_file)
    fields = proc.stdout.decode("utf-8", "replace").split("\0")
    out: dict[str, Signature] = {}
    # Records are separated by NUL under -z, so each commit is four fields in a row.
    for i in range(0, len(fields) - 3, 4):
        sha, code, key, signer = (x.strip() for x in fields[i : i + 4])
        if _SHA.match(sha) and code in STATUS:
            out[sha] = Signature(code, key, signer if code == "G" else "")
    return out
