"""The edits core (`poison_tools/edits.py`) called as functions, as the CLI and the
language server call it: real source repositories, real poisons repositories and a real
bare remote; no `git poison` process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from poison_tools import edits
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from poison_tools.records.store import Change, PoisonStore, WriteResult
from tests.gitrepo import Repo, git, service_with_origin
from tests.poisons_work import PoisonsWork


def _open(repo: Repo) -> tuple[SourceRepo, PoisonStore]:
    """The source repository as the core sees it, its config read now."""
    src = SourceRepo.discover(str(repo.path))
    return src, PoisonStore(src)


def _tip(store: PoisonStore) -> str:
    return git(store.path, "rev-parse", "--verify", store.branch)


def _shared_record(remote: Path, store: PoisonStore, rid: str) -> dict[str, object]:
    return json.loads(git(remote, "show", f"{store.branch}:records/{rid}.json"))  # type: ignore[no-any-return]


@pytest.fixture
def history(repo: Repo) -> tuple[Repo, str, str, str]:
    """master: initial, poison, fix (the fix of the poison), in that order."""
    before = repo.rev("HEAD")
    poison = repo.commit("poison")
    fix = repo.commit("fix")
    return repo, before, poison, fix


def test_first_poison_starts_the_projects_branch_and_reads_back_as_written(history) -> None:
    repo, _before, poison, _fix = history
    src, store = _open(repo)
    edit = edits.add_poison(
        src,
        store,
        [poison, poison],
        "  hangs on io error\n\ndetails  ",
        bug="JIRA-1",
        severity="high",
    )
    assert edit.changed and edit.result.started and not edit.result.pushed
    assert edit.same_poison == []
    [record] = store.load().records.values()
    assert record == edit.record
    assert record.poisons == (poison,)  # a commit named twice is recorded once
    assert record.comment == "hangs on io error\n\ndetails"
    assert (record.bug, record.severity) == ("JIRA-1", "high")
    assert record.editor == "Test Author <author@example.com>"
    # One commit by its author, whose subject is the first line of the comment.
    assert git(store.path, "log", "--format=%an|%s", store.branch) == (
        f"Test Author|poison {record.id}: hangs on io error"
    )


def test_second_record_of_the_same_commit_names_the_first(history) -> None:
    repo, _before, poison, _fix = history
    src, store = _open(repo)
    first = edits.add_poison(src, store, [poison], "one")
    second = edits.add_poison(src, store, [poison], "the same, seen again")
    assert second.same_poison == [first.record.id]
    assert not second.result.started
    assert sorted(store.load().records) == sorted([first.record.id, second.record.id])


def test_cure_adds_the_fix_and_the_same_cure_again_writes_nothing(history) -> None:
    repo, _before, poison, fix = history
    src, store = _open(repo)
    rid = edits.add_poison(src, store, [poison], "bug").record.id
    cured = edits.add_cures(src, store, rid[:5], [fix])  # a unique prefix is enough
    assert cured.changed and cured.added == [fix] and cured.record.cures == (fix,)
    assert store.load().records[rid].cures == (fix,)
    tip = _tip(store)
    again = edits.add_cures(src, store, rid, [fix])
    assert not again.changed and again.added == [] and again.record.cures == (fix,)
    assert _tip(store) == tip


def test_cure_that_is_an_ancestor_of_the_poison_is_refused_and_nothing_is_written(history) -> None:
    repo, before, poison, _fix = history
    src, store = _open(repo)
    rid = edits.add_poison(src, store, [poison], "bug").record.id
    tip = _tip(store)
    with pytest.raises(FatalError, match="is an ancestor of the poison"):
        edits.add_cures(src, store, rid, [before])
    with pytest.raises(FatalError, match="is the poison itself"):
        edits.add_cures(src, store, rid, [poison])
    assert _tip(store) == tip
    assert store.load().records[rid].cures == ()


def test_cure_of_an_unknown_record_id_is_refused_with_the_way_to_list_them(history) -> None:
    repo, _before, poison, fix = history
    src, store = _open(repo)
    edits.add_poison(src, store, [poison], "bug")
    tip = _tip(store)
    with pytest.raises(FatalError, match="no record 'zzzzzz'.*git poison list"):
        edits.add_cures(src, store, "zzzzzz", [fix])
    with pytest.raises(FatalError, match="no record"):
        edits.withdraw(src, store, "zzzzzz", "gone")
    assert _tip(store) == tip


def test_cure_of_a_withdrawn_record_is_refused_with_the_reason(history) -> None:
    repo, _before, poison, fix = history
    src, store = _open(repo)
    rid = edits.add_poison(src, store, [poison], "bug").record.id
    edits.withdraw(src, store, rid, "  not a bug after all \n")
    with pytest.raises(FatalError, match=f"record {rid} was withdrawn: not a bug after all"):
        edits.add_cures(src, store, rid, [fix])
    assert store.load().records[rid].cures == ()


def test_withdrawing_twice_writes_once_and_keeps_the_first_reason(history) -> None:
    repo, _before, poison, _fix = history
    src, store = _open(repo)
    rid = edits.add_poison(src, store, [poison], "bug").record.id
    first = edits.withdraw(src, store, rid, "duplicate of another")
    assert first.changed and first.record.withdrawn is not None
    assert first.record.withdrawn.reason == "duplicate of another"
    assert first.record.withdrawn.by == "Test Author <author@example.com>"
    tip = _tip(store)
    second = edits.withdraw(src, store, rid, "said again")
    assert not second.changed and _tip(store) == tip
    snap = store.load()
    assert snap.active == [] and snap.records[rid].withdrawn == first.record.withdrawn


def test_restore_of_a_record_that_has_not_vanished_is_refused(history) -> None:
    repo, _before, poison, _fix = history
    src, store = _open(repo)
    rid = edits.add_poison(src, store, [poison], "bug").record.id
    with pytest.raises(FatalError, match=f"record {rid} has not vanished"):
        edits.restore(src, store, rid)
    with pytest.raises(FatalError, match="no record"):
        edits.restore(src, store, "zzzzzz")


def _shared_service(tmp_path: Path, remote: Path) -> tuple[Repo, str]:
    """A service whose one commit is the poison, its records shared on `remote`."""
    repo, _origin = service_with_origin(tmp_path)
    repo.git("config", "poison.remote", str(remote))
    return repo, repo.rev("HEAD")


def test_restore_writes_back_a_record_file_deleted_on_the_remote(
    tmp_path: Path, remote: Path
) -> None:
    repo, poison = _shared_service(tmp_path, remote)
    src, store = _open(repo)
    rid = edits.add_poison(src, store, [poison], "service hangs").record.id
    PoisonsWork(remote, store.project, tmp_path / "work").delete(f"records/{rid}.json")
    assert rid not in store.load().records
    restored = edits.restore(src, store, rid[:6])
    assert restored.changed and restored.result.pushed
    assert restored.record.id == rid and restored.record.comment == "service hangs"
    assert _shared_record(remote, store, rid)["comment"] == "service hangs"
    # Restored once: asked again, it is a record like any other.
    with pytest.raises(FatalError, match="has not vanished"):
        edits.restore(src, store, rid)


def test_withdrawing_a_record_deleted_on_the_remote_brings_it_back_withdrawn(
    tmp_path: Path, remote: Path
) -> None:
    repo, poison = _shared_service(tmp_path, remote)
    src, store = _open(repo)
    rid = edits.add_poison(src, store, [poison], "service hangs").record.id
    PoisonsWork(remote, store.project, tmp_path / "work").delete(f"records/{rid}.json")
    edit = edits.withdraw(src, store, rid, "not a bug")
    assert edit.changed and edit.result.pushed
    assert _shared_record(remote, store, rid)["withdrawn"]["reason"] == "not a bug"  # type: ignore[index]


def test_sync_shares_a_record_made_while_the_remote_was_away(tmp_path: Path, remote: Path) -> None:
    repo, poison = _shared_service(tmp_path, remote)
    src, store = _open(repo)
    online = edits.add_poison(src, store, [poison], "online").record.id
    away = remote.with_name("away.git")
    remote.rename(away)
    offline = edits.add_poison(src, store, [poison], "offline")
    assert offline.changed and not offline.result.pushed and offline.result.offline is not None
    result = edits.sync(src, store)  # still away: nothing lost, nothing pushed
    assert not result.pushed and result.offline is not None
    away.rename(remote)
    result = edits.sync(src, store)
    assert result.pushed and result.commit is None  # sync changes no record
    names = git(remote, "ls-tree", "--name-only", store.branch, "records/").split()
    assert sorted(names) == sorted(f"records/{i}.json" for i in (online, offline.record.id))
    assert edits.sync(src, store).offline is None


class _RacedStore(PoisonStore):
    """A real store whose write, once, has another writer push right after it fetched:
    the race of a busy remote, made certain instead of left to timing."""

    def __init__(self, source: SourceRepo, rival: Callable[[], object]) -> None:
        super().__init__(source)
        self.rival: Callable[[], object] | None = rival
        self.writing = False

    def write(self, change: Change, message: str, author: tuple[str, str]) -> WriteResult:
        self.writing = True
        try:
            return super().write(change, message, author)
        finally:
            self.writing = False

    def fetch(self) -> str | None:
        tip = super().fetch()
        if self.writing and self.rival is not None:
            rival, self.rival = self.rival, None
            rival()
        return tip


def _two_writers(tmp_path: Path, remote: Path) -> tuple[Repo, Repo, str, list[str]]:
    """Two clones of one service sharing `remote`; the poison and two fixes on master."""
    seed, origin = service_with_origin(tmp_path)
    poison = seed.rev("HEAD")
    fixes = [seed.commit("fix a"), seed.commit("fix b")]
    seed.git("push", "-q", "origin", "master")
    ours, theirs = (Repo.clone(origin, tmp_path / n) for n in ("ours", "theirs"))
    for r in (ours, theirs):
        r.git("config", "poison.remote", str(remote))
    theirs.git("config", "user.name", "Their Name")
    return ours, theirs, poison, fixes


def test_a_record_added_while_another_writer_pushes_loses_neither(
    tmp_path: Path, remote: Path
) -> None:
    ours, theirs, poison, _fixes = _two_writers(tmp_path, remote)
    src_t, store_t = _open(theirs)
    rival: list[str] = []

    def theirs_first() -> None:
        rival.append(edits.add_poison(src_t, store_t, [poison], "theirs").record.id)

    src, _ = _open(ours)
    store = _RacedStore(src, theirs_first)
    mine = edits.add_poison(src, store, [poison], "mine")
    assert rival and mine.result.pushed
    assert mine.same_poison == rival  # the change was made again on the newest records
    names = git(remote, "ls-tree", "--name-only", store.branch, "records/").split()
    assert sorted(names) == sorted(f"records/{i}.json" for i in (*rival, mine.record.id))
    # Two commits, one per author, on a history never rewritten.
    assert git(remote, "log", "--format=%an", store.branch).splitlines() == [
        "Test Author",
        "Their Name",
    ]


def test_cures_and_a_withdrawal_racing_on_one_record_are_all_kept(
    tmp_path: Path, remote: Path
) -> None:
    ours, theirs, poison, (fix_a, fix_b) = _two_writers(tmp_path, remote)
    src_t, store_t = _open(theirs)
    src, _ = _open(ours)
    rid = edits.add_poison(src_t, store_t, [poison], "bug").record.id
    store = _RacedStore(src, lambda: edits.add_cures(src_t, store_t, rid, [fix_a]))
    mine = edits.add_cures(src, store, rid, [fix_b])
    assert store.rival is None and mine.result.pushed and mine.added == [fix_b]
    assert sorted(_shared_record(remote, store, rid)["cures"]) == sorted([fix_a, fix_b])  # type: ignore[arg-type]
    # A withdrawal racing a cure: both kept.
    fix_c = theirs.commit("fix c")
    store = _RacedStore(src, lambda: edits.add_cures(src_t, store_t, rid, [fix_c]))
    edits.withdraw(src, store, rid, "fixed upstream")
    shared = _shared_record(remote, store, rid)
    assert store.rival is None
    assert sorted(shared["cures"]) == sorted([fix_a, fix_b, fix_c])  # type: ignore[arg-type]
    assert shared["withdrawn"]["reason"] == "fixed upstream"  # type: ignore[index]
