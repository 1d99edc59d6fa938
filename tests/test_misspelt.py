"""records.misspelt: a project with no records while the poisons repository holds other
projects' is most likely a misspelt `poison.project`; the warning names the nearest
project, or lists them. A project with records, or the first project, hears nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from poison_tools.edits import add_poison
from poison_tools.git import SourceRepo
from poison_tools.records.misspelt import first_record_warning, project_warning
from poison_tools.records.store import PoisonStore, open_store
from poison_tools.trust import policy
from tests.gitrepo import Repo, git


def store_of(repo: Repo, *, fetch: bool = False) -> PoisonStore:
    return open_store(SourceRepo.discover(str(repo.path)), fetch=fetch)


def records_under(repo: Repo, *projects: str) -> None:
    """One record under each of `projects`, written by the real store (pushed when
    `poison.remote` is set); poison.project is left unset."""
    for project in projects:
        repo.git("config", "poison.project", project)
        source = SourceRepo.discover(str(repo.path))
        add_poison(source, open_store(source), [repo.rev("HEAD")], f"a bug of {project}")
    repo.git("config", "--unset", "poison.project")


def warning(repo: Repo, *, fetch: bool = False) -> str | None:
    store = store_of(repo, fetch=fetch)
    return project_warning(store, store.load())


@pytest.fixture
def two_projects(repo: Repo) -> Repo:
    """A real poisons repository holding the records of two projects."""
    records_under(repo, "payments/api", "search/indexer")
    return repo


def test_a_misspelt_project_is_told_the_nearest_name(two_projects: Repo) -> None:
    two_projects.git("config", "poison.project", "payments/apj")
    assert warning(two_projects) == (
        'poison.project "payments/apj" has no records, but the poisons repository has '
        'records of 2 other projects: did you mean "payments/api"? '
        "(git config poison.project payments/api)"
    )


def test_the_nearest_name_is_found_whatever_the_case(repo: Repo) -> None:
    records_under(repo, "PAYMENTS/API")
    repo.git("config", "poison.project", "payments/apj")
    said = warning(repo)
    assert said is not None and said.endswith(
        'did you mean "PAYMENTS/API"? (git config poison.project PAYMENTS/API)'
    )


def test_no_near_name_lists_the_projects_there_are(two_projects: Repo) -> None:
    two_projects.git("config", "poison.project", "billing")
    assert warning(two_projects) == (
        'poison.project "billing" has no records, but the poisons repository has records of '
        "2 other projects (payments/api, search/indexer); set the right one with "
        "`git config poison.project NAME`"
    )


def test_a_long_list_is_cut_after_five(repo: Repo) -> None:
    records_under(repo, *(f"team{i}/svc" for i in range(6)))
    repo.git("config", "poison.project", "billing")
    said = warning(repo)
    assert said is not None
    assert (
        "records of 6 other projects (team0/svc, team1/svc, team2/svc, team3/svc, "
        "team4/svc, ...)" in said
    )


def test_one_other_project_is_one_project(repo: Repo) -> None:
    records_under(repo, "payments/api")
    repo.git("config", "poison.project", "billing")
    said = warning(repo)
    assert said is not None and "records of 1 other project (payments/api)" in said


def test_a_name_from_the_origin_url_says_so(repo: Repo) -> None:
    records_under(repo, "git.example.com/payments/api")
    repo.git("remote", "add", "origin", "git@git.example.com:payments/apj.git")
    said = warning(repo)
    assert said is not None and said.startswith(
        'poison.project "git.example.com/payments/apj" (named after remote.origin.url) has no '
        "records"
    )
    assert 'did you mean "git.example.com/payments/api"?' in said


def test_a_project_with_records_hears_nothing(two_projects: Repo) -> None:
    two_projects.git("config", "poison.project", "payments/api")
    assert warning(two_projects) is None


def test_the_first_project_hears_nothing(repo: Repo) -> None:
    repo.git("config", "poison.project", "payments/api")
    assert warning(repo) is None  # no poisons repository yet
    assert first_record_warning(store_of(repo)) is None
    records_under(repo, "payments/api")
    repo.git("config", "poison.project", "payments/api")
    assert warning(repo) is None


def test_the_first_record_under_a_misspelt_name_is_warned_about(two_projects: Repo) -> None:
    records_under(two_projects, "payments/apj")
    two_projects.git("config", "poison.project", "payments/apj")
    said = first_record_warning(store_of(two_projects))
    assert said is not None and said.startswith(
        'poison.project "payments/apj" had no records before this one, but the poisons '
        'repository has records of 2 other projects: did you mean "payments/api"?'
    )


# -- a shared poisons repository ----------------------------------------------------


@pytest.fixture
def shared(tmp_path: Path, remote: Path) -> Repo:
    """Bob's clone, pointed at a shared poisons repository where Alice filed records
    under two projects; Bob has fetched nothing yet."""
    alice = Repo(tmp_path / "alice")
    alice.commit("bug")
    alice.git("config", "poison.remote", str(remote))
    records_under(alice, "payments/api", "search/indexer")
    bob = Repo(tmp_path / "bob")
    bob.commit("bug")
    bob.git("config", "poison.remote", str(remote))
    bob.git("config", "poison.project", "payments/apj")
    return bob


def test_the_projects_of_a_shared_remote_are_asked_there(shared: Repo) -> None:
    said = warning(shared, fetch=True)
    assert said is not None and 'did you mean "payments/api"?' in said


def test_without_fetching_only_the_local_copy_is_asked(shared: Repo) -> None:
    assert warning(shared, fetch=False) is None  # nothing known here: no guess


def test_an_unreachable_remote_is_not_asked_again(shared: Repo, tmp_path: Path) -> None:
    shared.git("config", "poison.remote", str(tmp_path / "gone.git"))
    store = store_of(shared, fetch=True)
    snapshot = store.load()
    assert snapshot.stale is not None
    assert project_warning(store, snapshot) is None


# -- what is not a project ----------------------------------------------------------


def policy_branch(poisons: Path) -> None:
    """The trust policy's branch, which every project shares."""
    work = Repo(poisons.parent / "policy-work")
    work.commit("trust policy", {"policy.json": "{}\n"})
    git(work.path, "push", "-q", str(poisons), f"HEAD:{policy.LOCAL_REF}")


def test_the_trust_policy_branch_is_not_another_project(repo: Repo) -> None:
    records_under(repo, "payments/api")
    policy_branch(Path(store_of(repo).path))
    repo.git("config", "poison.project", "billing")
    said = warning(repo)
    assert said is not None and policy.BRANCH not in said, said
    assert "records of 1 other project (payments/api)" in said


def test_a_trust_policy_alone_is_no_reason_to_warn(tmp_path: Path, remote: Path) -> None:
    policy_branch(remote)
    repo = Repo(tmp_path / "svc")
    repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    repo.git("config", "poison.project", "payments/api")
    assert warning(repo, fetch=True) is None
    assert first_record_warning(store_of(repo, fetch=True)) is None


def test_a_hostile_branch_name_is_shown_escaped(tmp_path: Path, remote: Path) -> None:
    # Branch names of the poisons repository are its content: anyone with push access
    # chooses them, and git allows bidi overrides and C1 controls in them.
    work = Repo(tmp_path / "hostile")
    work.commit("x")
    hostile = "payments/ap\u202ei\u009b2J"
    git(work.path, "push", "-q", str(remote), f"HEAD:refs/heads/{hostile}")
    repo = Repo(tmp_path / "svc")
    repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    repo.git("config", "poison.project", "payments/api")
    said = warning(repo, fetch=True)
    assert said is not None and "payments/ap\\u202ei\\x9b2J" in said
    assert "\u202e" not in said and "\u009b" not in said
