"""The per-commit copy facts cache: computed once, updated incrementally, on disk."""

from __future__ import annotations

import os

from poison_tools.copies.patchid import PatchIdCache, cache_path
from poison_tools.git import SourceRepo
from tests.gitrepo import Repo


def test_second_run_scans_nothing_and_new_commits_only_are_scanned(repo: Repo) -> None:
    for i in range(5):
        repo.commit(f"c{i}")
    src = SourceRepo.discover(str(repo.path))
    assert PatchIdCache(src).update() == 6
    assert os.path.isfile(cache_path(src))
    assert cache_path(src).startswith(src.common_dir)
    assert PatchIdCache(src).update() == 0  # a new process: read from disk
    repo.branch("side")
    assert PatchIdCache(src).update() == 0  # a new ref at a known commit
    repo.commit("one more")
    assert PatchIdCache(src).update() == 1


def test_patch_ids_match_git_cherry_picks_and_differ_for_reverts(repo: Repo) -> None:
    base = repo.commit("base", {"f": "a\n"})
    change = repo.commit("change", {"f": "a\nb\n"})
    repo.branch("other", base)
    repo.checkout("other")
    repo.commit("elsewhere", {"g": "x\n"})
    repo.git("cherry-pick", change)
    picked = repo.rev("HEAD")
    repo.git("revert", "--no-edit", "HEAD")
    reverted = repo.rev("HEAD")
    cache = PatchIdCache(SourceRepo.discover(str(repo.path)))
    cache.update()
    want = repo.git("show", change).encode()
    pid = repo.git("patch-id", "--stable", input=want.decode()).split()[0]
    assert cache.patch_id(change) == cache.patch_id(picked) == pid
    assert cache.patch_id(reverted) != pid
    assert sorted(cache.same_patch(change)) == sorted([change, picked])


def test_deleted_branch_tips_do_not_break_the_next_scan(repo: Repo) -> None:
    repo.branch("gone")
    repo.checkout("gone")
    repo.commit("only on gone")
    repo.checkout("master")
    src = SourceRepo.discover(str(repo.path))
    PatchIdCache(src).update()
    repo.git("branch", "-D", "gone")
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    repo.commit("new")
    assert PatchIdCache(src).update() == 1


def test_unwritable_cache_place_falls_back_to_memory(
    repo: Repo, tmp_path: os.PathLike[str]
) -> None:
    blocker = os.path.join(str(tmp_path), "a-file")
    open(blocker, "w").close()  # root ignores chmod; a file where a directory must go stops anyone
    src = SourceRepo.discover(str(repo.path))
    cache = PatchIdCache(src, path=os.path.join(blocker, "x.sqlite3"))
    assert cache.update() == 1
    assert cache.patch_id(repo.rev("HEAD"))


def test_a_patch_shared_by_too_many_commits_links_nothing(repo: Repo) -> None:
    base = repo.commit("base", {"f": "a\n"})
    shas = []
    for name in ("x", "y", "z"):
        repo.branch(name, base)
        repo.checkout(name)
        shas.append(repo.commit(f"same change on {name}", {"f": "a\nb\n"}))
    cache = PatchIdCache(SourceRepo.discover(str(repo.path)))
    cache.update()
    linked = cache.links([shas[0]])[shas[0]]
    assert sorted(s for s, how in linked if how == "patch-id") == sorted(shas[1:])
    assert cache.links([shas[0]], max_group=2)[shas[0]] == []


def test_cache_from_an_older_version_is_set_aside_and_rebuilt_on_disk(repo: Repo) -> None:
    import sqlite3

    src = SourceRepo.discover(str(repo.path))
    path = cache_path(src)
    os.makedirs(os.path.dirname(path))
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO meta VALUES ('schema', '1');"
        "CREATE TABLE commits (sha TEXT PRIMARY KEY, patch_id TEXT, change_id TEXT);"
    )
    old.close()
    assert PatchIdCache(src).update() == 1
    assert os.path.isfile(path + ".old")
    assert PatchIdCache(src).update() == 0  # the rebuilt cache is on disk, not in memory


def _logs_run(trace: str) -> int:
    """How many `git log` processes a GIT_TRACE2_EVENT file shows."""
    import json

    if not os.path.exists(trace):
        return 0
    with open(trace) as f:
        events = [json.loads(line) for line in f if line.strip()]
    return sum(1 for e in events if e.get("event") == "cmd_name" and e.get("name") == "log")


def test_tags_on_old_commits_and_deleted_branches_need_no_walk_with_the_index(
    repo: Repo, tmp_path: os.PathLike[str], monkeypatch: object
) -> None:
    import pytest

    from poison_tools.reach.engine import reachability

    old = [repo.commit(f"c{i}") for i in range(30)]
    repo.branch("doomed", old[20])
    src = SourceRepo.discover(str(repo.path))
    assert PatchIdCache(src, reach=reachability(src)).update() == 31
    # Many refs added (tags on old commits) and one deleted, as after a big fetch --prune.
    for i, sha in enumerate(old[::3]):
        repo.git("tag", f"old-{i}", sha)
    repo.git("branch", "-D", "doomed")
    trace = os.path.join(str(tmp_path), "trace.json")
    mp: pytest.MonkeyPatch = monkeypatch  # type: ignore[assignment]
    mp.setenv("GIT_TRACE2_EVENT", trace)
    assert PatchIdCache(src, reach=reachability(src)).update() == 0
    assert _logs_run(trace) == 0  # the index showed they are all in scanned history
    # A branch from an old commit that brings a commit of its own is still scanned.
    repo.branch("fix", old[5])
    repo.checkout("fix")
    fresh = repo.commit("fix on an old base")
    repo.checkout("master")
    cache = PatchIdCache(src, reach=reachability(src))
    assert cache.update() == 1 and cache.known([fresh]) == {fresh}
    assert _logs_run(trace) == 2  # messages and patch-ids: one walk, for the new tip only


def _rows(cache: PatchIdCache) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    return (
        sorted(cache.db.execute("SELECT * FROM commits")),
        sorted(cache.db.execute("SELECT * FROM copies")),
    )


def test_a_scan_staged_in_small_batches_stores_what_one_batch_does(
    repo: Repo,
    tmp_path: os.PathLike[str],
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    # 30 commits with changes, Change-Ids and a cherry-pick line, one with an empty
    # message: scanned with batches of 4 rows, then of the default size.
    from poison_tools.copies import patchid

    for i in range(30):
        message = f"change {i}\n\nChange-Id: I{i:040x}" if i % 3 else f"change {i}"
        repo.commit(message, {f"f{i % 4}": f"{i}\n"})
    first = repo.rev("HEAD~29")
    repo.commit(f"again\n\n(cherry picked from commit {first})", {"g": "x\n"})
    repo.git("commit", "-q", "--allow-empty", "--allow-empty-message", "-m", "")
    src = SourceRepo.discover(str(repo.path))
    big = PatchIdCache(src, path=os.path.join(str(tmp_path), "big.sqlite3"))
    assert big.update() == 33
    monkeypatch.setattr(patchid, "SCAN_BATCH", 4)
    small = PatchIdCache(src, path=os.path.join(str(tmp_path), "small.sqlite3"))
    assert small.update() == 33
    assert _rows(small) == _rows(big)
    commits, copies = _rows(big)
    assert sum(1 for row in commits if row[4]) == 32  # changed files: all but the empty commit
    assert not any(row[1] for row in commits)  # patch-ids: only when asked for
    big.prepare([row[0] for row in commits])
    assert sum(1 for row in _rows(big)[0] if row[1]) == 32  # all but the empty commit
    assert sum(1 for row in commits if row[2]) == 20  # Change-Ids
    assert [c[1] for c in copies] == [first]


def test_a_failing_git_log_is_an_error_and_leaves_the_cache_as_it_was(
    repo: Repo, tmp_path: os.PathLike[str]
) -> None:
    repo.commit("one")
    src = SourceRepo.discover(str(repo.path))
    cache = PatchIdCache(src, path=os.path.join(str(tmp_path), "c.sqlite3"))
    cache.update()
    before = _rows(cache)
    import pytest

    from poison_tools.git import GitError

    with pytest.raises(GitError, match="git log failed"):
        cache._scan(["0" * 40], walk=True)  # no such commit: git log exits 128
    assert _rows(cache) == before


def test_reverts_are_recorded_with_the_full_sha_of_what_they_undo(repo: Repo) -> None:
    change = repo.commit("change", {"f": "a\n"})
    repo.git("revert", "--no-edit", change)
    undo = repo.rev("HEAD")
    # A hand-written revert naming the commit by an abbreviation.
    again = repo.commit(f"Undo it again\n\nThis reverts commit {undo[:10]}.", {"f": "b\n"})
    cache = PatchIdCache(SourceRepo.discover(str(repo.path)))
    cache.update()
    assert cache.reverts_of([change, undo]) == {change: [undo], undo: [again]}
    assert cache.reverts_of([again]) == {}


def test_a_first_scan_read_in_two_halves_stores_what_one_walk_does_even_past_a_lost_tree(
    repo: Repo,
    tmp_path: os.PathLike[str],
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    # 40 commits, one of them merged in from a side branch; the root tree of commit 25
    # is gone, so neither it nor its child can be diffed. Read in two `git log` runs
    # side by side (a first scan of more than PARALLEL commits), the cache holds the
    # same rows, unreadable ones included, as after one walk.
    from poison_tools.copies import patchid

    for i in range(40):
        repo.commit(f"change {i}", {f"d{i % 5}/f{i}": f"{i}\n"})
    repo.branch("side", "HEAD~3")
    repo.checkout("side")
    repo.commit("side work", {"side.txt": "s\n"})
    repo.checkout("master")
    repo.git("merge", "-q", "--no-edit", "side")
    lost = repo.git("rev-parse", "HEAD~15^{tree}")
    os.remove(os.path.join(str(repo.path), ".git", "objects", lost[:2], lost[2:]))
    src = SourceRepo.discover(str(repo.path))

    def scanned(name: str) -> tuple[object, ...]:
        cache = PatchIdCache(src, path=os.path.join(str(tmp_path), name))
        n = cache.update()
        return (n, _rows(cache), sorted(cache.db.execute("SELECT sha, paths FROM unreadable")))

    whole = scanned("whole.sqlite3")
    monkeypatch.setattr(patchid, "PARALLEL", 4)
    halves = scanned("halves.sqlite3")
    assert halves == whole
    assert len(whole[2]) == 2 and all(paths is None for _, paths in whole[2])  # type: ignore[arg-type]
    assert sum(1 for row in whole[1][0] if row[4]) == 40  # type: ignore[index]
