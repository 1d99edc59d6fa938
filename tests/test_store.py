"""The poisons repository under concurrency, offline work and hostile content."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.gitrepo import BIN, Repo, git, service_with_origin


def _records_on(remote: Path, branch: str) -> dict[str, dict[str, object]]:
    names = git(remote, "ls-tree", "--name-only", f"refs/heads/{branch}", "records/").split()
    return {
        n.removeprefix("records/").removesuffix(".json"): json.loads(
            git(remote, "show", f"refs/heads/{branch}:{n}")
        )
        for n in names
    }


def _all_at_once(jobs: list[tuple[Repo, list[str]]]) -> list[str]:
    """Start every `git poison ARGS` at once, as separate processes; their outputs."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    procs = [
        subprocess.Popen(
            ["git", "poison", *args],
            cwd=r.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for r, args in jobs
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outs.append(out.strip())
    return outs


def test_twenty_writers_in_twenty_clones_lose_nothing(tmp_path: Path, remote: Path) -> None:
    seed, origin = service_with_origin(tmp_path)
    bug = seed.rev("HEAD")
    clones = []
    for i in range(20):
        c = Repo.clone(origin, tmp_path / f"dev{i}")
        c.git("config", "poison.remote", str(remote))
        c.git("config", "user.name", f"Dev {i}")
        clones.append(c)
    ids = _all_at_once(
        [(c, ["add", bug, "-m", f"bug seen by dev {i}"]) for i, c in enumerate(clones)]
    )
    records = _records_on(remote, _project(clones[0]))
    assert sorted(records) == sorted(ids)
    assert {r["comment"] for r in records.values()} == {f"bug seen by dev {i}" for i in range(20)}
    # Each write is one commit authored by its writer, on a history never rewritten.
    log = git(remote, "log", "--format=%an", f"refs/heads/{_project(clones[0])}").splitlines()
    assert sorted(log) == sorted(f"Dev {i}" for i in range(20))
    git(remote, "fsck", "--no-progress")


def test_twenty_writers_sharing_one_clone_lose_nothing(repo: Repo, remote: Path) -> None:
    bug = repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    ids = _all_at_once([(repo, ["add", bug, "-m", f"w{i}"]) for i in range(20)])
    assert sorted(_records_on(remote, _project(repo))) == sorted(ids)


def test_concurrent_cures_of_one_record_are_all_kept(repo: Repo, remote: Path) -> None:
    bug = repo.commit("bug")
    fixes = [repo.commit(f"fix {i}") for i in range(6)]
    repo.git("config", "poison.remote", str(remote))
    rid = repo.add_poison(bug)
    _all_at_once([(repo, ["cure", rid, fix]) for fix in fixes])
    record = _records_on(remote, _project(repo))[rid]
    assert sorted(record["cures"]) == sorted(fixes)  # type: ignore[arg-type]


def _project(r: Repo) -> str:
    return json.loads(r.poison("list", "--json", "--all").out)["project"]  # type: ignore[no-any-return]


def test_unreachable_remote_reads_last_fetched_copy_and_says_how_old(
    repo: Repo, remote: Path
) -> None:
    bug = repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    rid = repo.add_poison(bug)
    moved = remote.with_name("moved.git")
    remote.rename(moved)
    r = repo.poison("check")
    assert r.rc == 1 and rid in r.out
    assert "unreachable" in r.err and "fetched" in r.err and "ago" in r.err
    data = json.loads(repo.poison("check", "--json").out)
    assert data["stale"] and "unreachable" in data["stale"]


def test_record_made_offline_is_shared_by_sync(repo: Repo, remote: Path, tmp_path: Path) -> None:
    bug = repo.commit("bug")
    repo.git("config", "poison.remote", str(remote))
    first = repo.add_poison(bug, "online")
    moved = remote.with_name("away.git")
    remote.rename(moved)
    offline = repo.poison("add", bug, "-m", "offline")
    assert offline.rc == 0 and "locally only" in offline.err
    rid_offline = offline.out.strip()
    # Meanwhile somebody else records on the shared repository.
    moved.rename(remote)
    other = Repo.clone(repo.path, tmp_path / "other")
    other.git("config", "poison.remote", str(remote))
    other.git("config", "poison.project", _project(repo))
    rid_other = other.add_poison(bug, "someone else")
    assert repo.poison("sync").rc == 0
    assert sorted(_records_on(remote, _project(repo))) == sorted([first, rid_offline, rid_other])


def test_hanging_remote_is_bounded_by_the_fetch_timeout(repo: Repo, tmp_path: Path) -> None:
    bug = repo.commit("bug")
    rid = repo.add_poison(bug)  # local records first
    # A remote helper that never answers: the fetch must be cut off, not waited for.
    # --global: the poisons repository reads its own config, and with the source
    # repository's setting git refused the transport at once ("'ext' not allowed").
    repo.git("config", "--global", "protocol.ext.allow", "always")
    repo.git("config", "poison.remote", "ext::sleep 30")
    repo.git("config", "poison.fetchTimeout", "1")
    start = time.monotonic()
    r = repo.poison("check")
    assert time.monotonic() - start < 10
    assert r.rc == 1 and rid in r.out and "no answer within 1 s" in r.err, r.err


def test_hostile_records_are_named_and_make_check_undecided(repo: Repo) -> None:
    bug = repo.commit("bug")
    good = repo.add_poison(bug, "real")
    repo.poison("withdraw", good, "-m", "so the verdict depends on the bad files only")
    store = repo.path / ".git" / "poison"
    branch = _project(repo)
    work = Repo(repo.path.parent / "edit")
    work.git("fetch", "-q", str(store), f"refs/heads/{branch}:refs/heads/x")
    work.checkout("x")
    (work.path / "records" / "badjson0001.json").write_text("{nope")
    (work.path / "records" / "notasha001.json").write_text(
        json.dumps(
            {
                "schema": 1,
                "id": "notasha001",
                "poisons": ["--upload-pack=evil"],
                "cures": [],
                "comment": "",
                "editor": "",
                "created": "",
                "updated": "",
            }
        )
    )
    os.symlink("/etc/passwd", work.path / "records" / "link000001.json")
    work.git("add", "records")
    work.git("commit", "-q", "-m", "hostile")
    work.git("push", "-q", str(store), f"x:refs/heads/{branch}")
    r = repo.poison("check")
    assert r.rc == 2, r.out
    for name in ("badjson0001", "notasha001", "link000001"):
        assert name in r.out
    assert "healthy" not in r.out
    assert "Traceback" not in r.err


def test_original_git_poison_records_are_checked(repo: Repo) -> None:
    bug = repo.commit("bug")
    fix = repo.commit("fix")
    repo.branch("lts", bug)
    rid = repo.add_poison(bug)  # creates the store and branch
    # Withdrawn first: a record whose file is simply deleted is reported as vanished.
    assert repo.poison("withdraw", rid, "-m", "replaced by a legacy record").rc == 0
    store = repo.path / ".git" / "poison"
    branch = _project(repo)
    work = Repo(repo.path.parent / "legacy")
    work.git("fetch", "-q", str(store), f"refs/heads/{branch}:refs/heads/x")
    work.checkout("x")
    work.git("rm", "-q", "-r", "records")
    (work.path / f"{bug}.json").write_text(
        json.dumps({"poison": bug, "cure": fix, "comment": "legacy bug", "editor": "Old <o@x>"})
    )
    work.git("add", ".")
    work.git("commit", "-q", "-m", "legacy")
    work.git("push", "-q", str(store), f"x:refs/heads/{branch}")
    assert repo.poison("check").rc == 0
    lts = repo.poison("check", "lts")
    assert lts.rc == 1 and "legacy bug" in lts.out and fix in lts.out


def test_init_remote_refuses_missing_path_without_create(repo: Repo, tmp_path: Path) -> None:
    missing = tmp_path / "nope.git"
    r = repo.poison("init", "--remote", str(missing))
    assert r.rc == 2 and "--create" in r.err
    assert repo.git("config", "--get", "poison.remote", check=False) == ""
    ok = repo.poison("init", "--remote", str(missing), "--create")
    assert ok.rc == 0
    assert git(missing, "config", "receive.denyNonFastForwards") == "true"
    assert repo.git("config", "poison.remote") == str(missing)
