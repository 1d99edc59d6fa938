from __future__ import annotations

import os
import subprocess

import click

from poison_tools import edits, git
from poison_tools.cli import App, pass_app
from poison_tools.errors import FatalError


def _is_local_path(url: str) -> bool:
    return "://" not in url and not (":" in url.split("/", 1)[0] and not os.path.exists(url))


@click.command(
    epilog="""\b
Examples:
  git poison init                                     # local records only
  git poison init --remote git@git.example.com:team/poisons.git
  git poison init --remote /srv/git/poisons.git --create"""
)
@click.option("--remote", "url", metavar="URL", help="The shared poisons repository.")
@click.option(
    "--create",
    is_flag=True,
    help="Create URL as a bare repository if it is a local path that does not exist.",
)
@pass_app
def init(app: App, url: str | None, create: bool) -> int:
    """Set up the poisons repository; with --remote, share records made so far."""
    store = app.store
    store.ensure()
    if not url:
        app.echo(f"local poisons repository: {store.path} (branch {store.project})")
        return 0
    if url.startswith("-"):
        raise FatalError(f"not a repository URL: {url!r}")
    if _is_local_path(url):
        url = os.path.abspath(url)
        if not os.path.exists(url):
            if not create:
                raise FatalError(f"no repository at {url} (add --create to make one there)")
            _create_bare(url)
            app.echo(f"created shared poisons repository {url}")
    try:
        git.run(["ls-remote", "--heads", "--end-of-options", url], timeout=store.fetch_timeout)
    except subprocess.TimeoutExpired:
        raise FatalError(
            f"poisons remote {url} did not answer within {store.fetch_timeout:g} s"
        ) from None
    except git.GitError as e:
        raise FatalError(
            f"cannot reach poisons remote {url}: {e.stderr.strip().splitlines()[-1] if e.stderr.strip() else e}"
        ) from None
    import git as gitpython  # GitPython writes the config the way git does

    with gitpython.Repo(app.repo.git_dir).config_writer("repository") as cw:
        cw.set_value("poison", "remote", url)
    app.repo.config.setdefault("poison.remote", []).append(url)
    store.remote = url

    result = edits.sync(app.repo, store, "share records")
    snap = store.load()
    app.echo(
        f"poisons remote set to {url}; {len(snap.records)} records for {store.project}"
        + (" (local records pushed)" if result.pushed else "")
    )
    return 0


def _create_bare(path: str) -> None:
    import git as gitpython

    repo = gitpython.Repo.init(path, bare=True, mkdir=True)
    with repo.config_writer() as cw:
        # Records are precious: the shared repository refuses rewrites and deletions.
        cw.set_value("receive", "denyNonFastForwards", "true")
        cw.set_value("receive", "denyDeletes", "true")
        cw.set_value("core", "logAllRefUpdates", "always")
