from __future__ import annotations

from pathlib import Path

import pytest

from poison_tools.git import SourceRepo
from poison_tools.project import normalize_url, project_name, sanitize_ref_name
from tests.gitrepo import Repo


@pytest.mark.parametrize(
    "url",
    [
        "git@Git.Example.com:org/svc.git",
        "https://git.example.com/org/svc",
        "https://git.example.com/org/svc.git/",
        "ssh://git@git.example.com/org/svc.git",
        "ssh://git@git.example.com:2222/org/svc",
        "https://user:token@git.example.com/org/svc.git",
    ],
)
def test_every_clone_url_of_one_service_names_one_branch(url: str) -> None:
    assert normalize_url(url) == "git.example.com/org/svc"


def test_local_paths_keep_their_path() -> None:
    assert normalize_url("/srv/git/svc.git") == "srv/git/svc"
    assert normalize_url("file:///srv/git/svc.git") == "srv/git/svc"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("a b/../c.lock", "a-b/c-lock"), ("..", ""), ("x~^:?*[y", "x-y"), ("ok/name", "ok/name")],
)
def test_hostile_names_become_valid_ref_names(raw: str, expected: str) -> None:
    assert sanitize_ref_name(raw) == expected


def test_poison_project_config_overrides_origin(repo: Repo) -> None:
    repo.git("remote", "add", "origin", "git@host:org/svc.git")
    assert project_name(SourceRepo.discover(str(repo.path))) == "host/org/svc"
    repo.git("config", "poison.project", "payments/api")
    assert project_name(SourceRepo.discover(str(repo.path))) == "payments/api"


def test_repository_without_origin_is_named_from_its_folder(tmp_path: Path) -> None:
    r = Repo(tmp_path / "billing")
    r.commit()
    assert project_name(SourceRepo.discover(str(r.path / "."))) == "local/billing"
