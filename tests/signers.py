"""Real ssh signing keys for tests: generated with ssh-keygen in the test's folder.

`Signer.use(repo)` configures a source repository the way a person would (`gpg.format
ssh`, `user.signingKey` in the repository's own config); `allowed_signers` writes the
file git's `gpg.ssh.allowedSignersFile` reads. Nothing here imitates a signature: git
and ssh-keygen make and check every one.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.gitrepo import Repo, git

SSH_KEYGEN = shutil.which("ssh-keygen")
assert SSH_KEYGEN, "ssh-keygen is needed (scripts/test.sh installs openssh-client)"


@dataclass(frozen=True)
class Signer:
    email: str
    key: Path  # the private key; the public one is beside it with .pub

    @property
    def public(self) -> str:
        return " ".join(Path(f"{self.key}.pub").read_text().split()[:2])

    def use(self, repo: Repo, name: str | None = None) -> None:
        """Sign as this person in `repo`: identity and key in the repository's config."""
        repo.git("config", "user.email", self.email)
        repo.git("config", "user.name", name or self.email.split("@")[0].title())
        repo.git("config", "gpg.format", "ssh")
        repo.git("config", "user.signingKey", str(self.key))


def make_signer(folder: Path, email: str) -> Signer:
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / email.replace("@", "_at_")
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", str(key)], check=True
    )
    return Signer(email, key)


def allowed_signers(*signers: Signer) -> str:
    return "".join(f"{s.email} {s.public}\n" for s in signers)


def signatures(git_dir: Path, rev: str, signers_file: Path) -> list[tuple[str, str, str]]:
    """(commit, %G?, signer) of each commit of `rev` in the repository at `git_dir`."""
    out = git(
        git_dir,
        "-c",
        f"gpg.ssh.allowedSignersFile={signers_file}",
        "log",
        "--format=%H %G? %GS",
        rev,
    )
    return [tuple((line + "  ").split(" ")[:3]) for line in out.splitlines()]  # type: ignore[misc]


def publish_policy(
    poisons: Path,
    signers: list[Signer],
    *,
    add: list[str] | None = None,
    cure: list[str] | None = None,
    withdraw: list[str] | None = None,
    signers_text: str | None = None,
    policy_text: str | None = None,
) -> str:
    """Push a trust policy (branch poison-policy) to the poisons repository at `poisons`,
    as its owners would: a commit made with plain git in a scratch work tree."""
    import json

    work = Repo(poisons.parent / (poisons.name + "-policy-work"))
    (work.path / "allowed_signers").write_bytes(
        (allowed_signers(*signers) if signers_text is None else signers_text).encode(
            "utf-8", "surrogateescape"
        )
    )
    everyone = [s.email for s in signers]
    body = {
        "version": 1,
        "add": add if add is not None else ["*"],
        "cure": cure if cure is not None else everyone,
        "withdraw": withdraw if withdraw is not None else everyone,
    }
    (work.path / "policy.json").write_text(
        policy_text if policy_text is not None else json.dumps(body, indent=2) + "\n"
    )
    work.git("add", "allowed_signers", "policy.json")
    work.git("commit", "-q", "--allow-empty", "-m", "trust policy")
    work.git("push", "-q", "--force", str(poisons), "HEAD:refs/heads/poison-policy")
    return work.rev("HEAD")
