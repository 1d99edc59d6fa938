from __future__ import annotations

import json
from pathlib import Path

import pytest

from poison_tools.git import SourceRepo
from poison_tools.records.project import normalize_url, project_name, sanitize_ref_name
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


def _records_under(repo: Repo, project: str) -> str:
    repo.git("config", "poison.project", project)
    return repo.add_poison(repo.rev("HEAD"), "a bug")


def test_misspelt_project_warns_in_every_command_and_names_the_nearest(repo: Repo) -> None:
    _records_under(repo, "payments/api")
    _records_under(repo, "search/indexer")
    repo.git("config", "poison.project", "payments/apj")
    hint = 'did you mean "payments/api"?'
    check = repo.poison("check")
    assert check.rc == 0
    assert 'poison.project "payments/apj" has no records' in check.err and hint in check.err
    data = json.loads(repo.poison("check", "--json").out)
    assert len(data["warnings"]) == 1 and hint in data["warnings"][0]
    assert hint in json.loads(repo.poison("list", "--json").out)["warnings"][0]
    for args in (["list"], ["scope"], ["backports"], ["check", "HEAD", "--since", "HEAD"]):
        r = repo.poison(*args)
        assert hint in r.err, (args, r.err)


def test_misspelt_project_on_a_shared_remote_is_found_there(tmp_path: Path, remote: Path) -> None:
    alice = Repo(tmp_path / "alice")
    alice.commit("bug")
    _records_under(alice, "payments/api")
    assert alice.poison("init", "--remote", str(remote)).rc == 0
    bob = Repo.clone(alice.path, tmp_path / "bob")
    bob.git("config", "poison.remote", str(remote))
    bob.git("config", "poison.project", "payments/API")
    r = bob.poison("check")
    assert r.rc == 0 and 'did you mean "payments/api"?' in r.err, r.err


def test_a_first_project_with_no_records_anywhere_is_not_warned_about(repo: Repo) -> None:
    repo.git("config", "poison.project", "payments/api")
    r = repo.poison("check", "--json")
    assert r.rc == 0 and "warning" not in r.err and json.loads(r.out)["warnings"] == []


def test_the_pre_push_hook_warns_about_a_misspelt_project_too(tmp_path: Path) -> None:
    from tests.test_hook import lts_commit, make_service, push

    svc = make_service(tmp_path)
    project = json.loads(svc.repo.poison("list", "--json").out)["project"]
    svc.repo.git("config", "poison.project", project + "s")
    lts_commit(svc)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc == 0, r.err
    assert f'did you mean "{project}"?' in r.err


def test_first_record_filed_under_a_misspelt_project_is_warned_about(repo: Repo) -> None:
    _records_under(repo, "payments/api")
    repo.git("config", "poison.project", "payments/apj")
    first = repo.poison("add", repo.rev("HEAD"), "-m", "filed where nobody looks")
    assert first.rc == 0 and len(first.out.split()) == 1, first.err  # stdout: the id alone
    assert 'poison.project "payments/apj" had no records before this one' in first.err
    assert 'did you mean "payments/api"?' in first.err
    # The second record of that project is its own business: no warning any more.
    second = repo.poison("add", repo.rev("HEAD"), "-m", "another")
    assert second.rc == 0 and "did you mean" not in second.err, second.err


def test_first_record_of_the_only_project_is_not_warned_about(repo: Repo) -> None:
    r = repo.poison("add", repo.rev("HEAD"), "-m", "first ever")
    assert r.rc == 0 and "warning" not in r.err, r.err
