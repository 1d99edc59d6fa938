"""The hook under the real pre-commit framework, installed with
`pre-commit install --hook-type pre-push`, driven by real `git push` runs.

One test takes the route users take (`repo: <url>` + `rev: <tag>`, pre-commit builds a
virtualenv and pip-installs this project from a tagged clone); it is slow, so the other
cases use `repo: local` with the installed console script.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

from tests.gitrepo import BIN, Repo, bare, git
from tests.test_hook import Service, lts_commit, make_service, push, remote_tip

PROJECT = Path(__file__).resolve().parents[1]

LOCAL_CONFIG = """\
repos:
-   repo: local
    hooks:
    -   id: git-poison
        name: git-poison
        entry: git-poison-hook
        language: system
        stages: [pre-push]
        pass_filenames: false
        always_run: true
        verbose: true
"""


def pre_commit(repo: Repo, *args: str) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [str(BIN / "pre-commit"), *args], cwd=repo.path, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def use_config(s: Service, config: str) -> None:
    """Commit the config on every branch (pre-commit refuses an unstaged config) and
    install pre-commit as the pre-push hook."""
    for branch in ("master", "lts/2.1"):
        s.repo.checkout(branch)
        s.repo.commit("use pre-commit", {".pre-commit-config.yaml": config})
    s.repo.git("push", "-q", "--no-verify", "origin", "master", "lts/2.1")
    pre_commit(s.repo, "install", "--hook-type", "pre-push")


def tagged_copy_of_this_project(tmp_path: Path) -> tuple[Path, str]:
    """This project's committed tree as a git repository with a tag, as users see it."""
    dest = tmp_path / "git-poison"
    dest.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=PROJECT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "git-poison under test")
    git(dest, "tag", "v0.1.0-test")
    return dest, "v0.1.0-test"


def test_newcomer_adds_snippet_warns_blocks_then_pushes_cherry_picked_cure(tmp_path: Path) -> None:
    s = make_service(tmp_path, install=False)
    url, tag = tagged_copy_of_this_project(tmp_path)
    use_config(s, f"repos:\n-   repo: {url}\n    rev: {tag}\n    hooks:\n    -   id: git-poison\n")

    new = lts_commit(s)
    r = push(s.repo, "origin", "lts/2.1", timeout=900)
    assert r.rc == 0, r.out + r.err
    output = r.out + r.err
    assert remote_tip(s.origin, "lts/2.1") == new
    assert "git-poison (poisons cured elsewhere)" in output
    assert f"fixed on master, origin/master by {s.cure[:12]}, missing here" in output
    assert f"git cherry-pick -x {s.cure}" in output

    s.repo.git("config", "poison.protect", "lts/*")
    blocked = lts_commit(s, "lts: second bump")
    r = push(s.repo, "origin", "lts/2.1")
    assert r.rc != 0
    assert "push blocked: lts/2.1 is protected" in r.out + r.err
    assert remote_tip(s.origin, "lts/2.1") == new

    s.repo.git("cherry-pick", "-x", s.cure)
    r = push(s.repo, "origin", "lts/2.1")
    assert r.rc == 0, r.out + r.err
    assert remote_tip(s.origin, "lts/2.1") == s.repo.rev("HEAD") != blocked
    assert "carries no poison cured elsewhere" in r.out + r.err


def test_pre_commit_local_hook_blocks_protected_branch(tmp_path: Path) -> None:
    s = make_service(tmp_path, install=False)
    use_config(s, LOCAL_CONFIG)
    s.repo.git("config", "poison.protect", "lts/*")
    before = remote_tip(s.origin, "lts/2.1")
    lts_commit(s)
    r = push(s.repo, "origin", "lts/2.1")
    assert r.rc != 0
    assert f"git cherry-pick -x {s.cure}" in r.out + r.err
    assert remote_tip(s.origin, "lts/2.1") == before


def test_pre_commit_new_history_is_checked_from_the_tip(tmp_path: Path) -> None:
    # An empty remote: pre-commit finds the root commit among the pushed ones and
    # passes no from/to range, only the branch names.
    s = make_service(tmp_path, install=False)
    use_config(s, LOCAL_CONFIG)
    fresh = bare(tmp_path / "fresh.git")
    s.repo.git("config", "poison.protect", "lts/*")
    s.repo.checkout("lts/2.1")
    r = push(s.repo, str(fresh), "lts/2.1")
    assert r.rc != 0
    assert f"lts/2.1 ({s.repo.rev('lts/2.1')[:12]}) lacks the cure of 1 poison" in r.out + r.err
    assert remote_tip(fresh, "lts/2.1") is None


def test_pre_commit_checks_only_the_first_range_of_a_multi_ref_push(tmp_path: Path) -> None:
    # pre-commit's limitation, documented in docs/hook.md: of `git push origin master
    # lts/2.1` only the first ref with new commits reaches the hook; the plain-git
    # hook checks them all (test_hook.test_multi_ref_push_checks_every_ref).
    s = make_service(tmp_path, install=False)
    use_config(s, LOCAL_CONFIG)
    s.repo.checkout("master")
    s.repo.commit("master work", {"m.py": "m = 1\n"})
    lts_commit(s)
    r = push(s.repo, "origin", "master", "lts/2.1")
    assert r.rc == 0, r.out + r.err
    checked = [b for b in ("master", "lts/2.1") if f"git-poison: {b} (" in r.out]
    assert len(checked) == 1, r.out
