"""The plain-git pre-push hook, end to end: `git poison install-hook`, then real
`git push` runs to a bare remote that pass, warn and block."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gitrepo import BIN, Repo, Result, bare, git


@dataclass
class Service:
    repo: Repo
    origin: Path
    poisons: Path
    record: str
    poison: str
    cure: str


def push(repo: Repo, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    full_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    proc = subprocess.run(
        ["git", "push", *args],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def remote_tip(origin: Path, branch: str) -> str | None:
    out = git(origin, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
    return out or None


def make_service(tmp_path: Path, *, install: bool = True) -> Service:
    """master has a poison and its cure; lts/2.1 was branched between the two and
    already pushed; the shared poisons repository knows both."""
    origin = bare(tmp_path / "origin.git")
    poisons = bare(tmp_path / "poisons.git")
    repo = Repo(tmp_path / "svc")
    repo.git("remote", "add", "origin", str(origin))
    repo.commit("initial", {"svc.py": "retry = 1\n"})
    poison = repo.commit("read without timeout", {"io.py": "timeout = None\n"})
    repo.branch("lts/2.1")
    cure = repo.commit("fix: time out io reads", {"io.py": "timeout = 5\n"})
    repo.git("push", "-q", "origin", "master", "lts/2.1")
    r = repo.poison("init", "--remote", str(poisons))
    assert r.rc == 0, r.err
    record = repo.add_poison(poison, "service hangs on io error", "--bug", "JIRA-1234")
    repo.add_cure(record, cure)
    if install:
        r = repo.poison("install-hook")
        assert r.rc == 0, r.err
    return Service(repo, origin, poisons, record, poison, cure)


@pytest.fixture
def svc(tmp_path: Path) -> Service:
    return make_service(tmp_path)


def lts_commit(s: Service, message: str = "lts: bump version") -> str:
    s.repo.checkout("lts/2.1")
    return s.repo.commit(message, {"VERSION": message + "\n"})


def test_lts_push_lacking_master_cure_warns_and_goes_on(svc: Service) -> None:
    new = lts_commit(svc)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc == 0, r.err
    assert remote_tip(svc.origin, "lts/2.1") == new
    assert svc.record in r.err
    assert "service hangs on io error [JIRA-1234]" in r.err
    assert f"poison {svc.poison[:12]}, recorded by Test Author <author@example.com>" in r.err
    assert f"fixed on master, origin/master by {svc.cure[:12]}, missing here" in r.err
    assert f"git cherry-pick -x {svc.cure}" in r.err
    assert "the push goes on" in r.err


def test_protected_lts_push_blocked_until_cure_cherry_picked(svc: Service) -> None:
    svc.repo.git("config", "--add", "poison.protect", "release/*")
    svc.repo.git("config", "--add", "poison.protect", "lts/*")
    before = remote_tip(svc.origin, "lts/2.1")
    lts_commit(svc)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc != 0
    assert remote_tip(svc.origin, "lts/2.1") == before
    assert "push blocked: lts/2.1 is protected (poison.protect = release/* lts/*)" in r.err
    assert f"git cherry-pick -x {svc.cure}" in r.err
    assert "git push --no-verify" in r.err

    svc.repo.git("cherry-pick", "-x", svc.cure)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc == 0, r.err
    assert remote_tip(svc.origin, "lts/2.1") == svc.repo.rev("HEAD")
    assert "carries no poison cured elsewhere" in r.err
    assert "cherry-pick" not in r.err


def test_no_verify_bypasses_a_blocked_push(svc: Service) -> None:
    svc.repo.git("config", "poison.protect", "lts/*")
    new = lts_commit(svc)
    assert push(svc.repo, "origin", "lts/2.1").rc != 0
    r = push(svc.repo, "--no-verify", "origin", "lts/2.1")
    assert r.rc == 0, r.err
    assert remote_tip(svc.origin, "lts/2.1") == new


def test_push_to_protected_branch_name_checks_the_remote_name_not_the_local(svc: Service) -> None:
    # A local branch `hotfix` pushed to the protected remote `lts/2.1`.
    svc.repo.git("config", "poison.protect", "lts/*")
    svc.repo.git("checkout", "-q", "-b", "hotfix", "lts/2.1")
    svc.repo.commit("hotfix", {"hot.py": "x = 1\n"})
    assert push(svc.repo, "origin", "hotfix").rc == 0
    r = push(svc.repo, "origin", "hotfix:lts/2.1")
    assert r.rc != 0
    assert "push blocked: lts/2.1 is protected" in r.err


def test_multi_ref_push_checks_every_ref(svc: Service) -> None:
    lts_commit(svc)
    svc.repo.git("checkout", "-q", "-b", "feature/retry", "lts/2.1")
    feature = svc.repo.commit("retry more", {"svc.py": "retry = 3\n"})
    svc.repo.checkout("master")
    master = svc.repo.commit("master work", {"m.py": "m = 1\n"})
    r = push(svc.repo, "origin", "master", "lts/2.1", "feature/retry")
    assert r.rc == 0, r.err
    assert f"master ({master[:12]}) carries no poison cured elsewhere" in r.err
    assert "lts/2.1 (" in r.err and "lacks the cure of 1 poison" in r.err
    # A new branch has no remote ancestor range: it is checked from its tip.
    assert f"feature/retry ({feature[:12]}) lacks the cure of 1 poison" in r.err
    assert r.err.count(f"git cherry-pick -x {svc.cure}") == 2

    svc.repo.git("config", "poison.protect", "feature/*")
    svc.repo.checkout("feature/retry")
    svc.repo.commit("retry even more", {"svc.py": "retry = 4\n"})
    svc.repo.checkout("master")
    svc.repo.commit("more master work", {"m.py": "m = 2\n"})
    r = push(svc.repo, "origin", "master", "feature/retry")
    assert r.rc != 0
    assert "push blocked: feature/retry is protected" in r.err
    # git refuses the whole push when the hook fails, master included.
    assert remote_tip(svc.origin, "master") != svc.repo.rev("master")


def test_branch_deletion_is_skipped_even_when_protected(svc: Service) -> None:
    svc.repo.git("config", "poison.protect", "lts/*")
    r = push(svc.repo, "origin", "--delete", "lts/2.1")
    assert r.rc == 0, r.err
    assert remote_tip(svc.origin, "lts/2.1") is None
    assert "lts/2.1: deletion, nothing to check" in r.err


def test_strict_hook_blocks_an_unprotected_branch(svc: Service) -> None:
    assert svc.repo.poison("install-hook", "--strict").rc == 0
    lts_commit(svc)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc != 0
    assert "push blocked: lts/2.1 is protected (--strict)" in r.err


def test_known_unfixed_bug_is_quiet_and_never_blocks(svc: Service) -> None:
    svc.repo.git("config", "poison.protect", "master")
    svc.repo.checkout("master")
    bug = svc.repo.commit("cache everything", {"cache.py": "size = None\n"})
    unfixed = svc.repo.add_poison(bug, "cache grows without bound")
    r = push(svc.repo, "origin", "master")
    assert r.rc == 0, r.err
    assert f"· {unfixed}  cache grows without bound (known unfixed bug: poison {bug[:12]}" in r.err
    assert "carries no poison cured elsewhere; 1 known unfixed bug(s)" in r.err
    assert "cherry-pick" not in r.err


def test_unreachable_poisons_remote_uses_last_fetched_records(svc: Service, tmp_path: Path) -> None:
    svc.repo.git("config", "poison.remote", str(tmp_path / "moved-away.git"))
    new = lts_commit(svc)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc == 0, r.err
    assert remote_tip(svc.origin, "lts/2.1") == new
    assert "poisons remote unreachable" in r.err
    assert "using local records, fetched " in r.err and " ago" in r.err
    # The cached records still tell the missing backport.
    assert f"git cherry-pick -x {svc.cure}" in r.err


def test_unreachable_poisons_remote_blocks_a_protected_branch(svc: Service, tmp_path: Path) -> None:
    svc.repo.git("config", "poison.remote", str(tmp_path / "moved-away.git"))
    svc.repo.git("config", "poison.protect", "lts/*")
    lts_commit(svc)
    svc.repo.git("cherry-pick", "-x", svc.cure)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc != 0
    assert "push blocked: lts/2.1 is protected" in r.err
    assert "the records could not be refreshed" in r.err


def test_hanging_poisons_remote_gives_up_after_hook_fetch_timeout(svc: Service) -> None:
    # An `ext::` remote whose command never answers: git waits on it forever unless
    # the hook's bounded fetch kills it.
    svc.repo.git("config", "--global", "protocol.ext.allow", "always")
    svc.repo.git("config", "poison.remote", "ext::sleep 120")
    svc.repo.git("config", "poison.hookFetchTimeout", "1")
    new = lts_commit(svc)
    start = time.monotonic()
    r = push(svc.repo, "origin", "lts/2.1", timeout=60)
    elapsed = time.monotonic() - start
    assert r.rc == 0, r.err
    assert remote_tip(svc.origin, "lts/2.1") == new
    assert "poisons remote unreachable (no answer within 1 s)" in r.err
    assert elapsed < 30, f"the push waited {elapsed:.1f} s for a hanging remote"


def test_bad_hook_fetch_timeout_is_one_clear_line(svc: Service) -> None:
    svc.repo.git("config", "poison.hookFetchTimeout", "soon")
    lts_commit(svc)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc != 0
    assert "git-poison: error: poison.hookFetchTimeout is not a number of seconds" in r.err
    assert "Traceback" not in r.err


def test_undecided_shallow_clone_blocks_protected_push(svc: Service, tmp_path: Path) -> None:
    # A depth-1 clone of lts/2.1 cannot see whether the poison is in its history.
    shallow = Repo.clone(
        f"file://{svc.origin}", tmp_path / "shallow", "--depth", "1", "-b", "lts/2.1"
    )
    shallow.git("config", "poison.remote", str(svc.poisons))
    shallow.git("config", "poison.project", _project(svc))
    shallow.git("config", "poison.protect", "lts/*")
    assert shallow.poison("install-hook").rc == 0
    shallow.commit("shallow work", {"s.py": "s = 1\n"})
    r = push(shallow, "origin", "lts/2.1")
    assert r.rc != 0
    assert "could not decide" in r.err
    assert "push blocked: lts/2.1 is protected" in r.err


def _project(svc: Service) -> str:
    # The branch the records live on in the shared poisons repository.
    heads = git(svc.poisons, "for-each-ref", "--format=%(refname:strip=2)", "refs/heads")
    assert len(heads.splitlines()) == 1, heads
    return heads


def test_tag_of_a_tree_is_skipped_and_tag_of_lts_is_checked(svc: Service) -> None:
    svc.repo.git("config", "poison.protect", "refs/tags/v*")
    svc.repo.git("tag", "tree-snapshot", svc.repo.rev("lts/2.1") + "^{tree}")
    r = push(svc.repo, "origin", "tree-snapshot")
    assert r.rc == 0, r.err
    assert "tree-snapshot: not a commit, nothing to check" in r.err
    svc.repo.git("tag", "-a", "-m", "release", "v2.1.1", "lts/2.1")
    r = push(svc.repo, "origin", "v2.1.1")
    assert r.rc != 0
    assert "push blocked: refs/tags/v2.1.1 is protected" in r.err


def test_repository_without_any_records_pushes_cleanly(tmp_path: Path) -> None:
    origin = bare(tmp_path / "origin.git")
    repo = Repo(tmp_path / "fresh")
    repo.git("remote", "add", "origin", str(origin))
    tip = repo.commit("initial")
    assert repo.poison("install-hook").rc == 0
    r = push(repo, "origin", "master")
    assert r.rc == 0, r.err
    assert f"git-poison: master ({tip[:12]}) carries no poison cured elsewhere" in r.err
    assert remote_tip(origin, "master") == tip


def test_push_with_damaged_caches_still_blocks_the_missing_cure_and_says_so(svc: Service) -> None:
    # Issue 11: a damaged records cache and index are read around, never believed.
    svc.repo.git("config", "--add", "poison.protect", "lts/*")
    before = remote_tip(svc.origin, "lts/2.1")
    lts_commit(svc)
    assert svc.repo.poison("check", "lts/2.1").rc == 1  # warms both caches
    cache = svc.repo.path / ".git" / "poison" / "git-poison-records.json"
    data = cache.read_bytes()
    assert data.count(svc.poison.encode()) == 1
    cache.write_bytes(data.replace(svc.poison.encode(), svc.poison[:-1].encode() + b"x"))
    graph = svc.repo.path / ".git" / "poison-index" / "graph"
    data = graph.read_bytes()
    raw = bytes.fromhex(svc.poison)
    graph.write_bytes(data.replace(raw, b"\0" * len(raw)))
    # And the copies cache: a page of garbage in the middle of the SQLite file.
    [copies] = (svc.repo.path / ".git" / "poison-cache").glob("copies-v*.sqlite3")
    data = bytearray(copies.read_bytes())
    data[4096:8192] = b"\xa5" * 4096
    copies.write_bytes(bytes(data))
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc != 0 and remote_tip(svc.origin, "lts/2.1") == before, r.err
    assert svc.record in r.err and f"git cherry-pick -x {svc.cure}" in r.err
    assert "records cache damaged" in r.err and "reachability index damaged" in r.err
    assert "copies cache" in r.err and "damaged" in r.err, r.err
