"""A record file deleted or renamed instead of withdrawn is noticed (issue 14): by the
clone that saw it and by a fresh clone alike, until it is restored or withdrawn."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import Repo, git, service_with_origin
from tests.hostile import project, store_of
from tests.poisons_work import PoisonsWork


def _shared(tmp_path: Path, remote: Path) -> tuple[Repo, str, str]:
    """A service whose HEAD carries an uncured poison recorded on the shared remote."""
    repo, _origin = service_with_origin(tmp_path)
    repo.git("config", "poison.remote", str(remote))
    bug = repo.rev("HEAD")
    repo.commit("later work")
    rid = repo.add_poison(bug, "service hangs on io error")
    assert repo.poison("check").rc == 1
    return repo, rid, bug


def test_record_deleted_on_the_remote_makes_check_undecided_and_names_the_commit(
    tmp_path: Path, remote: Path
) -> None:
    repo, rid, _bug = _shared(tmp_path, remote)
    work = PoisonsWork(remote, project(repo), tmp_path / "poisons-work")
    deleting = work.delete(f"records/{rid}.json")
    r = repo.poison("check")
    assert r.rc == 2, (r.out, r.err)
    assert rid in r.out and deleting[:12] in r.out and "Mallory" in r.out
    assert f"git poison restore {rid}" in r.out
    data = json.loads(repo.poison("check", "--json").out)
    assert data["verdict"] == "undecided"
    assert [p["path"] for p in data["problems"]] == [f"records/{rid}.json"]
    # Reported by every read, not only the first one after the deletion.
    assert repo.poison("check").rc == 2
    listed = json.loads(repo.poison("list", "--json").out)
    assert [p["path"] for p in listed["problems"]] == [f"records/{rid}.json"]


def test_a_fresh_clone_notices_a_record_deleted_before_it_ever_fetched(
    tmp_path: Path, remote: Path
) -> None:
    repo, rid, _bug = _shared(tmp_path, remote)
    work = PoisonsWork(remote, project(repo), tmp_path / "poisons-work")
    work.delete(f"records/{rid}.json")
    ci = Repo.clone(tmp_path / "svc.git", tmp_path / "ci")
    ci.git("config", "poison.remote", str(remote))
    r = ci.poison("check")
    assert r.rc == 2 and rid in r.out, (r.out, r.err)


def test_a_renamed_record_is_reported_under_its_id(tmp_path: Path, remote: Path) -> None:
    repo, rid, _bug = _shared(tmp_path, remote)
    work = PoisonsWork(remote, project(repo), tmp_path / "poisons-work")
    work.git("mv", f"records/{rid}.json", "records/zzzzzzzzzz.json")
    work.publish("tidy up")
    r = repo.poison("check")
    assert r.rc == 2
    assert f"record {rid} vanished" in r.out and "zzzzzzzzzz" in r.out


def test_restore_brings_a_deleted_record_back_and_the_poison_counts_again(
    tmp_path: Path, remote: Path
) -> None:
    repo, rid, _bug = _shared(tmp_path, remote)
    work = PoisonsWork(remote, project(repo), tmp_path / "poisons-work")
    work.delete(f"records/{rid}.json")
    assert repo.poison("check").rc == 2
    r = repo.poison("restore", rid[:6])
    assert r.rc == 0 and f"{rid}: restored" in r.out, r.err
    after = repo.poison("check")
    assert after.rc == 1 and rid in after.out and "vanished" not in after.out
    shared = git(remote, "show", f"refs/heads/{project(repo)}:records/{rid}.json")
    assert json.loads(shared)["comment"] == "service hangs on io error"


def test_withdrawing_a_deleted_record_restores_it_withdrawn(tmp_path: Path, remote: Path) -> None:
    repo, rid, _bug = _shared(tmp_path, remote)
    work = PoisonsWork(remote, project(repo), tmp_path / "poisons-work")
    work.delete(f"records/{rid}.json")
    r = repo.poison("withdraw", rid, "-m", "not a bug after all")
    assert r.rc == 0 and f"{rid}: withdrawn" in r.out, r.err
    assert repo.poison("check").rc == 0
    shared = json.loads(git(remote, "show", f"refs/heads/{project(repo)}:records/{rid}.json"))
    assert shared["withdrawn"]["reason"] == "not a bug after all"


def test_a_record_withdrawn_before_its_file_was_deleted_is_not_reported(
    tmp_path: Path, remote: Path
) -> None:
    repo, rid, _bug = _shared(tmp_path, remote)
    assert repo.poison("withdraw", rid, "-m", "duplicate").rc == 0
    work = PoisonsWork(remote, project(repo), tmp_path / "poisons-work")
    work.delete(f"records/{rid}.json", author="Tidy <tidy@example.com>")
    r = repo.poison("check")
    assert r.rc == 0 and "vanished" not in r.out, (r.out, r.err)


def test_a_record_gone_with_a_rewritten_history_is_remembered_by_a_clone_that_read_it(
    tmp_path: Path, remote: Path
) -> None:
    repo, rid, _bug = _shared(tmp_path, remote)
    branch = project(repo)
    # A clone that only reads (CI with a kept workspace): it has no local records branch
    # of its own, only the fetched copy, which a rewritten remote replaces.
    reader = Repo.clone(tmp_path / "svc.git", tmp_path / "reader")
    reader.git("config", "poison.remote", str(remote))
    assert reader.poison("check").rc == 1
    # Rewrite the shared branch to a history that never held the record (a server
    # without denyNonFastForwards lets a force-push through).
    scratch = Repo(tmp_path / "rewrite")
    tree = scratch.git("mktree", input="")
    root = scratch.git("commit-tree", tree, "-m", "fresh start")
    scratch.git("push", "-q", "--force", str(remote), f"{root}:refs/heads/{branch}")
    r = reader.poison("check")
    assert r.rc == 2 and f"record {rid} vanished" in r.out and "rewritten" in r.out, r.out
    # restore still has the last version: this clone kept the objects.
    assert reader.poison("restore", rid).rc == 0
    assert reader.poison("check").rc == 1
    assert f"records/{rid}.json" in git(remote, "ls-tree", "-r", "--name-only", branch)


def test_show_of_a_deleted_record_says_how_to_bring_it_back(tmp_path: Path, remote: Path) -> None:
    repo, rid, _bug = _shared(tmp_path, remote)
    PoisonsWork(remote, project(repo), tmp_path / "poisons-work").delete(f"records/{rid}.json")
    r = repo.poison("show", rid)
    assert r.rc == 2 and len(r.err.strip().splitlines()) == 1
    assert "vanished" in r.err and f"git poison restore {rid}" in r.err


def test_the_remembered_state_is_only_a_cache(tmp_path: Path, remote: Path) -> None:
    repo, rid, _bug = _shared(tmp_path, remote)
    PoisonsWork(remote, project(repo), tmp_path / "poisons-work").delete(f"records/{rid}.json")
    assert repo.poison("check").rc == 2
    state = store_of(repo) / "git-poison-seen-ids.json"
    state.write_text("{not json")
    assert repo.poison("check").rc == 2
    state.unlink()
    assert repo.poison("check").rc == 2


def test_an_original_record_moved_to_the_current_format_by_a_cure_has_not_vanished(
    repo: Repo, tmp_path: Path
) -> None:
    bug = repo.commit("bug")
    fix = repo.commit("fix")
    rid = repo.add_poison(bug, "setup")
    assert repo.poison("withdraw", rid, "-m", "setup").rc == 0
    work = PoisonsWork(store_of(repo), project(repo), tmp_path / "poisons-work")
    (work.path / "legacy.json").write_text(
        json.dumps({"poison": bug, "cure": None, "comment": "legacy bug", "editor": "Old <o@x>"})
    )
    work.git("add", "legacy.json")
    work.publish("an original git-poison record", author="Old <o@x>")
    assert repo.poison("check").rc == 1
    repo.add_cure("legacy", fix)  # rewrites it as records/legacy.json, removes legacy.json
    names = git(store_of(repo), "ls-tree", "-r", "--name-only", f"refs/heads/{project(repo)}")
    assert "legacy.json" not in names.splitlines() and "records/legacy.json" in names
    r = repo.poison("check")
    assert r.rc == 0 and "vanished" not in r.out, (r.out, r.err)


def test_a_fifo_in_place_of_a_cache_file_does_not_hang_a_read(tmp_path: Path, remote: Path) -> None:
    import os
    import subprocess

    from tests.gitrepo import BIN

    repo, rid, _bug = _shared(tmp_path, remote)
    PoisonsWork(remote, project(repo), tmp_path / "poisons-work").delete(f"records/{rid}.json")
    state = store_of(repo) / "git-poison-seen-ids.json"
    state.unlink(missing_ok=True)
    os.mkfifo(state)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["git", "poison", "check"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2 and f"record {rid} vanished" in proc.stdout, proc.stderr
    assert state.is_file() and not state.is_symlink()  # replaced by a regular file
