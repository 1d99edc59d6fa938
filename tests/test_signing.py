"""Record commits are signed with git's own signing, set up in the source repository."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import Repo, git
from tests.hostile import project, store_of
from tests.signers import allowed_signers, make_signer, signatures


def test_add_cure_withdraw_are_signed_with_the_key_of_the_source_repositorys_config(
    repo: Repo, tmp_path: Path
) -> None:
    alice = make_signer(tmp_path / "keys", "alice@example.com")
    alice.use(repo)  # .git/config of the service, not the global config
    bug = repo.commit("bug")
    fix = repo.commit("fix")
    rid = repo.add_poison(bug)
    repo.add_cure(rid, fix)
    assert repo.poison("withdraw", rid, "-m", "duplicate").rc == 0
    signers = tmp_path / "allowed_signers"
    signers.write_text(allowed_signers(alice))
    sigs = signatures(store_of(repo), f"refs/heads/{project(repo)}", signers)
    assert len(sigs) == 3
    assert all(status == "G" and who == "alice@example.com" for _, status, who in sigs), sigs


def test_signing_is_on_with_poison_sign_and_off_with_poison_sign_false(
    repo: Repo, tmp_path: Path
) -> None:
    alice = make_signer(tmp_path / "keys", "alice@example.com")
    alice.use(repo)
    repo.git("config", "poison.sign", "false")
    bug = repo.commit("bug")
    repo.add_poison(bug, "unsigned on request")
    repo.git("config", "poison.sign", "true")
    repo.add_poison(bug, "signed on request")
    signers = tmp_path / "allowed_signers"
    signers.write_text(allowed_signers(alice))
    statuses = [s for _, s, _ in signatures(store_of(repo), f"refs/heads/{project(repo)}", signers)]
    assert statuses == ["G", "N"]


def test_without_a_signing_key_records_stay_unsigned(repo: Repo, tmp_path: Path) -> None:
    bug = repo.commit("bug")
    repo.add_poison(bug)
    signers = tmp_path / "allowed_signers"
    signers.write_text("")
    sigs = signatures(store_of(repo), f"refs/heads/{project(repo)}", signers)
    assert [s for _, s, _ in sigs] == ["N"]


def test_a_key_that_cannot_sign_records_nothing_and_says_why_in_one_line(
    repo: Repo, tmp_path: Path, remote: Path
) -> None:
    repo.git("config", "poison.remote", str(remote))
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingKey", str(tmp_path / "no-such-key"))
    bug = repo.commit("bug")
    r = repo.poison("add", bug, "-m", "a bug")
    assert r.rc == 2 and r.out == "", r.err
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert "could not sign" in r.err and "no-such-key" in r.err and "poison.sign false" in r.err
    local = json.loads(repo.poison("--no-fetch", "list", "--json").out)
    assert local["records"] == []
    assert git(remote, "for-each-ref") == ""


def test_records_pushed_to_the_shared_repository_carry_the_signature(
    repo: Repo, tmp_path: Path, remote: Path
) -> None:
    bob = make_signer(tmp_path / "keys", "bob@example.com")
    bob.use(repo)
    repo.git("config", "poison.remote", str(remote))
    repo.add_poison(repo.commit("bug"))
    signers = tmp_path / "allowed_signers"
    signers.write_text(allowed_signers(bob))
    sigs = signatures(remote, f"refs/heads/{project(repo)}", signers)
    assert [(s, who) for _, s, who in sigs] == [("G", "bob@example.com")]
