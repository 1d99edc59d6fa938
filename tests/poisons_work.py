"""A work tree of the poisons repository, for edits made with plain git behind
git-poison's back: what anyone with push access can do (delete a record, rename it,
forge an author, push unsigned)."""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import Repo


class PoisonsWork(Repo):
    """A clone of one project's branch of the poisons repository at `url`."""

    def __init__(self, url: Path, branch: str, path: Path) -> None:
        super().__init__(path)
        self.url, self.project = url, branch
        self.git("fetch", "-q", str(url), f"refs/heads/{branch}:refs/heads/x")
        self.checkout("x")

    def publish(
        self,
        message: str,
        *,
        author: str = "Mallory <mallory@example.com>",
        env: dict[str, str] | None = None,
    ) -> str:
        """Commit everything staged as `author` (forged or not) and push it."""
        name, _, email = author.partition(" <")
        self.git(
            "-c",
            f"user.name={name}",
            "-c",
            f"user.email={email.rstrip('>')}",
            "commit",
            "-q",
            "-m",
            message,
        )
        self.git("push", "-q", str(self.url), f"x:refs/heads/{self.project}")
        return self.rev("HEAD")

    def delete(self, *paths: str, author: str = "Mallory <mallory@example.com>") -> str:
        self.git("rm", "-q", "--", *paths)
        return self.publish(f"remove {' '.join(paths)}", author=author)
