"""Copies in clones that miss objects: a patch-id git cannot compute is never taken for
"no copy here" (issue 11). Real partial clones over file://, real deleted objects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from poison_tools.copies import patchid
from poison_tools.copies.equivalence import Copies
from poison_tools.copies.patchid import PatchIdCache
from poison_tools.git import SourceRepo
from tests.gitrepo import BIN, Repo, bare, git

LIB = "".join(f"line {i}\n" for i in range(30))


def _edit(repo: Repo, message: str, old: str, new: str) -> str:
    text = (repo.path / "lib.c").read_text().replace(old, new)
    return repo.commit(message, {"lib.c": text})


def _pick_without_x(repo: Repo) -> tuple[str, str]:
    """master: lib - the bug (the poison) - more work on lib.c; lts (from lib): lts work -
    the bug picked without -x, so only its patch-id says what it is. master is checked
    out. Returns (poison, the pick on lts)."""
    repo.commit("lib", {"lib.c": LIB})
    repo.branch("lts")
    poison = _edit(repo, "introduce the bug", "line 5\n", "line 5 BUG\n")
    _edit(repo, "more work on lib.c", "line 20\n", "line 20 more\n")
    repo.checkout("lts")
    _edit(repo, "lts work", "line 25\n", "line 25 lts\n")
    repo.git("cherry-pick", poison)
    pick = repo.rev("HEAD")
    repo.checkout("master")
    return poison, pick


def _check(repo: Repo, rev: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    r = repo.poison("check", rev, "--json", env=env)
    assert r.rc in (0, 1, 2), r.err
    assert "Traceback" not in r.err
    return r.rc, json.loads(r.out), r.err


def _loose(repo: Repo, oid: str) -> Path:
    return repo.path / ".git" / "objects" / oid[:2] / oid[2:]


def _blob(repo: Repo, commit: str) -> str:
    return repo.git("rev-parse", f"{commit}:lib.c")


def test_pick_whose_blob_was_lost_makes_lts_undecided_until_the_blob_is_back(
    repo: Repo, tmp_path: Path
) -> None:
    poison, pick = _pick_without_x(repo)
    rid = repo.add_poison(poison)
    assert _check(repo, "lts")[0] == 1  # found by patch-id while every object is here
    shutil.rmtree(repo.path / ".git" / "poison-cache")
    # The lts-only version of lib.c the pick wrote: only the pick's diff reads it.
    lost = _loose(repo, _blob(repo, pick))
    kept = tmp_path / "kept-blob"
    shutil.move(lost, kept)
    rc, report, _ = _check(repo, "lts")
    assert rc == 2, report
    assert report["verdict"] == "undecided" and report["copies"] == "incomplete"
    [finding] = report["undecided"]
    assert finding["id"] == rid and finding["unknown_copies"] == [pick]
    text = repo.poison("check", "lts")
    assert text.rc == 2
    fix = [ln for ln in text.out.splitlines() if "git fetch --refetch --no-filter" in ln]
    assert len(fix) == 1 and "poison.equivalence trailers" in fix[0], text.out
    # master holds the poison itself: an unknown copy cannot make it any less poisoned.
    rc, report, _ = _check(repo, "master")
    assert rc == 1 and report["copies"] == "complete"
    # scope judges by the same rules, target by target.
    scope = json.loads(repo.poison("scope", "--json").out)
    cells = {c["ref"]: c["status"] for c in scope["records"][0]["refs"]}
    assert cells == {"refs/heads/lts": "undecided", "refs/heads/master": "affected"}
    [lts] = [c for c in scope["records"][0]["refs"] if c["ref"] == "refs/heads/lts"]
    assert lts["unknown_copies"] == [pick]
    text = repo.poison("scope")
    assert "patch-id" in text.out and "--unshallow" not in text.out, text.out
    # Without patch-ids there is nothing to be unsure about (and the pick goes unseen).
    repo.git("config", "poison.equivalence", "trailers")
    rc, report, _ = _check(repo, "lts")
    assert rc == 0 and report["copies"] == "complete"
    repo.git("config", "--unset", "poison.equivalence")
    # The blob is back: the next run reads the pick again, no cache to delete.
    shutil.move(kept, lost)
    rc, report, _ = _check(repo, "lts")
    assert rc == 1 and report["copies"] == "complete"
    assert [e["commit"] for e in report["poisoned"][0]["poison_evidence"]] == [pick]
    assert report["poisoned"][0]["poison_evidence"][0]["via"] == "patch-id"


def test_poison_whose_own_blob_was_lost_leaves_branches_without_it_undecided(repo: Repo) -> None:
    # The poison's own patch-id is unknown: a copy of it could be anywhere, so no branch
    # can be called clean; master holds the poison itself and stays poisoned.
    poison, _pick = _pick_without_x(repo)
    rid = repo.add_poison(poison)
    repo.branch("old", "lts~2")  # lib only: never saw the bug, nor anything unreadable
    lost = _loose(repo, _blob(repo, poison))
    kept = lost.with_name("kept")
    shutil.move(lost, kept)
    rc, report, _ = _check(repo, "old")
    assert rc == 2 and report["copies"] == "incomplete", report
    assert poison in report["undecided"][0]["unknown_copies"]
    assert _check(repo, "lts")[0] == 2
    assert _check(repo, "master")[0] == 1
    scope = json.loads(repo.poison("scope", "--json").out)
    [record] = scope["records"]
    assert record["id"] == rid
    assert {c["ref"]: c["status"] for c in record["refs"]} == {
        "refs/heads/lts": "undecided",
        "refs/heads/master": "affected",
        "refs/heads/old": "undecided",
    }
    shutil.move(kept, lost)
    rc, report, _ = _check(repo, "old")
    assert rc == 0 and report["copies"] == "complete", report
    assert _check(repo, "lts")[0] == 1


def test_unreadable_commit_that_changes_other_files_leaves_the_verdict_alone(repo: Repo) -> None:
    # lts2 (from lts, before the pick): a commit to other.c whose blob is gone. A copy
    # by patch-id changes the very same files: this one cannot be a copy of the poison.
    poison, _pick = _pick_without_x(repo)
    repo.add_poison(poison)
    repo.branch("lts2", "lts~1")
    repo.checkout("lts2")
    elsewhere = repo.commit("lts work elsewhere", {"other.c": "only on lts2\n"})
    repo.checkout("master")
    os.remove(_loose(repo, repo.git("rev-parse", f"{elsewhere}:other.c")))
    src = SourceRepo.discover(str(repo.path))
    rc, report, _ = _check(repo, "lts2")
    assert PatchIdCache(src).unreadable_among([elsewhere]) == {elsewhere}
    assert rc == 0 and report["copies"] == "complete", report


def test_a_commit_git_cannot_read_costs_only_its_own_patch_id(repo: Repo, tmp_path: Path) -> None:
    # master: ten commits, each changing its own file; the 5th one's blob is gone.
    # `git log -p` walks newest first and dies at the 5th: the four older ones used to
    # be cached without patch-ids, as if they changed nothing.
    commits = [repo.commit(f"change {i}", {f"f{i}.txt": f"{i}\n"}) for i in range(10)]
    lost = _loose(repo, repo.git("rev-parse", f"{commits[4]}:f4.txt"))
    kept = tmp_path / "kept"
    shutil.move(lost, kept)
    src = SourceRepo.discover(str(repo.path))
    cache = PatchIdCache(src)
    cache.update()
    assert [c for c in commits if not cache.patch_id(c)] == [commits[4]]
    assert cache.unreadable_among(commits) == {commits[4]}
    assert PatchIdCache(src).unreadable_among(commits) == {commits[4]}  # on disk
    again = PatchIdCache(src)
    assert again.retry(commits) == set()  # still gone
    shutil.move(kept, lost)
    assert again.retry(commits) == {commits[4]}  # nothing new on any ref: asked again
    assert all(again.patch_id(c) for c in commits)
    assert PatchIdCache(src).unreadable_among(commits) == set()


def _served(tmp_path: Path) -> tuple[Repo, str, str]:
    """The history of `_pick_without_x`, served the way a partial clone needs."""
    src = Repo(tmp_path / "src")
    poison, pick = _pick_without_x(src)
    src.git("config", "uploadpack.allowFilter", "true")
    src.git("config", "uploadpack.allowAnySHA1InWant", "true")
    return src, poison, pick


def _fetches(trace: Path) -> int:
    if not trace.exists():
        return 0
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    return sum(1 for e in events if e.get("event") == "cmd_name" and e.get("name") == "fetch")


def test_blobless_clone_with_its_server_away_is_undecided_never_healthy(tmp_path: Path) -> None:
    src, poison, pick = _served(tmp_path)
    clone = Repo.clone(f"file://{src.path}", tmp_path / "clone", "--filter=blob:none")
    clone.add_poison(poison)
    away = tmp_path / "src-away"
    src.path.rename(away)  # offline: nothing can be fetched, lazily or otherwise
    rc, report, _ = _check(clone, "origin/lts")
    assert rc == 2, report
    assert report["copies"] == "incomplete"
    text = clone.poison("check", "origin/lts")
    assert text.rc == 2 and "git fetch --refetch --no-filter origin" in text.out, text.out
    away.rename(src.path)
    # Told not to fetch: still undecided, still no healthy.
    rc, report, _ = _check(clone, "origin/lts", env={"GIT_POISON_NO_FETCH": "1"})
    assert rc == 2 and report["copies"] == "incomplete"
    told = clone.poison("--no-fetch", "check", "origin/lts", "--json")
    assert told.rc == 2 and json.loads(told.out)["copies"] == "incomplete", told.err


def test_blobless_clone_fetches_the_blobs_a_verdict_needs_in_one_batch(tmp_path: Path) -> None:
    src, poison, pick = _served(tmp_path)
    clone = Repo.clone(f"file://{src.path}", tmp_path / "clone", "--filter=blob:none")
    clone.add_poison(poison)
    trace = tmp_path / "trace.json"
    rc, report, _ = _check(clone, "origin/lts", env={"GIT_TRACE2_EVENT": str(trace)})
    assert rc == 1, report
    assert report["copies"] == "complete"
    [finding] = report["poisoned"]
    assert {(e["commit"], e["via"]) for e in finding["poison_evidence"]} == {(pick, "patch-id")}
    assert _fetches(trace) == 1  # one batch, not one lazy fetch per blob
    assert _check(clone, "origin/master")[0] == 1


def test_promisor_that_does_not_answer_is_waited_for_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server accepts the connection and says nothing: the fetch is given up after
    # FETCH_TIMEOUT, and the next run (an editor refresh) does not wait again.
    src, poison, _pick = _served(tmp_path)
    clone = Repo.clone(f"file://{src.path}", tmp_path / "clone", "--filter=blob:none")
    clone.add_poison(poison)
    clone.git("config", "remote.origin.uploadpack", "sleep 60; git-upload-pack")
    monkeypatch.setattr(patchid, "FETCH_TIMEOUT", 2.0)
    repo = SourceRepo.discover(str(clone.path))
    for most in (30.0, 1.5):
        started = time.monotonic()
        copies = Copies(repo)
        copies.expand([poison])
        gap = copies.gap()
        assert (
            gap is not None and gap.fetch_error and "did not answer within 2 s" in gap.fetch_error
        )
        assert gap.remote == "origin"
        assert time.monotonic() - started < most


def test_pre_push_of_protected_lts_whose_pick_cannot_be_read_is_blocked_with_the_fix(
    repo: Repo, tmp_path: Path
) -> None:
    # The hook judges with the same Checker: a branch a copy could poison fails closed.
    origin = bare(tmp_path / "origin.git")
    repo.git("remote", "add", "origin", str(origin))
    poison, pick = _pick_without_x(repo)
    repo.add_poison(poison)
    repo.git("config", "poison.protect", "lts")
    assert repo.poison("install-hook").rc == 0
    os.remove(_loose(repo, _blob(repo, pick)))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    r = subprocess.run(
        ["git", "push", "origin", "lts"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode != 0, r.stderr
    assert git(origin, "for-each-ref", "refs/heads/lts") == ""
    assert f"the patch-id of {pick[:12]} is unknown here" in r.stderr
    assert "git fetch --refetch --no-filter origin" in r.stderr
    assert "push blocked: lts is protected" in r.stderr
