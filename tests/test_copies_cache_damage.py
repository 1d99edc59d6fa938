"""A damaged copies cache is set aside and rebuilt with a one-line notice: never a wrong
answer, never an internal error, never a hang (issue 11)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from poison_tools.copies.patchid import PatchIdCache, cache_path
from poison_tools.git import SourceRepo
from tests.gitrepo import BIN, TEN_LINES, Repo, with_lines


def _reverted_cure(tmp_path: Path) -> tuple[Repo, str]:
    """master: base - poison - cure - revert of the cure: poisoned again, and only the
    revert line in the copies cache says so. Returns the repo and the path of its copies
    cache, built: small enough that its last page holds the index of reverts."""
    repo = Repo(tmp_path / "svc")
    repo.commit("base", {"app.py": TEN_LINES})
    poison = repo.commit("poison", {"app.py": with_lines({3: "bad 3"})})
    cure = repo.commit("cure", {"app.py": with_lines({3: "fixed 3"})})
    record = repo.add_poison(poison)
    repo.add_cure(record, cure)
    repo.git("revert", "--no-edit", cure)
    r = _check(repo)
    assert r.returncode == 1 and "was reverted here" in r.stdout
    path = cache_path(SourceRepo.discover(str(repo.path)))
    assert os.path.getsize(path) > 4 * 4096
    return repo, path


def _check(repo: Repo) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    # A FIFO at the cache's path used to hang the check for ever: never wait that long.
    return subprocess.run(
        ["git", "poison", "check"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _notice(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if "copies cache" in ln]


def _answers_right_with_one_notice(repo: Repo, path: str) -> None:
    r = _check(repo)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "was reverted here" in r.stdout
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert len(_notice(r.stderr)) == 1, r.stderr
    assert os.path.isfile(path)  # rebuilt on disk
    again = _check(repo)
    assert again.returncode == 1 and _notice(again.stderr) == [], again.stderr


def test_cache_cut_short_by_one_byte_is_rebuilt_and_the_revert_still_counts(tmp_path: Path) -> None:
    # SQLite reads the lost byte as a zero: the revert's index entry no longer matched,
    # and the check said "healthy".
    repo, path = _reverted_cure(tmp_path)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 1)
    _answers_right_with_one_notice(repo, path)
    assert os.path.exists(path + ".damaged")


def test_cache_with_garbage_pages_is_rebuilt_not_an_internal_error(tmp_path: Path) -> None:
    repo, path = _reverted_cure(tmp_path)
    # The schema and the meta table stay readable, so the cache opens; the first query
    # of another table used to end the check with an internal error, on every run.
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(3 * 4096)
        f.write(bytes((i * 131 + 7) % 251 for i in range(size - 3 * 4096)))
    _answers_right_with_one_notice(repo, path)


def test_fifo_at_the_cache_path_does_not_hang_the_check(tmp_path: Path) -> None:
    repo, path = _reverted_cure(tmp_path)
    os.remove(path)
    os.mkfifo(path)
    _answers_right_with_one_notice(repo, path)


def test_cache_damaged_between_two_questions_is_rebuilt_in_the_same_run(repo: Repo) -> None:
    # The library: the file goes bad after it was opened and scanned; the next query
    # finds the damage, and the cache rebuilds itself and answers.
    change = repo.commit("change", {"f": "a\n"})
    repo.git("revert", "--no-edit", change)
    undo = repo.rev("HEAD")
    src = SourceRepo.discover(str(repo.path))
    cache = PatchIdCache(src)
    cache.update()
    pages = [
        r[0]
        for r in cache.db.execute(
            "SELECT rootpage FROM sqlite_master WHERE tbl_name='reverts' AND rootpage > 0"
        )
    ]
    cache.db.close()
    cache = PatchIdCache(src)  # opened while still sound
    with open(cache_path(src), "r+b") as f:
        for page in pages:
            f.seek((page - 1) * 4096)
            f.write(b"\xa5" * 4096)
    assert cache.reverts_of([change]) == {change: [undo]}
    assert len(cache.notices) == 1 and "damaged" in cache.notices[0]


def test_a_directory_at_the_cache_path_is_worked_around(repo: Repo) -> None:
    repo.commit("one")
    src = SourceRepo.discover(str(repo.path))
    os.makedirs(cache_path(src))
    cache = PatchIdCache(src)
    assert cache.update() == 2
    assert cache.patch_id(repo.rev("HEAD"))
    assert len(cache.notices) == 1


def test_fifo_where_the_pair_facts_are_kept_does_not_hang_the_check(tmp_path: Path) -> None:
    repo, copies = _reverted_cure(tmp_path)
    pairs = Path(copies).parent / "pairs-v1.json"
    assert pairs.is_file()  # the cure-before-poison answer was kept
    pairs.unlink()
    os.mkfifo(pairs)
    r = _check(repo)
    assert r.returncode == 1 and "was reverted here" in r.stdout, (r.stdout, r.stderr)
    assert pairs.is_file()  # replaced by the facts asked again
