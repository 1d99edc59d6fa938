"""OSV 1.7 export and import: records flow to and from the security ecosystem."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import Repo


def _setup(repo: Repo) -> tuple[str, str, str]:
    repo.commit("lib", {"lib.c": "a\nb\nc\n"})
    repo.git("tag", "v1.0")
    poison = repo.commit("bug", {"lib.c": "a\nBUG\nc\n"})
    repo.git("tag", "v1.1")
    repo.branch("lts")
    cure = repo.commit("fix", {"lib.c": "a\nb fixed\nc\n"})
    repo.git("tag", "v1.2")
    repo.checkout("lts")
    repo.git("cherry-pick", "-x", cure)
    repo.git("tag", "v1.1.1")
    repo.checkout("master")
    rid = repo.add_poison(poison, "overflow in b", "--bug", "CVE-2026-12345", "--severity", "high")
    repo.add_cure(rid, cure)
    return rid, poison, cure


def test_export_osv_has_git_ranges_and_affected_tags_including_copies(repo: Repo) -> None:
    rid, poison, cure = _setup(repo)
    r = repo.poison("export", "--osv")
    assert r.rc == 0, r.err
    (entry,) = json.loads(r.out)
    assert entry["schema_version"] == "1.7.0"
    assert entry["id"] == f"GIT-POISON-{rid}"
    assert entry["aliases"] == ["CVE-2026-12345"]
    (aff,) = entry["affected"]
    (rng,) = aff["ranges"]
    assert rng["type"] == "GIT"
    assert rng["events"] == [{"introduced": poison}, {"fixed": cure}]
    # v1.1.1 holds only a cherry-picked copy of the fix: not affected.
    assert aff["versions"] == ["v1.1"]
    assert entry["database_specific"]["git_poison"]["severity"] == "high"


def test_osv_round_trip_into_a_clone_gives_the_same_record(repo: Repo, tmp_path: Path) -> None:
    rid, poison, cure = _setup(repo)
    out = tmp_path / "osv"
    assert repo.poison("export", "--osv", "-o", str(out)).rc == 0
    assert (out / f"GIT-POISON-{rid}.json").is_file()
    clone = Repo.clone(repo.path, tmp_path / "clone")
    r = clone.poison("import", "--osv", str(out))
    assert r.rc == 0 and "imported 1 new records" in r.out, r.out + r.err
    (rec,) = json.loads(clone.poison("list", "--json").out)["records"]
    assert (rec["id"], rec["poisons"], rec["cures"], rec["bug"], rec["severity"]) == (
        rid,
        [poison],
        [cure],
        "CVE-2026-12345",
        "high",
    )
    again = clone.poison("import", "--osv", str(out))
    assert "imported 0 new records" in again.out and "1 already recorded" in again.out
    assert clone.poison("check", "origin/lts").rc == 0
    assert clone.poison("check", "v1.1").rc == 1


def test_third_party_osv_imports_known_commits_and_counts_the_rest(
    repo: Repo, tmp_path: Path
) -> None:
    repo.commit("lib")
    poison = repo.commit("bug")
    cure = repo.commit("fix")
    entry = {
        "schema_version": "1.7.0",
        "id": "GHSA-abcd-efgh-jkmn",
        "modified": "2026-01-01T00:00:00Z",
        "summary": "heap overflow",
        "details": "heap overflow in the parser",
        "affected": [
            {
                "package": {"ecosystem": "GIT", "name": "x"},
                "ranges": [
                    {
                        "type": "GIT",
                        "repo": "https://example.com/x.git",
                        "events": [
                            {"introduced": "0"},
                            {"introduced": poison},
                            {"fixed": cure},
                            {"fixed": "f" * 40},
                            {"last_affected": poison},
                            {"introduced": "not-a-sha"},
                        ],
                    },
                    {"type": "SEMVER", "events": [{"introduced": "1.0.0"}]},
                ],
            }
        ],
    }
    other = {
        "id": "OSV-2026-1",
        "affected": [{"ranges": [{"type": "GIT", "events": [{"introduced": "e" * 40}]}]}],
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([entry, other, {"no": "id"}]))
    r = repo.poison("import", "--osv", str(path))
    assert r.rc == 0, r.err
    assert "imported 1 new records" in r.out
    for reason in (
        "introduced at the beginning",
        "last_affected",
        "not a full commit SHA",
        "not in this clone",
        "no introducing commit",
        "no id",
    ):
        assert reason in r.err, (reason, r.err)
    (rec,) = json.loads(repo.poison("list", "--json").out)["records"]
    assert (rec["id"], rec["bug"], rec["poisons"], rec["cures"]) == (
        "ghsa-abcd-efgh-jkmn",
        "GHSA-abcd-efgh-jkmn",
        [poison],
        [cure],
    )
    assert rec["comment"] == "heap overflow in the parser"


def test_unreadable_osv_input_is_a_one_line_error(repo: Repo, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for arg in (str(bad), str(tmp_path / "missing.json"), str(tmp_path)):
        r = repo.poison("import", "--osv", arg)
        assert r.rc == 2 and len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err, (
            r.err
        )
