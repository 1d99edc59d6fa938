"""Hostile trees in the poisons repository: every odd file is reported by path, none
crashes a reader, none breaks a write, and no file can pose as another's record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitrepo import Repo, git
from tests.hostile import legacy, plant, project, records_cache, store_of
from tests.test_hook import lts_commit, make_service, push

DEEP = b"[" * 1000 + b"]" * 1000  # 2 KB: deeper than Python's recursion limit


def _one_line_and_no_crash(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    assert len(err.strip().splitlines()) <= 1, err


@pytest.fixture(params=["cold", "warm"])
def cache(request: pytest.FixtureRequest) -> str:
    """Run each reader with the records cache missing ("cold") and present ("warm")."""
    return str(request.param)


def _read(repo: Repo, cache: str, *args: str):  # type: ignore[no-untyped-def]
    if cache == "cold":
        records_cache(repo).unlink(missing_ok=True)
    else:
        repo.poison("list")  # parses the tip once and leaves the cache behind
        assert records_cache(repo).is_file()
    r = repo.poison(*args)
    _one_line_and_no_crash(r.err)
    return r


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (b"records/deep000001.json", "records/deep000001.json"),
        (b"records/bad\xff0001.json", "records/bad\\xff0001.json"),
    ],
    ids=["nested-brackets", "non-utf8-name"],
)
def test_deep_or_undecodable_record_is_a_problem_named_by_path(
    repo: Repo, cache: str, name: bytes, shown: str
) -> None:
    bug = repo.commit("bug")
    good = repo.add_poison(bug, "real")
    repo.add_cure(good, repo.commit("fix"))
    plant(store_of(repo), project(repo), {name: DEEP if b"deep" in name else b"{}"})

    check = _read(repo, cache, "check")
    assert check.rc == 2 and shown in check.out and "healthy" not in check.out
    data = json.loads(_read(repo, cache, "check", "--json").out)
    assert data["verdict"] == "undecided"
    assert [p["path"] for p in data["problems"]] == [shown]
    listed = _read(repo, cache, "list")
    assert listed.rc == 0 and shown in listed.out and good in listed.out
    listed_json = json.loads(_read(repo, cache, "list", "--json").out)
    assert [p["path"] for p in listed_json["problems"]] == [shown]
    assert _read(repo, cache, "show", good).rc == 0


def test_deep_record_in_the_shared_repository_does_not_stop_the_push(tmp_path: Path) -> None:
    svc = make_service(tmp_path)
    plant(svc.poisons, project(svc.repo), {b"records/deep000001.json": DEEP})
    lts_commit(svc)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc == 0, r.err
    assert "internal error" not in r.err and "Traceback" not in r.err
    assert "unreadable record records/deep000001.json" in r.err
    # Where the branch is protected, doubt blocks, by policy, with the reason.
    svc.repo.git("config", "poison.protect", "lts/*")
    lts_commit(svc, "lts: another")
    blocked = push(svc.repo, "origin", "lts/2.1")
    assert blocked.rc == 1 and "1 unreadable record(s)" in blocked.err, blocked.err


def test_paths_through_dotdot_or_dotgit_are_never_records_and_never_break_writes(
    repo: Repo,
) -> None:
    bug = repo.commit("bug")
    fix = repo.commit("fix")
    rid = repo.add_poison(bug, "real")
    impostor = legacy(bug, "impostor")
    plant(
        store_of(repo),
        project(repo),
        {
            b"x/../evil01.json": impostor,
            b"x/.git/evil02.json": impostor,
            b"x/.GIT/evil03.json": impostor,
        },
    )
    listed = repo.poison("list")
    assert "impostor" not in listed.out
    for path in ("x/../evil01.json", "x/.git/evil02.json", "x/.GIT/evil03.json"):
        assert f"unreadable record {path}:" in listed.out
    check = repo.poison("check")  # the real record is uncured: a definite poison outranks doubt
    assert check.rc == 1 and "unreadable record x/../evil01.json" in check.out
    # Writes go on, and leave the odd entries exactly where they were.
    second = repo.poison("add", bug, "-m", "second")
    assert second.rc == 0, second.err
    assert repo.poison("cure", rid, fix).rc == 0
    tip = f"refs/heads/{project(repo)}"
    files = git(store_of(repo), "ls-tree", "-r", "--name-only", tip).splitlines()
    assert "x/../evil01.json" in files and f"records/{second.out.strip()}.json" in files
    cured = json.loads(git(store_of(repo), "show", f"{tip}:records/{rid}.json"))
    assert cured["comment"] == "real" and cured["cures"] == [fix]


def test_original_record_with_the_id_of_a_current_one_is_reported_with_both_paths(
    repo: Repo,
) -> None:
    bug = repo.commit("bug")
    fix = repo.commit("fix")
    rid = repo.add_poison(bug, "real")
    plant(store_of(repo), project(repo), {f"{rid}.json".encode(): legacy(bug, "impostor")})
    both = (f"records/{rid}.json", f"{rid}.json")

    show = repo.poison("show", rid)
    assert show.rc == 2 and "impostor" not in show.out
    _one_line_and_no_crash(show.err)
    assert all(p in show.err for p in both), show.err
    listed = json.loads(repo.poison("list", "--json").out)
    assert sorted(p["path"] for p in listed["problems"]) == sorted(both)
    assert listed["records"] == []
    assert repo.poison("check").rc == 2

    tip = f"refs/heads/{project(repo)}"
    before = git(store_of(repo), "rev-parse", tip)
    cure = repo.poison("cure", rid, fix)
    assert cure.rc == 2 and all(p in cure.err for p in both), cure.err
    _one_line_and_no_crash(cure.err)
    withdraw = repo.poison("withdraw", rid, "-m", "which one?")
    assert withdraw.rc == 2 and all(p in withdraw.err for p in both), withdraw.err
    assert git(store_of(repo), "rev-parse", tip) == before  # nothing written
    real = json.loads(git(store_of(repo), "show", f"{tip}:records/{rid}.json"))
    assert real["comment"] == "real" and real["cures"] == []


def test_records_cache_from_before_names_were_vetted_cannot_bring_back_an_impostor(
    repo: Repo,
) -> None:
    bug = repo.commit("bug")
    repo.add_poison(bug, "real")
    plant(store_of(repo), project(repo), {b"x/../evil01.json": legacy(bug, "impostor")})
    assert repo.poison("list").rc == 0
    tip = git(store_of(repo), "rev-parse", f"refs/heads/{project(repo)}")
    # What git-poison 90c5d05 (cache format 1, before names were vetted) cached for this
    # tip: the file read as a record.
    impostor = {
        "schema": 1,
        "id": "evil01",
        "poisons": [bug],
        "cures": [],
        "comment": "impostor",
        "bug": None,
        "severity": None,
        "editor": "Old <o@x>",
        "created": "",
        "updated": "",
        "withdrawn": None,
        "path": "x/../evil01.json",
        "legacy": True,
    }
    records_cache(repo).write_text(
        json.dumps(
            {"rules": "1/1/65536", "commit": tip, "items": [impostor]}, separators=(",", ":")
        )
    )
    listed = repo.poison("list")
    assert "impostor" not in listed.out
    assert "unreadable record x/../evil01.json" in listed.out


def test_curing_an_original_record_in_a_subfolder_moves_it_and_keeps_its_neighbours(
    repo: Repo,
) -> None:
    bug = repo.commit("bug")
    fix = repo.commit("fix")
    repo.add_poison(bug, "current one")
    plant(
        store_of(repo),
        project(repo),
        {
            f"old/{bug}.json".encode(): legacy(bug, "from before"),
            b"old/README": b"kept\n",
            b"notes/x.txt": b"kept\n",
        },
    )
    cured = repo.poison("cure", bug[:12], fix)
    assert cured.rc == 0, cured.err
    tip = f"refs/heads/{project(repo)}"
    files = git(store_of(repo), "ls-tree", "-r", "--name-only", tip).splitlines()
    assert f"records/{bug[:12]}.json" in files and f"old/{bug}.json" not in files
    assert "old/README" in files and "notes/x.txt" in files
    moved = json.loads(git(store_of(repo), "show", f"{tip}:records/{bug[:12]}.json"))
    assert moved["comment"] == "from before" and moved["cures"] == [fix]
    git(store_of(repo), "fsck", "--no-progress")


def test_the_refusal_names_a_hostile_path_escaped_on_one_line(repo: Repo) -> None:
    bug = repo.commit("bug")
    rid = repo.add_poison(bug, "real")
    plant(store_of(repo), project(repo), {f"a\x1b[2J\nb/{rid}.json".encode(): legacy(bug, "x")})
    r = repo.poison("show", rid)
    assert r.rc == 2 and f"(a\\x1b[2J\\x0ab/{rid}.json and records/{rid}.json)" in r.err, r.err
    _one_line_and_no_crash(r.err)
    assert "\x1b" not in r.err
