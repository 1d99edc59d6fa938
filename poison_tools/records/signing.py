"""Signing the commits that write records, with the user's own git signing setup.

Records are written by `git commit-tree` in the poisons repository, a different
repository from the one the user configured: `user.signingKey` or `gpg.format` set in
the source repository's `.git/config` is not seen there. So the settings git's signing
reads (`user.signingKey` and every `gpg.*` key) are taken from the source repository's
whole configuration and handed over with `-c` (issue 14).

Signing is on with `git config poison.sign true`, or whenever `user.signingKey` is set
(unless `poison.sign false`). With `gpg.format ssh` git calls `ssh-keygen -Y sign`,
which needs no network; openpgp and x509 work the same way through git.
"""

from __future__ import annotations

from dataclasses import dataclass

from poison_tools.errors import FatalError
from poison_tools.git import GitError, SourceRepo
from poison_tools.term import printable


@dataclass(frozen=True)
class Signing:
    """How to sign, or not: `config` goes before the git subcommand, `flags` after it."""

    config: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.flags)


UNSIGNED = Signing()


def _carried(key: str) -> bool:
    return key == "user.signingkey" or key.startswith("gpg.")


def signing(repo: SourceRepo) -> Signing:
    """The signing the user asked for in `repo`'s configuration (local, global, system)."""
    key = repo.config_get("user.signingkey")
    if not repo.config_bool("poison.sign", default=bool(key)):
        return UNSIGNED
    config: list[str] = []
    for name, values in repo.config.items():
        if _carried(name) and values:
            # The last value wins, as in git; the poisons repository reads the user's
            # global configuration too, and `-c` outranks it with the same value.
            config += ["-c", f"{name}={values[-1]}"]
    return Signing(tuple(config), ("-S",))


def signing_failed(error: GitError) -> FatalError:
    """What to say when git could not sign: nothing was written, and how to go on."""
    lines = [ln.strip() for ln in error.stderr.splitlines() if ln.strip()]
    # git's own last line is "fatal: failed to write commit object"; the reason
    # (ssh-keygen's or gpg's) comes before it.
    useful = [ln for ln in lines if not ln.startswith("fatal: failed to write")]
    last = useful[-1] if useful else (lines[-1] if lines else "unknown reason")
    why = printable(last.removeprefix("error: ").removeprefix("fatal: "))
    return FatalError(
        f"could not sign the record commit ({why}); nothing was recorded. Check "
        "user.signingKey and gpg.format, or record unsigned with `git config poison.sign false`"
    )
