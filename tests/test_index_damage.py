"""A damaged reachability index is rebuilt with a notice, never believed (issue 11).

Each test builds a real history whose HEAD carries a recorded poison, warms the index
with the real `git poison check`, damages the index file on disk (a zeroed name, a
zeroed range, a truncation, a FIFO in its place) and runs `git poison check` again:
it must still find the poison, say once on stderr that the index was rebuilt, never
hang, and the run after it must be clean.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from poison_tools.reach import index_file
from tests.damage import damaged_copies
from tests.gitrepo import Repo

NOTICE = "reachability index damaged"


def _graph(repo: Repo) -> Path:
    return repo.path / ".git" / "poison-index" / "graph"


def _stamp(repo: Repo) -> Path:
    return _graph(repo).with_name("graph" + index_file.VERIFIED)


def _poisoned_head(repo: Repo) -> tuple[str, str]:
    """A mainline with a merged side branch; the bug sits on the mainline below the
    merge, so that the answer depends on names, chains, positions and jumps alike.
    Returns (poison, record id) with the index warm."""
    for _ in range(5):
        repo.commit()
    bug = repo.commit("bug: service hangs")
    repo.branch("side")
    repo.checkout("side")
    repo.commit()
    repo.commit()
    repo.checkout("master")
    repo.commit()
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    repo.commit("later work")
    record_id = repo.add_poison(bug, "service hangs")
    first = repo.poison("check", timeout=60)
    assert first.rc == 1 and record_id in first.out, first.out + first.err
    assert _graph(repo).is_file()
    return bug, record_id


def _assert_poisoned_with_notice(repo: Repo, record_id: str) -> None:
    damaged = repo.poison("check", timeout=60)
    assert damaged.rc == 1 and record_id in damaged.out, damaged.out + damaged.err
    notices = [ln for ln in damaged.err.splitlines() if NOTICE in ln]
    assert len(notices) == 1 and "Traceback" not in damaged.err, damaged.err
    # Rebuilt on disk: the next run is clean, without a notice.
    again = repo.poison("check", timeout=60)
    assert again.rc == 1 and record_id in again.out and NOTICE not in again.err, again.err
    assert _graph(repo).is_file()


def _zero(path: Path, start: int, length: int) -> None:
    with open(path, "r+b") as f:
        f.seek(start)
        before = f.read(length)
        assert before.strip(b"\0"), "the range was zeros already: no damage"
        f.seek(start)
        f.write(b"\0" * len(before))


def _zero_the_poisons_name(repo: Repo, bug: str) -> None:
    data = _graph(repo).read_bytes()
    raw = bytes.fromhex(bug)
    assert data.count(raw) == 1  # its entry among the sorted names
    _zero(_graph(repo), data.index(raw), len(raw))


def _arrays_region(repo: Repo) -> tuple[int, int]:
    data = _graph(repo).read_bytes()
    at = len(index_file.MAGIC)
    header_end = at + 8 + int.from_bytes(data[at : at + 8], "little")
    return header_end, len(data)


def _zero_a_random_range(seed: int) -> Callable[[Repo, str], None]:
    def damage(repo: Repo, bug: str) -> None:
        start, end = _arrays_region(repo)
        data = _graph(repo).read_bytes()
        rng = random.Random(seed)
        while True:
            length = rng.randint(1, 64)
            at = rng.randrange(start, end - length)
            if data[at : at + length].strip(b"\0"):
                break
        _zero(_graph(repo), at, length)

    damage.__name__ = f"zero_a_random_range_{seed}"
    return damage


def _zero_part_of_the_header(repo: Repo, bug: str) -> None:
    start, _ = _arrays_region(repo)
    header = _graph(repo).read_bytes()[len(index_file.MAGIC) + 8 : start]
    fingerprint = json.loads(header)["fingerprint"]
    _zero(_graph(repo), _graph(repo).read_bytes().index(fingerprint.encode()) + 10, 4)


def _truncate(repo: Repo, bug: str) -> None:
    data = _graph(repo).read_bytes()
    _graph(repo).write_bytes(data[: len(data) // 2])


def _cut_the_trailer(repo: Repo, bug: str) -> None:
    data = _graph(repo).read_bytes()
    _graph(repo).write_bytes(data[:-3])


def _fifo(repo: Repo, bug: str) -> None:
    _graph(repo).unlink()
    os.mkfifo(_graph(repo))


@pytest.mark.parametrize(
    "damage",
    [
        _zero_the_poisons_name,
        *(_zero_a_random_range(seed) for seed in range(4)),
        _zero_part_of_the_header,
        _truncate,
        _cut_the_trailer,
        _fifo,
    ],
    ids=lambda d: d.__name__.strip("_"),
)
def test_damaged_index_still_finds_the_poison_and_is_rebuilt(
    repo: Repo, damage: Callable[[Repo, str], None]
) -> None:
    bug, record_id = _poisoned_head(repo)
    damage(repo, bug)
    _assert_poisoned_with_notice(repo, record_id)


def test_damage_after_the_index_was_verified_and_stamped_is_still_found(repo: Repo) -> None:
    bug, record_id = _poisoned_head(repo)
    # A file changed less than RACY_NS ago is verified on every read; once older, the
    # first reader verifies it and stamps it, and later readers trust the stamp.
    time.sleep(index_file.RACY_NS / 1e9 + 0.2)
    assert repo.poison("check", timeout=60).rc == 1
    assert _stamp(repo).is_file()
    stamped = _stamp(repo).read_bytes()
    assert repo.poison("check", timeout=60).rc == 1
    assert _stamp(repo).read_bytes() == stamped
    _zero_the_poisons_name(repo, bug)
    _assert_poisoned_with_notice(repo, record_id)


@pytest.mark.parametrize("kind", ["fifo", "directory", "garbage"])
def test_damaged_verification_stamp_costs_a_verification_only(repo: Repo, kind: str) -> None:
    _bug, record_id = _poisoned_head(repo)
    _stamp(repo).unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(_stamp(repo))
    elif kind == "directory":
        _stamp(repo).mkdir()
    else:
        _stamp(repo).write_bytes(b"\0" * 40)
    for run in range(2):
        r = repo.poison("check", timeout=60)
        assert r.rc == 1 and record_id in r.out and "Traceback" not in r.err, r.out + r.err
        assert NOTICE not in r.err  # the index itself was sound
        # Not a file: said once and removed; a directory stays, and is said every time.
        said = "index stamp damaged" in r.err
        assert said == (kind == "directory" or (kind == "fifo" and run == 0)), r.err


def test_index_command_reports_the_damage_it_repaired(repo: Repo) -> None:
    bug, _record_id = _poisoned_head(repo)
    _zero_the_poisons_name(repo, bug)
    r = repo.poison("index", timeout=60)
    assert r.rc == 0 and NOTICE in r.err, r.err
    assert NOTICE not in repo.poison("index", timeout=60).err


def test_any_damage_to_the_index_file_is_refused_never_believed_nor_a_crash(repo: Repo) -> None:
    # In-process, 300 kinds of damage: each read either refuses the file or, were the
    # damage ever to slip through, would have to give the very same arrays.
    _poisoned_head(repo)
    original = _graph(repo).read_bytes()
    sound = index_file.read(str(_graph(repo)))
    assert sound is not None
    probe = repo.path / "probe"
    for damaged in damaged_copies(original, 300, seed=11):
        probe.write_bytes(damaged)
        try:
            stored = index_file.read(str(probe))
        except index_file.CorruptIndex:
            continue
        raise AssertionError(f"damaged index believed ({stored is not None})")
