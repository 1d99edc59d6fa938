"""The cherry-pick probe: clean, conflicting and unanswerable picks in one batch."""

from __future__ import annotations

from poison_tools.applies import CherryPickProbe
from poison_tools.git import SourceRepo
from tests.gitrepo import Repo


def test_one_batch_tells_clean_from_conflicting_and_merges_apart(repo: Repo) -> None:
    repo.commit("base", {"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "g\n"})
    repo.branch("clean")
    repo.branch("clash")
    cure = repo.commit("fix line 2", {"f": "1\nTWO\n3\n4\n5\n6\n7\n8\n"})
    repo.checkout("clean")
    repo.commit("touch line 7", {"f": "1\n2\n3\n4\n5\n6\nSEVEN\n8\n"})  # far away: merges
    repo.checkout("clash")
    repo.commit("rewrite line 2", {"f": "1\nzwei\n3\n4\n5\n6\n7\n8\n"})
    repo.checkout("master")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "clean")
    merge = repo.rev("HEAD")
    probe = CherryPickProbe(SourceRepo.discover(str(repo.path)))
    clean, clash = repo.rev("clean"), repo.rev("clash")
    try:
        got = probe.applies_many([(clean, cure), (clash, cure), (clean, merge), (clash, cure)])
    finally:
        probe.close()
    assert got == {(clean, cure): True, (clash, cure): False, (clean, merge): None}
    assert repo.git("status", "--porcelain") == ""
    assert repo.git("cat-file", "-t", clean) == "commit"
