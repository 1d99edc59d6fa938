"""The parsed-records cache: used when it matches the poisons-branch tip, never otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path

from poison_tools import store_cache
from poison_tools.git import SourceRepo
from poison_tools.record import Record, new_id, now_iso
from poison_tools.store import PoisonStore, Snapshot
from tests.gitrepo import Repo, git


def _record(poison: str, comment: str) -> Record:
    return Record(id=new_id(), poisons=(poison,), comment=comment, editor="T <t@x>",
                  created=now_iso(), updated=now_iso())


def _add(repo: Repo, *records: Record) -> str:
    store = PoisonStore(SourceRepo.discover(str(repo.path)))

    def change(_snap: Snapshot) -> list[Record]:
        return list(records)

    result = store.write(change, "records", ("T", "t@x"))
    assert result.commit is not None
    return result.commit


def _load(repo: Repo) -> Snapshot:
    return PoisonStore(SourceRepo.discover(str(repo.path))).load()


def _cache_file(repo: Repo) -> Path:
    return Path(store_cache.cache_path(str(repo.path / ".git" / "poison")))


def test_second_read_of_one_branch_tip_comes_from_the_cache(repo: Repo) -> None:
    bug = repo.commit("bug")
    tip = _add(repo, _record(bug, "service hangs"))
    first = _load(repo)
    data = json.loads(_cache_file(repo).read_text())
    assert data["commit"] == tip
    # Prove the second read uses the cache: change the cached comment only.
    data["items"][0]["comment"] = "from the cache"
    _cache_file(repo).write_text(json.dumps(data))
    second = _load(repo)
    assert [r.comment for r in first.records.values()] == ["service hangs"]
    assert [r.comment for r in second.records.values()] == ["from the cache"]
    assert second.tip == tip


def test_new_record_moves_the_tip_and_the_cache_is_not_believed(repo: Repo) -> None:
    bug, other = repo.commit("bug"), repo.commit("other bug")
    _add(repo, _record(bug, "first"))
    assert len(_load(repo).records) == 1
    tip = _add(repo, _record(other, "second"))
    snap = _load(repo)
    assert sorted(r.comment for r in snap.records.values()) == ["first", "second"]
    assert json.loads(_cache_file(repo).read_text())["commit"] == tip


def test_damaged_cache_files_are_ignored_and_replaced(repo: Repo) -> None:
    bug = repo.commit("bug")
    tip = _add(repo, _record(bug, "real"))
    for damage in (b"{not json", b"[]", b'{"rules": "1/1/65536", "commit": "%s", "items": [{"id": 3}]}'
                   % tip.encode(), b'{"rules": "999", "commit": "%s", "items": []}' % tip.encode()):
        _cache_file(repo).write_bytes(damage)
        snap = _load(repo)
        assert [r.comment for r in snap.records.values()] == ["real"], damage
        assert json.loads(_cache_file(repo).read_text())["commit"] == tip


def test_hostile_records_stay_problems_when_read_from_the_cache(repo: Repo) -> None:
    repo.branch("side")
    repo.checkout("side")
    bug = repo.commit("bug on a side branch: HEAD is clean but for the bad file")
    repo.checkout("master")
    _add(repo, _record(bug, "real"))
    store_dir = repo.path / ".git" / "poison"
    branch = PoisonStore(SourceRepo.discover(str(repo.path))).branch
    work = Repo(repo.path.parent / "edit")
    work.git("fetch", "-q", str(store_dir), f"{branch}:refs/heads/x")
    work.checkout("x")
    (work.path / "records" / "badjson0001.json").write_text("{nope")
    work.git("add", "records")
    work.git("commit", "-q", "-m", "hostile")
    work.git("push", "-q", str(store_dir), f"x:{branch}")
    for _ in range(2):  # the first read fills the cache, the second reads it
        r = repo.poison("check")
        assert r.rc == 2, r.out + r.err
        assert "badjson0001" in r.out and "healthy" not in r.out
    assert "badjson0001" in _cache_file(repo).read_text()


def test_tips_are_read_from_packed_refs_as_git_reads_them(repo: Repo) -> None:
    bug = repo.commit("bug")
    tip = _add(repo, _record(bug, "packed"))
    store_dir = repo.path / ".git" / "poison"
    git(store_dir, "pack-refs", "--all")
    branch = PoisonStore(SourceRepo.discover(str(repo.path))).branch
    assert not (store_dir / branch).exists()
    snap = _load(repo)
    assert snap.tip == tip and [r.comment for r in snap.records.values()] == ["packed"]


def test_symbolic_branch_in_the_poisons_repository_is_resolved_by_git(repo: Repo) -> None:
    bug = repo.commit("bug")
    tip = _add(repo, _record(bug, "via symref"))
    store_dir = repo.path / ".git" / "poison"
    branch = PoisonStore(SourceRepo.discover(str(repo.path))).branch
    git(store_dir, "update-ref", "refs/heads/real", tip)
    os.unlink(store_dir / branch)
    git(store_dir, "symbolic-ref", branch, "refs/heads/real")
    snap = _load(repo)
    assert snap.tip == tip and [r.comment for r in snap.records.values()] == ["via symref"]
