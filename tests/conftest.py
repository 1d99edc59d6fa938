from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.gitrepo import Repo, bare


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own HOME and git identity; the user's real config and
    caches are never read or written."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test Author\n\temail = author@example.com\n"
        "[init]\n\tdefaultBranch = master\n[advice]\n\tdetachedHead = false\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(home / ".cache" / "pre-commit"))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "NO_COLOR", "GIT_POISON_NO_FETCH"):
        monkeypatch.delenv(var, raising=False)
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A source repository with one commit on master."""
    r = Repo(tmp_path / "svc")
    r.commit("initial")
    return r


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare shared poisons repository."""
    return bare(tmp_path / "poisons.git")


__all__ = ["os"]
