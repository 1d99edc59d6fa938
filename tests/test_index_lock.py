"""Two processes that need the index built at once share one build (issue 12): the one
that finds the build lock taken waits, then reads what the other wrote."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time
from pathlib import Path

from poison_tools.git import SourceRepo
from poison_tools.reach.index import IndexedReach, index_path
from tests.gitrepo import BIN, Repo


def _rev_lists(trace: Path) -> int:
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    return sum(1 for e in events if e.get("event") == "cmd_name" and e.get("name") == "rev-list")


def test_an_index_built_while_waiting_for_the_lock_is_read_not_built_again(
    repo: Repo, tmp_path: Path
) -> None:
    for i in range(30):
        repo.commit(f"c{i}")
    src = SourceRepo.discover(str(repo.path))
    path = index_path(src)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    trace = tmp_path / "trace.json"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "GIT_TRACE2_EVENT": str(trace),
    }
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process is building
        waiting = subprocess.Popen(
            ["git", "poison", "index", "--json"],
            cwd=repo.path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)
        assert waiting.poll() is None  # it waits for the lock
        builder = IndexedReach(src)
        builder._locked = True  # the holder of the lock builds
        builder.update()
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert json.loads(out)["commits"] == 31
    assert _rev_lists(trace) == 0  # it read the other's work instead of walking again


def test_a_copy_scan_done_while_waiting_for_the_lock_is_not_done_again(
    repo: Repo, tmp_path: Path
) -> None:
    from poison_tools.copies.patchid import PatchIdCache, cache_path

    for i in range(20):
        repo.commit(f"c{i}")
    bug = repo.rev("HEAD~5")
    repo.add_poison(bug)
    src = SourceRepo.discover(str(repo.path))
    path = cache_path(src)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    trace = tmp_path / "trace.json"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "GIT_TRACE2_EVENT": str(trace),
    }
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process is scanning
        waiting = subprocess.Popen(
            ["git", "poison", "check", "HEAD", "--json"],
            cwd=repo.path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)
        assert waiting.poll() is None  # it waits for the lock
        scanner = PatchIdCache(src)
        scanner.path = None  # the holder of the lock: it scans into the file, unlocked
        assert scanner.update() == 21
        scanner.db.close()
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 1, err
    assert json.loads(out)["verdict"] == "poisoned"
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    logs = [e["argv"] for e in events if e.get("event") == "start" and "log" in e.get("argv", [])]
    assert not any("--name-only" in argv for argv in logs), logs  # no second scan
