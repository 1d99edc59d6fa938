"""git log --raw -z of the poisons repository, read token by token: a file name holding
the header byte cannot pose as a commit."""

from __future__ import annotations

from pathlib import Path

from poison_tools.raw_log import HEADER_FORMAT, parse_raw_log
from tests.gitrepo import Repo, git
from tests.hostile import plant


def test_a_file_name_that_imitates_a_commit_header_stays_a_file_name(
    repo: Repo, tmp_path: Path
) -> None:
    repo.add_poison(repo.commit("bug"))
    store = repo.path / ".git" / "poison"
    branch = git(store, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
    forged = "f" * 40
    name = b"records/\x01" + forged.encode() + b" " + b"e" * 40 + b".json"
    planted = plant(store, branch, {name: b"{}"})
    out = git(store, "log", "--raw", "-z", "--no-abbrev", HEADER_FORMAT, "-1", planted)
    commits = parse_raw_log(out.encode("utf-8", "surrogateescape"))
    assert [c.commit for c in commits] == [planted]
    assert [ch.path.encode() for ch in commits[0].changes] == [name]
    assert commits[0].changes[0].status == "A"
