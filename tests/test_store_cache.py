"""The parsed-records cache: used when it matches the poisons-branch tip, never otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from poison_tools.git import SourceRepo
from poison_tools.records import store_cache
from poison_tools.records.record import Record, new_id, now_iso
from poison_tools.records.store import PoisonStore, Snapshot
from tests.damage import damaged_copies
from tests.gitrepo import Repo, git


def _record(poison: str, comment: str) -> Record:
    return Record(
        id=new_id(),
        poisons=(poison,),
        comment=comment,
        editor="T <t@x>",
        created=now_iso(),
        updated=now_iso(),
    )


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


def _cached(repo: Repo) -> dict[str, Any]:
    """The cache's content (the line after its checksum line)."""
    doc: dict[str, Any] = json.loads(_cache_file(repo).read_bytes().split(b"\n", 1)[-1])
    return doc


def test_second_read_of_one_branch_tip_comes_from_the_cache(repo: Repo) -> None:
    bug = repo.commit("bug")
    tip = _add(repo, _record(bug, "service hangs"))
    first = _load(repo)
    assert _cached(repo)["commit"] == tip
    # Prove the second read uses the cache: git could not read a single record now.
    objects = repo.path / ".git" / "poison" / "objects"
    objects.rename(objects.with_name("objects-away"))
    try:
        second = _load(repo)
    finally:
        objects.with_name("objects-away").rename(objects)
    assert [r.comment for r in first.records.values()] == ["service hangs"]
    assert second.records == first.records and second.tip == tip and second.notices == []


def test_new_record_moves_the_tip_and_the_cache_is_not_believed(repo: Repo) -> None:
    bug, other = repo.commit("bug"), repo.commit("other bug")
    _add(repo, _record(bug, "first"))
    assert len(_load(repo).records) == 1
    tip = _add(repo, _record(other, "second"))
    snap = _load(repo)
    assert sorted(r.comment for r in snap.records.values()) == ["first", "second"]
    assert _cached(repo)["commit"] == tip


def test_damaged_cache_files_are_ignored_and_replaced(repo: Repo) -> None:
    bug = repo.commit("bug")
    tip = _add(repo, _record(bug, "real"))
    for damage in (
        b"{not json",
        b"[]",
        b'{"rules": "1/1/65536", "commit": "%s", "items": [{"id": 3}]}' % tip.encode(),
        b'{"rules": "999", "commit": "%s", "items": []}' % tip.encode(),
    ):
        _cache_file(repo).write_bytes(damage)
        snap = _load(repo)
        assert [r.comment for r in snap.records.values()] == ["real"], damage
        assert _cached(repo)["commit"] == tip


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


# -- a damaged cache is never believed over git (issue 11) -----------------------------

NOTICE = "records cache damaged"
NO_INDEX = {"GIT_POISON_INDEX": "0"}


def _poisoned_head(repo: Repo) -> tuple[str, str]:
    """HEAD carries one uncured poison; the records cache is warm. (poison, record id)"""
    bug = repo.commit("bug: service hangs")
    repo.commit("later work")
    record_id = repo.add_poison(bug, "service hangs")
    first = repo.poison("check", timeout=60)
    assert first.rc == 1 and record_id in first.out, first.out + first.err
    assert _cached(repo)["items"][0]["poisons"] == [bug]
    return bug, record_id


def _assert_poisoned_with_notice(repo: Repo, record_id: str, env: dict[str, str]) -> None:
    damaged = repo.poison("check", env=env, timeout=60)
    assert damaged.rc == 1 and record_id in damaged.out, damaged.out + damaged.err
    notices = [ln for ln in damaged.err.splitlines() if NOTICE in ln]
    assert len(notices) == 1 and "Traceback" not in damaged.err, damaged.err
    # Read from git again and rewritten: the next run is clean, without a notice.
    again = repo.poison("check", env=env, timeout=60)
    assert again.rc == 1 and record_id in again.out and NOTICE not in again.err, again.err
    assert _cache_file(repo).is_file()


def _change_one_character_of_the_poison(repo: Repo, bug: str) -> None:
    raw = _cache_file(repo).read_bytes()
    other = bug[:-1] + ("0" if bug[-1] != "0" else "1")
    assert raw.count(bug.encode()) == 1
    _cache_file(repo).write_bytes(raw.replace(bug.encode(), other.encode()))


def _empty_the_poisons_list(repo: Repo, bug: str) -> None:
    raw = _cache_file(repo).read_bytes()
    listed = b'"poisons":["%s"]' % bug.encode()
    assert raw.count(listed) == 1
    _cache_file(repo).write_bytes(raw.replace(listed, b'"poisons":[]'))


def _truncate(repo: Repo, bug: str) -> None:
    raw = _cache_file(repo).read_bytes()
    _cache_file(repo).write_bytes(raw[: len(raw) // 2])


def _fifo(repo: Repo, bug: str) -> None:
    _cache_file(repo).unlink()
    os.mkfifo(_cache_file(repo))


@pytest.mark.parametrize("env", [{}, NO_INDEX], ids=["index", "no-index"])
@pytest.mark.parametrize(
    "damage", [_change_one_character_of_the_poison, _empty_the_poisons_list, _truncate, _fifo]
)
def test_damaged_records_cache_still_finds_the_poison_with_a_notice(
    repo: Repo, damage: Any, env: dict[str, str]
) -> None:
    bug, record_id = _poisoned_head(repo)
    damage(repo, bug)
    _assert_poisoned_with_notice(repo, record_id, env)


def test_records_cache_replaced_by_a_device_is_not_read(repo: Repo) -> None:
    bug, record_id = _poisoned_head(repo)
    _cache_file(repo).unlink()
    _cache_file(repo).symlink_to("/dev/zero")  # endless: read whole, memory runs out
    _assert_poisoned_with_notice(repo, record_id, NO_INDEX)


def test_records_cache_of_another_repository_is_not_believed(tmp_path: Path, repo: Repo) -> None:
    other = Repo(tmp_path / "other")
    other.commit("initial")
    other.commit("a harmless commit")
    other.poison("add", other.rev("HEAD"), "-m", "elsewhere")
    assert other.poison("check").rc == 1
    _bug, record_id = _poisoned_head(repo)
    _cache_file(repo).write_bytes(_cache_file(other).read_bytes())  # a sound cache, of them
    r = repo.poison("check", env=NO_INDEX, timeout=60)
    assert r.rc == 1 and record_id in r.out and "elsewhere" not in r.out, r.out + r.err
    assert NOTICE not in r.err  # not damaged, merely someone else's: replaced quietly
    assert _cached(repo)["items"][0]["id"] == record_id


def test_cache_of_the_format_before_checksums_is_replaced_quietly(repo: Repo) -> None:
    bug, record_id = _poisoned_head(repo)
    old = {"rules": "1/1/65536", "commit": _cached(repo)["commit"], "items": []}
    _cache_file(repo).write_text(json.dumps(old, separators=(",", ":")))
    r = repo.poison("check", env=NO_INDEX, timeout=60)
    assert r.rc == 1 and record_id in r.out and NOTICE not in r.err, r.out + r.err


def test_any_damage_to_the_records_cache_is_refused_never_believed_nor_a_crash(repo: Repo) -> None:
    bug = repo.commit("bug")
    tip = _add(repo, _record(bug, "service hangs"))
    sound = _load(repo)
    original = _cache_file(repo).read_bytes()
    poisons_dir = str(repo.path / ".git" / "poison")
    branch = PoisonStore(SourceRepo.discover(str(repo.path))).branch
    for damaged in damaged_copies(original, 300, seed=7):
        _cache_file(repo).write_bytes(damaged)
        items, _notice = store_cache.read(poisons_dir, branch, tip)
        # Refused (with a notice, or quietly as another version's), never believed.
        assert items is None, damaged
    _cache_file(repo).write_bytes(original)
    items, notice = store_cache.read(poisons_dir, branch, tip)
    assert items is not None and notice is None
    assert {i.id: i for i in items if isinstance(i, Record)} == sound.records


def test_caches_written_by_one_user_can_be_read_by_the_others_of_a_shared_repository(
    repo: Repo,
) -> None:
    bug = repo.commit("bug")
    repo.add_poison(bug, "shared")
    assert repo.poison("check").rc == 1
    common = repo.path / ".git"
    written = [_cache_file(repo), *(common / "poison-index").glob("*")]
    assert len(written) >= 2
    for path in written:
        assert path.stat().st_mode & 0o044 == 0o044, path
