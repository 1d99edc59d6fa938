"""The per-environment summary (`scope --summary`): ops after a hotfix want
"production: 2 uncured, 1 critical" and "upgrade to v5.0.9" for a deployed tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poison_tools.environments import parse_release
from tests.gitrepo import Repo


class Releases:
    """master: bug A (high), bug C (critical), release/4.1 branched and tagged v4.1.0,
    v5.0.8 on master, then both fixes and v5.0.9. The fix of C is cherry-picked onto
    release/4.1 and released as v4.1.1; the fix of A never reaches the 4.1 line."""

    def __init__(self, repo: Repo, tmp: Path) -> None:
        self.repo = repo
        self.bug_a = repo.commit("cache race", {"cache.c": "race\n"})
        self.bug_c = repo.commit("auth bypass", {"auth.c": "bypass\n"})
        repo.branch("release/4.1")
        repo.git("tag", "v4.1.0")
        repo.commit("more work", {"work.c": "w\n"})
        repo.git("tag", "v5.0.8")
        self.fix_a = repo.commit("fix cache race", {"cache.c": "locked\n"})
        self.fix_c = repo.commit("fix auth bypass", {"auth.c": "checked\n"})
        repo.git("tag", "-a", "v5.0.9", "-m", "5.0.9")  # annotated: peeled like any tag
        repo.git("tag", "v5.1.0-rc1")  # a pre-release is no advice
        repo.checkout("release/4.1")
        repo.git("cherry-pick", "-x", self.fix_c)
        repo.git("tag", "v4.1.1")
        repo.checkout("master")
        self.a = repo.add_poison(self.bug_a, "cache race", "--severity", "high")
        self.c = repo.add_poison(self.bug_c, "auth bypass", "--severity", "critical")
        repo.add_cure(self.a, self.fix_a)
        repo.add_cure(self.c, self.fix_c)
        inventory = tmp / "deploy.yaml"
        inventory.write_text(
            "production:\n"
            "  eu: {api: v4.1.0}\n"
            "  us: {api: v5.0.8}\n"
            "  canary: {api: v5.0.9}\n"
            "staging: {api: master, old: v4.1.1}\n"
            "legacy: v0.0.404\n"
        )
        repo.git("config", "poison.deployments", str(inventory))


@pytest.fixture
def releases(tmp_path: Path) -> Releases:
    return Releases(Repo(tmp_path / "svc"), tmp_path)


def test_summary_json_counts_uncured_by_severity_and_advises_the_first_fixed_release(
    releases: Releases,
) -> None:
    r = releases.repo.poison("scope", "--summary", "--json")
    assert r.rc == 1, r.err
    data = json.loads(r.out)
    assert data["version"] == 2 and data["project"] and data["generated"].endswith("Z")
    envs = {e["name"]: e for e in data["environments"]}
    assert list(envs) == ["production", "staging", "legacy"]
    prod = envs["production"]
    assert (prod["deployments"], prod["affected"], prod["uncured"]) == (3, 2, 2)
    assert prod["severities"] == {"critical": 1, "high": 1}
    assert prod["records"] == [releases.c, releases.a]  # worst first
    eu, us, canary = prod["targets"]
    assert (eu["name"], eu["release"], eu["status"]) == ("production/eu/api", "v4.1.0", "affected")
    advice = {a["ids"][0]: a for a in eu["advice"]}
    # C's fix was released on the 4.1 line; A's only on 5.0.
    assert advice[releases.c]["to"] == "v4.1.1" and advice[releases.c]["same_line"] is True
    assert advice[releases.c]["text"] == "upgrade to v4.1.1, the first 4.1 release with the fix"
    assert advice[releases.a]["to"] == "v5.0.9" and advice[releases.a]["same_line"] is False
    assert advice[releases.a]["text"] == (
        "upgrade to v5.0.9, the first release with the fix (no fixed release on the 4.1 line yet)"
    )
    assert eu["upgrade"]["to"] == "v5.0.9" and sorted(eu["upgrade"]["ids"]) == sorted(
        [releases.a, releases.c]
    )
    assert [a["to"] for a in us["advice"]] == ["v5.0.9", "v5.0.9"]
    assert us["advice"][0]["text"] == "upgrade to v5.0.9, the first 5.0 release with the fix"
    assert canary["status"] == "cured" and canary["uncured"] == [] and canary["advice"] == []
    staging = envs["staging"]
    assert (staging["affected"], staging["severities"]) == (1, {"high": 1})
    api, old = staging["targets"]
    assert api["status"] == "cured" and api["release"] == "v5.0.9"  # master is at the tag
    assert old["uncured"] == [releases.a] and old["advice"][0]["to"] == "v5.0.9"
    legacy = envs["legacy"]
    assert legacy["unknown_revisions"] == 1 and legacy["targets"][0]["status"] == "unknown-revision"


def test_summary_text_reads_like_the_ops_question(releases: Releases) -> None:
    r = releases.repo.poison("scope", "--summary")
    assert r.rc == 1, r.err
    lines = r.out.splitlines()
    assert lines[0] == "production: 2 uncured (1 critical, 1 high) in 2 of 3 deployments"
    assert (
        lines[1] == f"  ✗ production/eu/api = v4.1.0: {releases.c} (critical), {releases.a} (high)"
    )
    assert (
        f"      {releases.c} auth bypass: upgrade to v4.1.1, the first 4.1 release with the fix"
        in lines
    )
    assert (
        "      all 2: upgrade to v5.0.9, the first release with the fix "
        "(no fixed release on the 4.1 line yet)"
    ) in lines
    assert "staging: 1 uncured (1 high) in 1 of 2 deployments" in lines
    assert "legacy: nothing uncured in 1 deployment; 1 unknown revision" in lines
    assert r.out.count("no cure recorded") == 0


def test_whole_matrix_with_tags_carries_the_same_summary(releases: Releases) -> None:
    """With every tag a column, the release verdicts come from the rows themselves."""
    summary = json.loads(releases.repo.poison("scope", "--summary", "--json").out)["environments"]
    full = json.loads(releases.repo.poison("scope", "--tags", "--json").out)
    assert full["environments"] == summary
    text = releases.repo.poison("scope").out
    assert "per environment:" in text and "production: 2 uncured (1 critical, 1 high)" in text


def test_a_record_with_no_cure_has_no_release_to_go_to(releases: Releases) -> None:
    repo = releases.repo
    late = repo.add_poison(releases.bug_a, "same commit, other bug", "--severity", "low")
    data = json.loads(repo.poison("scope", "--summary", "--json").out)
    canary = data["environments"][0]["targets"][2]
    assert canary["uncured"] == [late]
    assert canary["advice"][0]["to"] is None
    assert canary["advice"][0]["text"] == "no release has the fix yet (no cure recorded)"


@pytest.mark.parametrize(
    "name, version",
    [
        ("v4.10.0", (4, 10, 0)),
        ("4.9", (4, 9)),
        ("api/v1.2.3", (1, 2, 3)),
        ("release-2.0.1", (2, 0, 1)),
        ("v5.0.0-rc1", None),
        ("nightly", None),
        ("v1", None),
    ],
)
def test_release_names_and_their_numeric_order(name: str, version: tuple[int, ...] | None) -> None:
    rel = parse_release(name, "0" * 40)
    assert (rel.version if rel else None) == version
    if rel and name == "v4.10.0":
        nine = parse_release("v4.9.9", "0" * 40)
        assert nine is not None and nine < rel and rel.line == "4.10"
