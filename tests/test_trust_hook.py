"""The pre-push hook with poison.verify: a protected branch is not let through by a
cure the trust policy does not vouch for (issue 14). Real `git push` to bare remotes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import git
from tests.hostile import project
from tests.signers import make_signer, publish_policy
from tests.test_hook import Service, lts_commit, make_service, push, remote_tip

FORGED = {"GIT_AUTHOR_NAME": "Release Manager", "GIT_AUTHOR_EMAIL": "rm@example.com"}


def _adopted(tmp_path: Path) -> Service:
    """The hook's service, whose records were made before anyone signed; the policy
    vouches for them with a baseline."""
    svc = make_service(tmp_path)
    alice = make_signer(tmp_path / "keys", "alice@example.com")
    tip = git(svc.poisons, "rev-parse", f"refs/heads/{project(svc.repo)}")
    publish_policy(
        svc.poisons,
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
    svc.repo.git("config", "poison.protect", "lts/*")
    return svc


def test_a_forged_cure_of_the_protected_tip_passes_without_verify(tmp_path: Path) -> None:
    svc = _adopted(tmp_path)
    new = lts_commit(svc)
    assert svc.repo.poison("cure", svc.record, new, env=FORGED).rc == 0
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc == 0, r.err  # what the forged cure bought before poison.verify
    assert remote_tip(svc.origin, "lts/2.1") == new


def test_the_hook_blocks_a_protected_branch_cured_only_by_a_forged_unsigned_cure(
    tmp_path: Path,
) -> None:
    svc = _adopted(tmp_path)
    svc.repo.git("config", "poison.verify", "true")
    before = remote_tip(svc.origin, "lts/2.1")
    new = lts_commit(svc)
    assert svc.repo.poison("cure", svc.record, new, env=FORGED).rc == 0
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc != 0, r.err
    assert remote_tip(svc.origin, "lts/2.1") == before
    assert f"could not decide whether lts/2.1 ({new[:12]}) is poisoned" in r.err
    assert f"added cure {new[:12]}" in r.err and "Release Manager <rm@example.com>" in r.err
    assert "push blocked: lts/2.1 is protected" in r.err
    assert f"git cherry-pick -x {svc.cure}" in r.err  # the cure the policy vouches for
    # The real fix, cherry-picked, is what lets it through.
    svc.repo.git("cherry-pick", "-x", svc.cure)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc == 0, r.err


def test_with_verify_an_unprotected_branch_only_warns(tmp_path: Path) -> None:
    svc = _adopted(tmp_path)
    svc.repo.git("config", "poison.verify", "true")
    svc.repo.git("checkout", "-q", "-b", "feature/x", "lts/2.1")
    new = svc.repo.commit("feature", {"f.py": "f = 1\n"})
    assert svc.repo.poison("cure", svc.record, new, env=FORGED).rc == 0
    r = push(svc.repo, "origin", "feature/x")
    assert r.rc == 0, r.err
    assert "added cure" in r.err and "the push goes on" in r.err


def test_verify_without_a_policy_blocks_a_protected_branch(tmp_path: Path) -> None:
    svc = make_service(tmp_path)
    svc.repo.git("config", "poison.protect", "lts/*")
    svc.repo.git("config", "poison.verify", "true")
    lts_commit(svc)
    r = push(svc.repo, "origin", "lts/2.1")
    assert r.rc != 0
    assert "no trust policy" in r.err and "push blocked" in r.err
