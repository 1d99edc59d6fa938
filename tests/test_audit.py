"""`git poison log ID`: who changed a record, what, and whether signed (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import Repo, service_with_origin
from tests.hostile import project
from tests.poisons_work import PoisonsWork
from tests.signers import make_signer, publish_policy


def _signed_service(tmp_path: Path, remote: Path) -> tuple[Repo, str, str, str]:
    repo, _origin = service_with_origin(tmp_path)
    alice = make_signer(tmp_path / "keys", "alice@example.com")
    alice.use(repo, "Alice")
    repo.git("config", "poison.remote", str(remote))
    bug = repo.rev("HEAD")
    fix = repo.commit("fix")
    rid = repo.add_poison(bug, "service hangs on io error")
    publish_policy(remote, [alice])
    return repo, rid, bug, fix


def test_log_shows_a_forged_unsigned_cure_beside_the_signed_record(
    tmp_path: Path, remote: Path
) -> None:
    repo, rid, bug, fix = _signed_service(tmp_path, remote)
    # Anyone with push access, naming themselves "Release Manager", without a key.
    forged = repo.poison(
        "cure",
        rid,
        fix,
        env={
            "GIT_AUTHOR_NAME": "Release Manager",
            "GIT_AUTHOR_EMAIL": "rm@example.com",
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "poison.sign",
            "GIT_CONFIG_VALUE_0": "false",
        },
    )
    assert forged.rc == 0, forged.err
    r = repo.poison("log", rid)
    assert r.rc == 0, r.err
    lines = r.out.splitlines()
    assert "2 changes, oldest first" in lines[0] and "poison-policy" in lines[0]
    assert "Alice <alice@example.com>" in lines[1] and "signed by alice@example.com" in lines[1]
    assert "created:" in lines[2] and bug[:12] in lines[2] and "service hangs" in lines[2]
    assert "Release Manager <rm@example.com>" in lines[3] and lines[3].endswith("unsigned")
    assert f"cures +{fix[:12]}" in lines[4]
    data = json.loads(repo.poison("log", rid[:5], "--json").out)
    assert data["id"] == rid and data["paths"] == [f"records/{rid}.json"]
    first, second = data["changes"]
    assert first["action"] == "created"
    assert first["signature"] == {
        "status": "good",
        "code": "G",
        "key": first["signature"]["key"],
        "signer": "alice@example.com",
    }
    assert first["signature"]["key"].startswith("SHA256:")
    assert second["action"] == "edited" and second["author"] == "Release Manager <rm@example.com>"
    assert second["signature"]["status"] == "unsigned"
    assert second["fields"]["cures"] == {"from": [], "to": [fix]}


def test_log_names_a_key_the_policy_does_not_list(tmp_path: Path, remote: Path) -> None:
    repo, rid, _bug, fix = _signed_service(tmp_path, remote)
    mallory = make_signer(tmp_path / "keys", "mallory@example.com")
    mallory.use(repo, "Release Manager")
    assert repo.poison("cure", rid, fix).rc == 0
    data = json.loads(repo.poison("log", rid, "--json").out)
    sig = data["changes"][-1]["signature"]
    assert (
        sig["status"] == "unknown-key" and sig["signer"] == "" and sig["key"].startswith("SHA256:")
    )
    assert "signed by an unknown key SHA256:" in repo.poison("log", rid).out


def test_log_of_a_deleted_record_ends_with_its_deletion(tmp_path: Path, remote: Path) -> None:
    repo, rid, _bug, _fix = _signed_service(tmp_path, remote)
    PoisonsWork(remote, project(repo), tmp_path / "work").delete(f"records/{rid}.json")
    r = repo.poison("log", rid)
    assert r.rc == 0, r.err
    assert "Mallory <mallory@example.com>  unsigned" in r.out
    assert f"deleted records/{rid}.json" in r.out
    data = json.loads(repo.poison("log", rid, "--json").out)
    assert [c["action"] for c in data["changes"]] == ["created", "deleted"]


def test_log_without_a_policy_still_tells_signed_from_unsigned(repo: Repo, tmp_path: Path) -> None:
    bug = repo.commit("bug")
    rid = repo.add_poison(bug)
    make_signer(tmp_path / "keys", "alice@example.com").use(repo)
    assert repo.poison("withdraw", rid, "-m", "duplicate").rc == 0
    r = repo.poison("log", rid)
    assert "no trust policy" in r.out.splitlines()[0]
    data = json.loads(repo.poison("log", rid, "--json").out)
    assert data["policy"] is None
    assert [c["signature"]["status"] for c in data["changes"]] == ["unsigned", "unknown-key"]
    assert data["changes"][1]["fields"]["withdrawn"]["to"]["reason"] == "duplicate"


def test_log_of_an_unknown_id_is_one_line(repo: Repo) -> None:
    repo.add_poison(repo.commit("bug"))
    r = repo.poison("log", "nosuchid")
    assert r.rc == 2 and r.out == "" and len(r.err.strip().splitlines()) == 1
    assert "no record 'nosuchid'" in r.err
