"""The trust policy: who may add, cure and withdraw, kept in the poisons repository.

It is the branch `poison-policy` of the poisons repository (shared by every project
there), holding two files:
- `allowed_signers`: git's `gpg.ssh.allowedSignersFile` format (`principal key-type key`
  per line), the keys whose signatures name a person;
- `policy.json`: `{"version": 1, "add": [...], "cure": [...], "withdraw": [...]}`, the
  principals allowed each kind of change; `"*"` stands for every principal of
  `allowed_signers`. An optional `"baseline": ["<sha>", ...]` vouches for those commits of
  the poisons repository and all their ancestors: the records made before signing began.

The branch must be protected on the server (only its owners may push): whoever can
rewrite it decides who is trusted. Its content is still untrusted input: it is parsed
strictly, and anything unexpected is refused in one line, which makes a verifying check
undecided (exit 2), never healthy. See docs/trust.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poison_tools.errors import FatalError, RemoteUnreachable
from poison_tools.git import GitError, is_sha

if TYPE_CHECKING:
    from poison_tools.records.store import PoisonStore

BRANCH = "poison-policy"
LOCAL_REF = f"refs/heads/{BRANCH}"
TRACKING_REF = f"refs/remotes/origin/{BRANCH}"
SIGNERS_FILE = "allowed_signers"
POLICY_FILE = "policy.json"
MAX_BYTES = 64 * 1024
MAX_PRINCIPALS = 1000
ACTIONS = ("add", "cure", "withdraw")
ANYONE = "*"
# A principal as allowed_signers writes it: no spaces, quotes, commas or controls.
_PRINCIPAL = re.compile(r"\A[^\s\",\x00-\x1f\x7f]{1,256}\Z")


class PolicyError(FatalError):
    """The trust policy cannot be read or is not well formed."""


@dataclass(frozen=True)
class Policy:
    commit: str  # the policy branch's commit it was read from
    allowed_signers: str
    allowed: dict[str, frozenset[str]]  # action -> principals ("*": anyone listed)
    # Commits of the poisons repository whose history (themselves and their ancestors)
    # the policy's owners vouch for as a whole: records made before signing was adopted.
    baseline: tuple[str, ...] = ()

    def may(self, principal: str, action: str) -> bool:
        who = self.allowed.get(action, frozenset())
        return bool(principal) and (ANYONE in who or principal in who)

    def to_json(self) -> dict[str, Any]:
        return {
            "branch": BRANCH,
            "commit": self.commit,
            **{a: sorted(self.allowed[a]) for a in ACTIONS},
            "baseline": list(self.baseline),
        }


def _where(name: str) -> str:
    return f"trust policy {BRANCH}:{name}"


def parse_policy(commit: str, signers: bytes, policy: bytes) -> Policy:
    """A `Policy` from the two files' contents; `PolicyError` naming the first fault."""
    for name, blob in ((SIGNERS_FILE, signers), (POLICY_FILE, policy)):
        if len(blob) > MAX_BYTES:
            raise PolicyError(f"{_where(name)} is larger than {MAX_BYTES} bytes")
    try:
        signers_text = signers.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{_where(SIGNERS_FILE)} is not UTF-8 text") from None
    if "\0" in signers_text:
        raise PolicyError(f"{_where(SIGNERS_FILE)} holds a NUL byte")
    try:
        data = json.loads(policy.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PolicyError(f"{_where(POLICY_FILE)} is not valid JSON") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{_where(POLICY_FILE)} is not a JSON object")
    unknown = sorted(set(data) - {"version", "baseline", *ACTIONS})
    if unknown:
        raise PolicyError(f"{_where(POLICY_FILE)}: unknown field {unknown[0][:40]!r}")
    if data.get("version") != 1:
        raise PolicyError(f"{_where(POLICY_FILE)}: field 'version' must be 1")
    allowed: dict[str, frozenset[str]] = {}
    for action in ACTIONS:
        value = data.get(action)
        if not isinstance(value, list) or len(value) > MAX_PRINCIPALS:
            raise PolicyError(
                f"{_where(POLICY_FILE)}: field {action!r} must be a list of principals"
            )
        for p in value:
            if not isinstance(p, str) or not _PRINCIPAL.match(p):
                raise PolicyError(
                    f"{_where(POLICY_FILE)}: field {action!r} holds something that is not a "
                    'principal (an email address as in allowed_signers, or "*")'
                )
        allowed[action] = frozenset(value)
    baseline = data.get("baseline", [])
    if (
        not isinstance(baseline, list)
        or len(baseline) > MAX_PRINCIPALS
        or not all(isinstance(b, str) and is_sha(b) for b in baseline)
    ):
        raise PolicyError(
            f"{_where(POLICY_FILE)}: field 'baseline' must be a list of full commit SHAs"
        )
    return Policy(commit, signers_text, allowed, tuple(baseline))


@dataclass(frozen=True)
class Loaded:
    policy: Policy | None  # None: the poisons repository has no policy branch
    stale: str | None = None  # why the last fetched copy was used


def load_policy(store: PoisonStore) -> Loaded:
    """The policy of `store`'s poisons repository: fetched first when it is shared (the
    same bounded wait as records), the last fetched copy when the remote is unreachable."""
    stale = None
    ref = TRACKING_REF if store.remote else LOCAL_REF
    if store.remote and store.allow_fetch:
        try:
            _fetch(store)
        except RemoteUnreachable as e:
            stale = str(e)
    if not store.exists:
        return Loaded(None, stale)
    proc = store._git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], check=False)
    commit = proc.stdout.decode().strip()
    if proc.returncode != 0 or not commit:
        return Loaded(None, stale)
    files = store._git(["ls-tree", "-z", commit]).stdout.decode("utf-8", "replace").split("\0")
    oids: dict[str, str] = {}
    for entry in files:
        meta, _, name = entry.partition("\t")
        parts = meta.split()
        if name in (SIGNERS_FILE, POLICY_FILE):
            if len(parts) != 3 or parts[0] not in ("100644", "100755") or parts[1] != "blob":
                raise PolicyError(f"{_where(name)} is not a regular file")
            oids[name] = parts[2]
    for name in (SIGNERS_FILE, POLICY_FILE):
        if name not in oids:
            raise PolicyError(f"{_where(name)} is missing (see docs/trust.md)")
    blobs = store._blobs([oids[SIGNERS_FILE], oids[POLICY_FILE]])
    return Loaded(parse_policy(commit, blobs[oids[SIGNERS_FILE]], blobs[oids[POLICY_FILE]]), stale)


def _fetch(store: PoisonStore) -> None:
    assert store.remote
    store.ensure()
    returncode, err = store.fetch_ref(LOCAL_REF, TRACKING_REF)
    if returncode == 0:
        return
    if "couldn't find remote ref" in err:
        # No policy on the remote (any more): a copy fetched earlier must not stand in.
        store._git(["update-ref", "-d", TRACKING_REF], check=False)
        return
    from poison_tools.records.remote_answers import git_reason
    from poison_tools.term import printable

    raise RemoteUnreachable(printable(git_reason(err, "fetch failed")))


__all__ = ["GitError", "Loaded", "Policy", "PolicyError", "load_policy", "parse_policy"]
