"""`check.open_checker`, the one way every face builds a `Checker`, and `check_head`:
which equivalence it chooses, when the copy scan runs, and what `scope` and `backports`
hint with it."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

import pytest

from poison_tools.check import Checker, check_head, open_checker
from poison_tools.copies.equivalence import Copies
from poison_tools.copies.protocol import Identity
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.reach.engine import reachability
from poison_tools.records.store import PoisonStore
from tests.gitrepo import Repo

LIB = "".join(f"line {i}\n" for i in range(20))


def _open(repo: Repo) -> tuple[SourceRepo, PoisonStore]:
    src = SourceRepo.discover(str(repo.path))
    return src, PoisonStore(src, fetch=False)


@pytest.fixture
def guessed(repo: Repo) -> tuple[Repo, str, str]:
    """master: the poison, then its cure; lts/1 (from the poison) has a different change
    under the cure's subject: a "probable cure, confirm?" hint, never a cure."""
    repo.commit("lib", {"lib.c": LIB})
    poison = repo.commit("faster parser", {"lib.c": LIB.replace("line 5\n", "line 5 BUG\n")})
    repo.branch("lts/1")
    cure = repo.commit("fix parser overflow", {"lib.c": LIB.replace("line 5\n", "line 5 ok\n")})
    repo.checkout("lts/1")
    guess = repo.commit(
        "fix parser overflow", {"lib.c": LIB.replace("line 5\n", "line 5 guarded\n")}
    )
    repo.checkout("master")
    rid = repo.add_poison(poison, "parser overflows")
    repo.add_cure(rid, cure)
    return repo, rid, guess


def test_configured_equivalence_hints_and_none_gives_identity_and_no_hint(guessed) -> None:
    repo, rid, guess = guessed
    src, store = _open(repo)
    assert isinstance(open_checker(src, store.load()).equivalence, Copies)
    scope = json.loads(repo.poison("scope", "--branches", "lts/1", "--json").out)
    [cell] = scope["records"][0]["refs"]
    assert [p["commit"] for p in cell["probable_cures"]] == [guess]
    backports = repo.poison("backports", "--branches", "lts/1")
    assert backports.rc == 1 and f"probable cure {guess[:12]}" in backports.out

    repo.git("config", "poison.equivalence", "none")
    src, store = _open(repo)
    checker = open_checker(src, store.load())
    assert isinstance(checker.equivalence, Identity) and checker.equivalence.probable(guess) == []
    scope = json.loads(repo.poison("scope", "--branches", "lts/1", "--json").out)
    [cell] = scope["records"][0]["refs"]
    assert cell["status"] == "affected" and cell["probable_cures"] == []
    backports = repo.poison("backports", "--branches", "lts/1")
    assert backports.rc == 1 and rid in backports.out and "probable" not in backports.out


def test_no_records_reads_no_equivalence_setting_in_any_command(repo: Repo) -> None:
    # With nothing to widen, check never read poison.equivalence; scope and backports
    # did, and failed on a setting that could change nothing: now all answer alike.
    repo.git("config", "poison.equivalence", "bogus")
    src, store = _open(repo)
    assert isinstance(open_checker(src, store.load()).equivalence, Identity)
    for args in (["check"], ["scope"], ["backports", "--branches", "*"]):
        r = repo.poison(*args)
        assert r.rc == 0 and "poison.equivalence" not in r.err, (args, r.err)
    assert not (repo.path / ".git" / "poison-cache").exists()
    repo.add_poison(repo.rev("HEAD"))
    for args in (["check"], ["scope"], ["backports", "--branches", "*"]):
        r = repo.poison(*args)
        assert r.rc == 2 and "poison.equivalence must be one of" in r.err, (args, r.err)


class _Counted(Identity):
    """No copies, and a count of the scans asked of it."""

    def __init__(self) -> None:
        self.expanded: list[set[str]] = []

    def expand(self, commits: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        self.expanded.append(set(commits))
        return {}


def test_the_constructor_only_stores_and_the_scan_runs_once_at_the_first_question(
    guessed,
) -> None:
    repo, _rid, _guess = guessed
    src, store = _open(repo)
    snapshot = store.load()
    counted = _Counted()
    checker = Checker(src, snapshot, reach=reachability(src), equivalence=counted)
    assert counted.expanded == []
    head = repo.rev("HEAD")
    assert checker.check(head, "HEAD").verdict == "healthy"
    assert checker.check(repo.rev("lts/1"), "lts/1").verdict == "poisoned"
    [record] = snapshot.active
    assert counted.expanded == [{*record.poisons, *record.cures}]
    # The factory scans before it returns: progress and errors before any verdict.
    counted = _Counted()
    open_checker(src, snapshot, equivalence=counted)
    assert len(counted.expanded) == 1


def test_check_head_is_check_of_head_and_an_unborn_head_has_no_verdict(
    guessed, tmp_path: Path
) -> None:
    repo, rid, _guess = guessed
    repo.checkout("lts/1")
    src, store = _open(repo)
    report = check_head(src, store.load())
    cli = json.loads(repo.poison("check", "--json").out)
    assert report.rev == "HEAD" and report.target == repo.rev("lts/1")
    assert report.verdict == cli["verdict"] == "poisoned"
    assert [f.record.id for f in report.poisoned] == [rid]
    empty = Repo(tmp_path / "empty")
    src, store = _open(empty)
    with pytest.raises(FatalError, match="no commit yet"):
        check_head(src, store.load())
