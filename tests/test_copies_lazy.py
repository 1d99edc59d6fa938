"""Patch-ids computed only for the commits that change the same files as a recorded one
(issue 12): the copies, and so the verdicts, are exactly those of a scan that diffs
every commit. The reference is git's own `git log -p | git patch-id --stable`."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
from pathlib import Path

from poison_tools.copies.equivalence import Copies
from poison_tools.copies.patchid import PatchIdCache, cache_path
from poison_tools.git import SourceRepo
from tests.gitrepo import Repo

FILES = ["lib.c", "util.c", "doc/a b.txt", "doc/ab.txt", "README"]


def _text(rng: random.Random) -> str:
    return "".join(f"line {rng.randrange(6)}\n" for _ in range(8))


def _random_history(repo: Repo, seed: int) -> list[str]:
    """master and three branches; commits editing a few files, cherry-picks with and
    without -x, a rebase, reverts, merges. Returns every non-merge commit."""
    rng = random.Random(seed)
    repo.commit("base", {f: f"{f}\n" + "".join(f"line {i}\n" for i in range(8)) for f in FILES})
    for b in ("lts", "topic", "old"):
        repo.branch(b)
    branches = ["master", "lts", "topic", "old"]
    made: list[str] = []
    for step in range(26):
        branch = rng.choice(branches)
        repo.checkout(branch)
        roll = rng.random()
        if roll < 0.2 and made:
            source = rng.choice(made)
            x = ["-x"] if rng.random() < 0.5 else []
            r = subprocess.run(
                ["git", "cherry-pick", *x, source], cwd=repo.path, capture_output=True
            )
            if r.returncode != 0:
                repo.git("cherry-pick", "--abort", check=False)
                continue
        elif roll < 0.3 and made:
            r = subprocess.run(
                ["git", "revert", "--no-edit", rng.choice(made)], cwd=repo.path, capture_output=True
            )
            if r.returncode != 0:
                repo.git("revert", "--abort", check=False)
                continue
        elif roll < 0.35 and branch != "master":
            r = subprocess.run(
                ["git", "rebase", "-q", "master"], cwd=repo.path, capture_output=True
            )
            if r.returncode != 0:
                repo.git("rebase", "--abort", check=False)
            continue
        elif roll < 0.4 and branch != "master":
            repo.checkout("master")
            r = subprocess.run(
                ["git", "merge", "-q", "--no-edit", branch], cwd=repo.path, capture_output=True
            )
            if r.returncode != 0:
                repo.git("merge", "--abort", check=False)
            continue
        else:
            chosen = rng.sample(FILES, rng.choice((1, 1, 2)))
            repo.commit(f"change {seed}-{step}", {f: f"{f}\n" + _text(rng) for f in chosen})
        made.append(repo.rev("HEAD"))
    out = repo.git("log", "--all", "--no-merges", "--format=%H")
    return out.split()


def _git_patch_ids(repo: Repo, commits: list[str] | None = None) -> dict[str, str]:
    """git's own patch-ids of every commit on a ref, or of `commits`."""
    which = ["--no-walk", "--stdin"] if commits else ["--all"]
    log = subprocess.run(
        ["git", "log", *which, "--no-merges", "-p", "--format=%H", "--no-renames"],
        cwd=repo.path,
        capture_output=True,
        check=True,
        input="".join(c + "\n" for c in commits or ()).encode(),
    )
    pid = subprocess.run(
        ["git", "patch-id", "--stable"],
        cwd=repo.path,
        input=log.stdout,
        capture_output=True,
        check=True,
    )
    return {c: p for p, c in (line.split() for line in pid.stdout.decode().splitlines())}


def test_copies_of_recorded_commits_in_random_histories_match_a_full_patch_id_scan(
    tmp_path: Path,
) -> None:
    copied = 0
    for seed in range(5):
        repo = Repo(tmp_path / f"r{seed}")
        commits = _random_history(repo, seed)
        src = SourceRepo.discover(str(repo.path))
        rng = random.Random(seed)
        picked = [
            c
            for c in commits
            if subprocess.run(
                ["git", "log", "-1", "--format=%B", c],
                cwd=repo.path,
                capture_output=True,
                text=True,
            ).stdout.count("cherry picked from")
        ]
        recorded = rng.sample(commits, 3) + picked[:2]
        lazy = PatchIdCache(src, path=str(tmp_path / f"lazy{seed}.sqlite3"))
        lazy.update()
        # Every commit the cache knows: those on refs, and those a -x line names (a
        # commit picked, then rebased away).
        known = [r[0] for r in lazy.db.execute("SELECT sha FROM commits")]
        reference = _git_patch_ids(repo, known)
        links = lazy.links(recorded)
        for r in recorded:
            want = sorted(c for c, p in reference.items() if p == reference.get(r) and c != r)
            got = sorted(c for c, how in links[r] if how == "patch-id")
            assert got == want, (seed, r)
            copied += bool(want)
        # Copies of copies (picks of picks, trailers), as `check` expands them: the same
        # as with every commit diffed first.
        full = PatchIdCache(src, path=str(tmp_path / f"full{seed}.sqlite3"))
        full.update()
        full.prepare(known)
        assert all(full.patch_id(c) == reference.get(c) for c in known)
        fresh = PatchIdCache(src, path=str(tmp_path / f"fresh{seed}.sqlite3"))
        assert Copies(src, cache=fresh).expand(recorded) == Copies(src, cache=full).expand(recorded)
        assert Copies(src, cache=fresh).reverts(recorded) == Copies(src, cache=full).reverts(
            recorded
        )
    assert copied >= 3  # the histories do hold copies by patch-id of recorded commits


def test_paths_differing_only_by_spaces_share_git_s_patch_id_and_are_linked(repo: Repo) -> None:
    # patch-id drops whitespace, file names included: "doc/a b.txt" and "doc/ab.txt"
    # given the same edit have one patch-id, so their key must be one too.
    repo.commit("base", {"doc/a b.txt": "x\n", "doc/ab.txt": "x\n"})
    one = repo.commit("edit a b", {"doc/a b.txt": "x\ny\n"})
    two = repo.commit("edit ab", {"doc/ab.txt": "x\ny\n"})
    reference = _git_patch_ids(repo)
    assert reference[one] == reference[two]
    cache = PatchIdCache(SourceRepo.discover(str(repo.path)))
    cache.update()
    assert cache.links([one])[one] == [(two, "patch-id")]


def _with_patch_ids(repo: Repo) -> set[str]:
    db = sqlite3.connect(cache_path(SourceRepo.discover(str(repo.path))))
    try:
        return {r[0] for r in db.execute("SELECT sha FROM commits WHERE patch_id IS NOT NULL")}
    finally:
        db.close()


def test_first_check_diffs_only_commits_changing_the_poison_s_files(repo: Repo) -> None:
    # master: ten commits to files of their own, the bug in lib.c, more lib.c work;
    # lts gets the bug picked without -x. Only the lib.c commits are diffed.
    repo.commit("lib", {"lib.c": "".join(f"line {i}\n" for i in range(20))})
    repo.branch("lts")
    others = [repo.commit(f"other {i}") for i in range(10)]
    text = (repo.path / "lib.c").read_text()
    bug = repo.commit("the bug", {"lib.c": text.replace("line 5\n", "line 5 BUG\n")})
    repo.checkout("lts")
    repo.git("cherry-pick", bug)
    pick = repo.rev("HEAD")
    repo.checkout("master")
    repo.add_poison(bug)
    r = repo.poison("check", "lts", "--json")
    assert r.rc == 1, r.err
    assert [e["commit"] for e in json.loads(r.out)["poisoned"][0]["poison_evidence"]] == [pick]
    diffed = _with_patch_ids(repo)
    assert {bug, pick} <= diffed
    assert not diffed & set(others)
    # A later pick onto a new branch joins the group at the next scan, diffed then.
    repo.branch("lts2", "lts~1")
    repo.checkout("lts2")
    repo.git("cherry-pick", bug)
    again = repo.rev("HEAD")
    repo.checkout("master")
    r = repo.poison("check", "lts2", "--json")
    assert r.rc == 1, r.err
    assert [e["commit"] for e in json.loads(r.out)["poisoned"][0]["poison_evidence"]] == [again]
    assert again in _with_patch_ids(repo)


def test_a_record_added_after_the_first_scan_diffs_its_group_and_sees_the_unreadable_pick(
    repo: Repo, tmp_path: Path
) -> None:
    # First check with a poison in other.c: lib.c's group is never diffed, so the pick on
    # lts whose blob is gone is not noticed. Then the lib.c bug is recorded: its group is
    # diffed now, the pick cannot be read, and lts is undecided, never healthy.
    from tests.test_copies_incomplete import _blob, _loose, _pick_without_x

    poison, pick = _pick_without_x(repo)
    other = repo.commit("other work", {"other.c": "x\n"})
    repo.add_poison(other, "elsewhere")
    lost = _loose(repo, _blob(repo, pick))
    lost.rename(tmp_path / "kept")
    r = repo.poison("check", "lts", "--json")
    assert r.rc == 0 and json.loads(r.out)["copies"] == "complete", r.out
    assert pick not in _with_patch_ids(repo) and poison not in _with_patch_ids(repo)
    repo.add_poison(poison)
    r = repo.poison("check", "lts", "--json")
    report = json.loads(r.out)
    assert r.rc == 2 and report["copies"] == "incomplete", r.out
    assert report["undecided"][0]["unknown_copies"] == [pick]
    (tmp_path / "kept").rename(lost)
    r = repo.poison("check", "lts", "--json")
    assert r.rc == 1 and json.loads(r.out)["poisoned"][0]["poison_evidence"][0]["commit"] == pick
