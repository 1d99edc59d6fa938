"""check --verify: only what the trust policy vouches for counts (issue 14).

Every history is built with real git: ssh keys made by ssh-keygen, commits signed by
git, a forged author name, an unsigned push, a policy branch pushed by its owners."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gitrepo import Repo, git, service_with_origin
from tests.hostile import project
from tests.poisons_work import PoisonsWork
from tests.signers import Signer, make_signer, publish_policy

UNSIGNED = {
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "poison.sign",
    "GIT_CONFIG_VALUE_0": "false",
}
FORGED = {**UNSIGNED, "GIT_AUTHOR_NAME": "Release Manager", "GIT_AUTHOR_EMAIL": "rm@example.com"}


@dataclass
class Gate:
    repo: Repo
    remote: Path
    alice: Signer
    record: str
    bug: str
    keys: Path


def _gate(tmp_path: Path, remote: Path, *, curers: list[str] | None = None) -> Gate:
    """HEAD of master carries a poison Alice recorded, signed; the policy lets Alice
    (and `curers`) cure and withdraw, and anyone it lists add."""
    repo, _origin = service_with_origin(tmp_path)
    keys = tmp_path / "keys"
    alice = make_signer(keys, "alice@example.com")
    alice.use(repo, "Alice")
    repo.git("config", "poison.remote", str(remote))
    bug = repo.rev("HEAD")
    repo.commit("release candidate")
    rid = repo.add_poison(bug, "service hangs on io error")
    publish_policy(remote, [alice], cure=curers or ["alice@example.com"])
    return Gate(repo, remote, alice, rid, bug, keys)


def _verify(repo: Repo, *args: str) -> dict[str, object]:
    r = repo.poison("check", "--verify", "--json", *args)
    data: dict[str, object] = json.loads(r.out)
    data["rc"] = r.rc
    return data


def test_a_forged_unsigned_cure_of_the_release_tip_does_not_pass_a_verifying_check(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    forged = g.repo.poison("cure", g.record, "master", env=FORGED)
    assert forged.rc == 0, forged.err
    assert g.repo.poison("check").rc == 0  # what any gate said before
    r = g.repo.poison("check", "--verify")
    assert r.rc == 2, r.out
    assert r.out.startswith("could not decide")
    tip = g.repo.rev("master")
    line = next(ln for ln in r.out.splitlines() if f"added cure {tip[:12]}" in ln)
    assert "Release Manager <rm@example.com>" in line and "unsigned" in line
    assert "needs 'cure'" in line and "not counted" in line
    data = _verify(g.repo)
    assert data["rc"] == 2 and data["verdict"] == "undecided"
    assert [f["id"] for f in data["undecided"]] == [g.record]  # type: ignore[attr-defined]
    (u,) = data["trust"]["untrusted"]  # type: ignore[index]
    assert u["id"] == g.record and u["item"] == tip and u["counted"] is False
    assert u["action"] == "cure" and u["signature"]["status"] == "unsigned"
    assert u["author"] == "Release Manager <rm@example.com>"


def test_poison_verify_turns_verification_on_and_no_verify_off(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    assert g.repo.poison("cure", g.record, "master", env=FORGED).rc == 0
    g.repo.git("config", "poison.verify", "true")
    assert g.repo.poison("check").rc == 2
    assert g.repo.poison("check", "--no-verify").rc == 0


def test_a_cure_signed_by_a_key_the_policy_does_not_list_counts_for_nothing(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    make_signer(g.keys, "mallory@example.com").use(g.repo, "Release Manager")
    assert g.repo.poison("cure", g.record, "master").rc == 0
    data = _verify(g.repo)
    assert data["rc"] == 2
    (u,) = data["trust"]["untrusted"]  # type: ignore[index]
    assert u["signature"]["status"] == "unknown-key" and u["signature"]["key"].startswith("SHA256:")


def test_a_signer_the_policy_lists_but_does_not_let_cure_counts_for_nothing(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    bob = make_signer(g.keys, "bob@example.com")
    publish_policy(remote, [g.alice, bob], cure=["alice@example.com"])
    bob.use(g.repo, "Bob")
    assert g.repo.poison("cure", g.record, "master").rc == 0
    data = _verify(g.repo)
    assert data["rc"] == 2
    (u,) = data["trust"]["untrusted"]  # type: ignore[index]
    assert u["signature"] == {**u["signature"], "status": "good", "signer": "bob@example.com"}
    assert u["action"] == "cure"


def test_a_cure_signed_by_an_allowed_curer_passes(tmp_path: Path, remote: Path) -> None:
    g = _gate(tmp_path, remote)
    assert g.repo.poison("cure", g.record, "master").rc == 0
    data = _verify(g.repo)
    assert data["rc"] == 0 and data["verdict"] == "healthy"
    assert data["trust"]["untrusted"] == []  # type: ignore[index]
    assert "does not vouch" not in g.repo.poison("check", "--verify").out


def test_recording_a_forged_cure_again_signed_makes_it_count(tmp_path: Path, remote: Path) -> None:
    g = _gate(tmp_path, remote)
    assert g.repo.poison("cure", g.record, "master", env=FORGED).rc == 0
    assert _verify(g.repo)["rc"] == 2
    again = g.repo.poison("cure", g.record, "master")
    assert again.rc == 0 and "recorded again, signed" in again.out, again.out
    data = _verify(g.repo)
    assert data["rc"] == 0, data
    # The signed commit names the cure it vouches for in full.
    message = git(remote, "log", "-1", "--format=%B", f"refs/heads/{project(g.repo)}")
    assert f"Poison-Cure: {g.repo.rev('master')}" in message


def test_an_untrusted_poison_still_counts(tmp_path: Path, remote: Path) -> None:
    g = _gate(tmp_path, remote)
    other = g.repo.commit("another bug")
    forged = g.repo.poison("add", other, "-m", "planted by nobody we know", env=FORGED)
    assert forged.rc == 0
    rid = forged.out.strip()
    data = _verify(g.repo)
    assert data["rc"] == 1 and {f["id"] for f in data["poisoned"]} == {g.record, rid}  # type: ignore[attr-defined]
    (u,) = data["trust"]["untrusted"]  # type: ignore[index]
    assert u["id"] == rid and u["what"] == "created the record" and u["counted"] is True


def test_an_untrusted_withdrawal_leaves_the_poison_undecided_until_withdrawn_signed(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    assert g.repo.poison("withdraw", g.record, "-m", "not a bug", env=FORGED).rc == 0
    assert g.repo.poison("check").rc == 0
    data = _verify(g.repo)
    assert data["rc"] == 2
    (u,) = data["trust"]["untrusted"]  # type: ignore[index]
    assert u["action"] == "withdraw" and u["what"] == "withdrew it"
    again = g.repo.poison("withdraw", g.record, "-m", "not a bug: confirmed by Alice")
    assert again.rc == 0 and "withdrawn" in again.out
    assert _verify(g.repo)["rc"] == 0


def test_an_untrusted_cure_outside_the_target_history_leaves_it_poisoned(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    g.repo.branch("hotfix")
    g.repo.checkout("hotfix")
    fix = g.repo.commit("fix on a branch master does not have")
    g.repo.checkout("master")
    assert g.repo.poison("cure", g.record, fix, env=FORGED).rc == 0
    data = _verify(g.repo)
    assert data["rc"] == 1 and data["verdict"] == "poisoned"


def test_a_poison_removed_by_an_untrusted_edit_still_counts(tmp_path: Path, remote: Path) -> None:
    g = _gate(tmp_path, remote)
    g.repo.branch("elsewhere")
    g.repo.checkout("elsewhere")
    elsewhere = g.repo.commit("a commit master never gets")
    g.repo.checkout("master")
    work = PoisonsWork(remote, project(g.repo), tmp_path / "poisons-work")
    path = work.path / "records" / f"{g.record}.json"
    record = json.loads(path.read_text())
    record["poisons"] = [elsewhere]  # swap the real poison for one master does not have
    path.write_text(json.dumps(record, indent=2) + "\n")
    work.git("add", ".")
    work.publish("typo in poison")
    assert g.repo.poison("check").rc == 0
    data = _verify(g.repo)
    assert data["rc"] == 1 and [f["id"] for f in data["poisoned"]] == [g.record]  # type: ignore[attr-defined]
    removed = [u for u in data["trust"]["untrusted"] if u["what"].startswith("removed poison")]  # type: ignore[index]
    assert [(u["item"], u["counted"]) for u in removed] == [(g.bug, True)]
    assert "Mallory <mallory@example.com>" == removed[0]["author"]


def test_a_baseline_vouches_for_records_made_before_signing_began(
    tmp_path: Path, remote: Path
) -> None:
    repo, _origin = service_with_origin(tmp_path)
    repo.git("config", "poison.remote", str(remote))
    bug = repo.rev("HEAD")
    fix = repo.commit("fix")
    rid = repo.add_poison(bug, "recorded before anyone signed")
    repo.add_cure(rid, fix)
    alice = make_signer(tmp_path / "keys", "alice@example.com")
    publish_policy(remote, [alice])
    assert _verify(repo)["rc"] == 2  # an unsigned cure, like any other
    tip = git(remote, "rev-parse", f"refs/heads/{project(repo)}")
    publish_policy(
        remote,
        [alice],
        policy_text=json.dumps(
            {
                "version": 1,
                "add": ["*"],
                "cure": ["alice@example.com"],
                "withdraw": ["alice@example.com"],
                "baseline": [tip],
            }
        ),
    )
    data = _verify(repo)
    assert data["rc"] == 0 and data["trust"]["untrusted"] == []  # type: ignore[index]
    # What comes after the baseline is judged as before.
    later = repo.add_poison(bug, "recorded after the baseline")
    repo.add_cure(later, fix)
    data = _verify(repo)
    assert data["rc"] == 2
    assert [u["id"] for u in data["trust"]["untrusted"]] == [later, later]  # type: ignore[index]


def test_a_merge_of_records_made_offline_keeps_each_sides_signatures(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    carol = make_signer(g.keys, "carol@example.com")
    publish_policy(remote, [g.alice, carol], cure=["alice@example.com"])  # Carol may not cure
    teammate = Repo.clone(tmp_path / "svc.git", tmp_path / "carol")
    carol.use(teammate, "Carol")
    teammate.git("config", "poison.remote", str(remote))
    assert teammate.poison("list").rc == 0  # fetched once
    carols = teammate.commit("Carol's idea of a fix")
    moved = remote.with_name("away.git")
    remote.rename(moved)
    offline = teammate.poison("cure", g.record, carols)  # signed, but not a curer
    assert offline.rc == 0 and "locally only" in offline.err
    moved.rename(remote)
    fix = g.repo.commit("the real fix")
    g.repo.add_cure(g.record, fix)  # Alice, signed, on the shared repository
    assert teammate.poison("sync").rc == 0  # Carol's clone merges both sides of the record
    branch = f"refs/heads/{project(g.repo)}"
    assert len(git(remote, "log", "-1", "--format=%P", branch).split()) == 2
    merged = json.loads(git(remote, "show", f"{branch}:records/{g.record}.json"))
    assert set(merged["cures"]) == {fix, carols}
    data = _verify(g.repo)
    # Alice's cure keeps her signature through Carol's merge; Carol's stays hers.
    assert data["rc"] == 0, data
    assert [(u["item"], u["signature"]["signer"]) for u in data["trust"]["untrusted"]] == [  # type: ignore[index]
        (carols, "carol@example.com")
    ]


def test_verify_without_a_policy_is_one_line_and_undecided(repo: Repo) -> None:
    repo.add_poison(repo.commit("bug"))
    r = repo.poison("check", "--verify")
    assert r.rc == 2 and r.out == "" and len(r.err.strip().splitlines()) == 1
    assert "no trust policy" in r.err and "poison-policy" in r.err


@pytest.mark.parametrize(
    ("policy_text", "signers_text", "message"),
    [
        ("{not json", None, "policy.json is not valid JSON"),
        (
            '{"version": 1, "add": [], "cure": [], "withdraw": [], "admins": []}',
            None,
            "unknown field 'admins'",
        ),
        ('{"version": 2, "add": [], "cure": [], "withdraw": []}', None, "'version' must be 1"),
        (
            '{"version": 1, "add": [], "cure": "alice@example.com", "withdraw": []}',
            None,
            "field 'cure' must be a list of principals",
        ),
        (
            '{"version": 1, "add": [], "cure": ["alice example"], "withdraw": []}',
            None,
            "not a principal",
        ),
        (
            '{"version": 1, "add": [], "cure": [], "withdraw": [], "baseline": ["HEAD"]}',
            None,
            "'baseline' must be a list of full commit SHAs",
        ),
        (None, "alice@example.com \udcff\n", "allowed_signers is not UTF-8 text"),
    ],
)
def test_a_malformed_policy_is_refused_in_one_line(
    tmp_path: Path, remote: Path, policy_text: str | None, signers_text: str | None, message: str
) -> None:
    g = _gate(tmp_path, remote)
    publish_policy(remote, [g.alice], policy_text=policy_text, signers_text=signers_text)
    r = g.repo.poison("check", "--verify")
    assert r.rc == 2 and r.out == "", r.out
    assert len(r.err.strip().splitlines()) == 1 and message in r.err, r.err
    assert "poison-policy" in r.err


def test_restoring_a_deleted_record_signed_does_not_vouch_for_its_forged_cure(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    assert g.repo.poison("cure", g.record, "master", env=FORGED).rc == 0
    PoisonsWork(remote, project(g.repo), tmp_path / "poisons-work").delete(
        f"records/{g.record}.json"
    )
    assert g.repo.poison("check").rc == 2  # vanished
    assert g.repo.poison("restore", g.record).rc == 0  # by Alice, signed
    data = _verify(g.repo)
    assert data["rc"] == 2, data
    (u,) = data["trust"]["untrusted"]  # type: ignore[index]
    assert u["author"] == "Release Manager <rm@example.com>" and u["action"] == "cure"


def test_a_release_report_with_verify_lists_no_bugfix_only_a_forged_cure_makes(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    g.repo.git("tag", "v1", "HEAD")
    tip = g.repo.commit("release 2", {"NEWS": "2\n"})
    assert g.repo.poison("cure", g.record, tip, env=FORGED).rc == 0
    plain = json.loads(g.repo.poison("check", "HEAD", "--since", "v1", "--json").out)
    assert [f["id"] for f in plain["fixed"]] == [g.record]
    data = _verify(g.repo, "HEAD", "--since", "v1")
    assert data["rc"] == 2 and data["fixed"] == []
    assert [f["id"] for f in data["undecided"]] == [g.record]  # type: ignore[attr-defined]


def test_the_verdict_kept_between_runs_is_only_a_cache(tmp_path: Path, remote: Path) -> None:
    g = _gate(tmp_path, remote)
    assert g.repo.poison("cure", g.record, "master", env=FORGED).rc == 0
    first = _verify(g.repo)
    kept = g.repo.path / ".git" / "poison" / "git-poison-trust.json"
    assert kept.exists()
    assert _verify(g.repo) == first
    kept.write_text('{"key": "x", "records": {}, "untrusted": [{}]}')
    assert _verify(g.repo) == first
    data = json.loads(kept.read_text())
    data["untrusted"] = [{"id": "forged"}]  # the right key, a damaged entry
    kept.write_text(json.dumps(data))
    assert _verify(g.repo) == first
    kept.unlink()
    assert _verify(g.repo) == first


def test_a_record_withdrawn_unsigned_then_deleted_still_counts_with_verify(
    tmp_path: Path, remote: Path
) -> None:
    g = _gate(tmp_path, remote)
    assert g.repo.poison("withdraw", g.record, "-m", "gone", env=FORGED).rc == 0
    PoisonsWork(remote, project(g.repo), tmp_path / "poisons-work").delete(
        f"records/{g.record}.json"
    )
    assert g.repo.poison("check").rc == 0  # withdrawn before it was deleted: not "vanished"
    data = _verify(g.repo)
    assert data["rc"] == 2 and [f["id"] for f in data["undecided"]] == [g.record], data  # type: ignore[attr-defined]
    whats = {u["what"]: u["author"] for u in data["trust"]["untrusted"]}  # type: ignore[index]
    assert whats == {
        "withdrew it": "Release Manager <rm@example.com>",
        "deleted its file": "Mallory <mallory@example.com>",
    }
    assert _verify(g.repo) == data  # the same from what was kept between runs


def test_a_deleted_record_is_judged_with_verify(tmp_path: Path, remote: Path) -> None:
    g = _gate(tmp_path, remote)
    PoisonsWork(remote, project(g.repo), tmp_path / "poisons-work").delete(
        f"records/{g.record}.json"
    )
    assert g.repo.poison("check").rc == 2  # vanished: undecided
    data = _verify(g.repo)
    assert data["rc"] == 1 and [f["id"] for f in data["poisoned"]] == [g.record]  # type: ignore[attr-defined]


def test_an_openpgp_signature_names_nobody_the_policy_trusts(tmp_path: Path, remote: Path) -> None:
    """gpg says "good" for any key in this machine's keyring: a key whose user id is
    Alice's email is not Alice's ssh key in the policy's allowed_signers."""
    import os
    import shutil
    import subprocess

    g = _gate(tmp_path, remote)
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupg)}
    gpg = shutil.which("gpg")
    assert gpg, "gpg is needed (scripts/test.sh installs gnupg)"
    try:
        subprocess.run(
            [
                gpg,
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "alice@example.com",
                "ed25519",
                "sign",
                "never",
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        g.repo.git("config", "--unset", "gpg.format")
        g.repo.git("config", "user.signingKey", "alice@example.com")
        r = g.repo.poison("cure", g.record, "master", env={"GNUPGHOME": str(gnupg)})
        assert r.rc == 0, r.err
        logged = json.loads(
            g.repo.poison("log", g.record, "--json", env={"GNUPGHOME": str(gnupg)}).out
        )
        assert logged["changes"][-1]["signature"]["signer"] == "alice@example.com"  # gpg's word
        data = json.loads(
            g.repo.poison("check", "--verify", "--json", env={"GNUPGHOME": str(gnupg)}).out
        )
        assert data["verdict"] == "undecided", data
    finally:
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"], env=env, check=False, capture_output=True
        )
