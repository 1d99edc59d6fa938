"""`git poison scope` and `backports` on a repository with master and three LTS
branches: the issue's "done means" scenario, end to end through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitrepo import Repo

LIB = "".join(f"line {i}\n" for i in range(40))


class History:
    """master with a bug and its fix; lts/1.0 cured by `cherry-pick -x`, lts/2.0 by a
    hand backport of the same change, lts/3.0 not at all; lts/0.9 branched before
    the bug; tags on each, and a deployments inventory."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        repo.commit("lib", {"lib.c": LIB})
        repo.branch("lts/0.9")
        self.poison = repo.commit(
            "faster parser", {"lib.c": LIB.replace("line 5\n", "line 5 BUG\n")}
        )
        for b in ("lts/1.0", "lts/2.0", "lts/3.0"):
            repo.branch(b)
        repo.commit("master work", {"new.c": "new\n"})
        self.cure = repo.commit(
            "fix parser overflow", {"lib.c": LIB.replace("line 5\n", "line 5 ok\n")}
        )
        repo.checkout("lts/1.0")
        repo.git("tag", "v1.0.0")
        repo.git("cherry-pick", "-x", self.cure)
        repo.git("tag", "v1.0.1")
        repo.checkout("lts/2.0")
        repo.commit("lts 2 work", {"lts2.c": "x\n"})
        # By hand: the same change typed again, no trailer.
        (repo.path / "lib.c").write_text(LIB.replace("line 5\n", "line 5 ok\n"))
        repo.git("commit", "-qam", "backport: parser overflow")
        self.hand = repo.rev("HEAD")
        repo.git("tag", "v2.0.1")
        repo.checkout("lts/3.0")
        repo.git("tag", "v3.0.0")
        repo.checkout("lts/0.9")
        repo.git("tag", "v0.9.0")
        repo.checkout("master")
        self.id = repo.add_poison(self.poison, "parser overflows on long lines", "--bug", "BUG-7")
        repo.add_cure(self.id, self.cure)

    def inventory(self, tmp: Path) -> Path:
        path = tmp / "deploy.yaml"
        path.write_text(
            "production:\n"
            "  eu-west: {api: v1.0.1}\n"
            "  us-east: {api: v3.0.0}\n"
            "staging:\n"
            "  api: master\n"
            "legacy: 'v9.9.9'\n"
        )
        return path


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(Repo(tmp_path / "svc"))


def _cells(data: dict, key: str = "refs") -> dict[str, dict]:  # type: ignore[type-arg]
    (rec,) = data["records"]
    name = "ref" if key == "refs" else "name"
    return {c[name]: c for c in rec[key]}


def test_scope_json_shows_affected_cured_by_pick_and_by_hand_and_clean(
    history: History, tmp_path: Path
) -> None:
    r = history.repo.poison(
        "scope", "--tags", "--deployments", str(history.inventory(tmp_path)), "--json"
    )
    assert r.rc == 1, r.err  # something is affected
    data = json.loads(r.out)
    rec = data["records"][0]
    assert (rec["id"], rec["bug"]) == (history.id, "BUG-7")
    refs = _cells(data)
    status = {ref: c["status"] for ref, c in refs.items()}
    assert status == {
        "refs/heads/master": "cured",
        "refs/heads/lts/0.9": "clean",
        "refs/heads/lts/1.0": "cured",
        "refs/heads/lts/2.0": "cured",
        "refs/heads/lts/3.0": "affected",
        "refs/tags/v0.9.0": "clean",
        "refs/tags/v1.0.0": "affected",
        "refs/tags/v1.0.1": "cured",
        "refs/tags/v2.0.1": "cured",
        "refs/tags/v3.0.0": "affected",
    }
    assert refs["refs/heads/lts/1.0"]["cure_evidence"][0]["via"] == "cherry-pick trailer"
    assert refs["refs/heads/lts/2.0"]["cure_evidence"] == [
        {"commit": history.hand, "recorded": history.cure, "via": "patch-id"}
    ]
    assert refs["refs/heads/master"]["cure_evidence"][0]["via"] == "ancestry"
    (missing,) = refs["refs/heads/lts/3.0"]["missing_cures"]
    assert missing["cherry_pick"] == f"git cherry-pick -x {history.cure}"
    assert missing["applies_cleanly"] is True
    assert "refs" not in missing  # once per record, not once per cell
    assert "refs/heads/master" in rec["cure_refs"][history.cure]
    assert rec["counts"] == {"affected": 4, "cured": 7, "clean": 2, "unknown-revision": 1}
    # A clean cell is its name and status; its kind and commit are in `targets`, once.
    assert refs["refs/heads/lts/0.9"] == {"ref": "refs/heads/lts/0.9", "status": "clean"}
    listed = {t.get("ref") or t["name"]: t for t in data["targets"]}
    assert listed["refs/heads/lts/0.9"] == {
        "ref": "refs/heads/lts/0.9",
        "kind": "branch",
        "commit": history.repo.rev("lts/0.9"),
    }
    assert listed["legacy"] == {
        "name": "legacy",
        "revision": "v9.9.9",
        "kind": "deployment",
        "commit": None,
    }
    assert data["version"] == 2
    deployed = _cells(data, "deployments")
    assert {n: c["status"] for n, c in deployed.items()} == {
        "production/eu-west/api": "cured",
        "production/us-east/api": "affected",
        "staging/api": "cured",
        "legacy": "unknown-revision",
    }
    assert deployed["legacy"]["revision"] == "v9.9.9" and deployed["legacy"]["commit"] is None


def test_scope_text_names_the_evidence_and_the_cherry_pick_line(history: History) -> None:
    r = history.repo.poison("scope", history.id[:5], "--branches", "lts/*")
    assert r.rc == 1, r.err
    lines = {
        ln.split()[1]: ln
        for ln in r.out.splitlines()[1:]
        if ln.startswith("  ")
        and len(ln.split()) > 1
        and ln.split()[0] in ("affected", "cured", "clean")
    }
    assert set(lines) == {"lts/0.9", "lts/1.0", "lts/2.0", "lts/3.0"}
    assert "by cherry-pick trailer" in lines["lts/1.0"]
    assert "by patch-id" in lines["lts/2.0"]
    assert "never poisoned" in lines["lts/0.9"]
    assert f"git cherry-pick -x {history.cure}" in r.out
    assert "applies cleanly" in r.out
    assert "master" not in lines


def test_backports_lists_only_the_branch_still_missing_the_cure(history: History) -> None:
    r = history.repo.poison("backports", "--branches", "lts/*", "--json")
    assert r.rc == 1, r.err
    data = json.loads(r.out)
    missing = {b["ref"]: [m["id"] for m in b["missing"]] for b in data["branches"]}
    assert missing == {
        "refs/heads/lts/0.9": [],
        "refs/heads/lts/1.0": [],
        "refs/heads/lts/2.0": [],
        "refs/heads/lts/3.0": [history.id],
    }
    text = history.repo.poison("backports", "--branches", "lts/*")
    assert "lts/3.0: 1 missing backport" in text.out
    assert f"git cherry-pick -x {history.cure}" in text.out
    # Carry it over as told, and the checklist empties.
    history.repo.checkout("lts/3.0")
    history.repo.git("cherry-pick", "-x", history.cure)
    done = history.repo.poison("backports", "--branches", "lts/*")
    assert done.rc == 0, done.out + done.err
    assert "missing backport" not in done.out


def test_scope_html_is_one_self_contained_page_with_the_same_matrix(
    history: History, tmp_path: Path
) -> None:
    out = tmp_path / "scope.html"
    r = history.repo.poison(
        "scope",
        "--tags",
        "--deployments",
        str(history.inventory(tmp_path)),
        "--format",
        "html",
        "-o",
        str(out),
    )
    assert r.rc == 1, r.err
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page and " src=" not in page
    # Deployments and release lines have columns; the five tags fold into one.
    assert page.count('class="affected"') == 2  # lts/3.0, us-east
    assert page.count('class="folded affected"') == 1  # "2 of 5 affected": v1.0.0, v3.0.0
    assert "2 of 5 affected" in page
    assert page.count('class="cured"') == 5
    assert page.count('class="unknown-revision"') == 1
    assert f"git cherry-pick -x {history.cure}" in page
    assert "by cherry-pick trailer" in page and "by patch-id" in page


def test_conflicting_backport_is_flagged_as_not_applying_cleanly(history: History) -> None:
    repo = history.repo
    repo.checkout("lts/3.0")
    repo.commit(
        "lts 3 rewrote the line", {"lib.c": LIB.replace("line 5\n", "line 5 BUG rewritten\n")}
    )
    repo.checkout("master")
    before = repo.git("count-objects", "-v")
    r = repo.poison("scope", "--branches", "lts/3.0", "--json")
    cell = _cells(json.loads(r.out))["refs/heads/lts/3.0"]
    assert cell["status"] == "affected"
    assert cell["missing_cures"][0]["applies_cleanly"] is False
    assert repo.git("status", "--porcelain") == ""
    assert repo.git("count-objects", "-v") == before  # the probe wrote nothing here


def test_scope_of_a_withdrawn_or_unknown_record_is_a_one_line_error(history: History) -> None:
    r = history.repo.poison("scope", "nosuchrecord")
    assert r.rc == 2 and "no record" in r.err and "Traceback" not in r.err
    history.repo.poison("withdraw", history.id, "-m", "not a bug")
    r = history.repo.poison("scope", history.id)
    assert r.rc == 2 and "withdrawn" in r.err


def test_scope_with_a_broken_inventory_says_why(history: History, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("prod: [unclosed\n")
    r = history.repo.poison("scope", "--deployments", str(bad))
    assert r.rc == 2 and "not valid YAML" in r.err and len(r.err.strip().splitlines()) == 1
    r = history.repo.poison("scope", "--deployments", str(tmp_path / "missing.yaml"))
    assert r.rc == 2 and "cannot read deployments file" in r.err


def test_shallow_clone_scope_is_undecided_not_clean(history: History, tmp_path: Path) -> None:
    clone = Repo.clone(
        f"file://{history.repo.path}", tmp_path / "shallow", "--depth", "1", "--no-single-branch"
    )
    # The poison commit itself is here, but not the history linking it to the tips.
    clone.git("fetch", "-q", "--depth", "1", "origin", history.poison)
    clone.add_poison(history.poison, "bug")
    r = clone.poison("scope", "--json")
    statuses = {c["ref"]: c["status"] for rec in json.loads(r.out)["records"] for c in rec["refs"]}
    assert r.rc == 1, statuses
    assert statuses["refs/remotes/origin/lts/3.0"] == "affected"  # its tip is the poison
    # lts/0.9 never had the bug, but nothing here shows it: doubt, never "clean".
    assert statuses["refs/remotes/origin/lts/0.9"] == "undecided"
    assert "clean" not in statuses.values()


def test_same_subject_on_an_affected_branch_is_a_hint_never_a_cure(history: History) -> None:
    repo = history.repo
    repo.checkout("lts/3.0")
    # The fix redone by hand under the same subject, but a different change: no evidence.
    guess = repo.commit(
        "Fix parser  overflow (#4242)", {"lib.c": LIB.replace("line 5\n", "line 5 guarded\n")}
    )
    repo.checkout("master")
    r = repo.poison("scope", history.id, "--branches", "lts/3.0", "--json")
    assert r.rc == 1, r.err
    cell = _cells(json.loads(r.out))["refs/heads/lts/3.0"]
    assert cell["status"] == "affected"
    assert cell["probable_cures"] == [
        {
            "commit": guess,
            "same_subject_as": history.cure,
            "confirm": f"git poison cure {history.id} {guess}",
        }
    ]
    text = repo.poison("scope", history.id, "--branches", "lts/3.0").out
    assert f"probable cure {guess[:12]} (same subject as {history.cure[:12]}), confirm?" in text
    # Confirmed by hand, it becomes a recorded cure and the branch is cured.
    repo.add_cure(history.id, guess)
    after = json.loads(repo.poison("scope", history.id, "--branches", "lts/3.0", "--json").out)
    assert _cells(after)["refs/heads/lts/3.0"]["status"] == "cured"


def test_whole_matrix_agrees_with_check_on_every_ref_for_every_record(history: History) -> None:
    repo = history.repo
    # More records with their own shapes: one never cured, one cured only on lts/1.0 by
    # a pick, one whose poison is only on lts/2.0.
    repo.checkout("master")
    unfixed = repo.add_poison(repo.commit("slow start", {"start.c": "sleep(1)\n"}), "slow")
    leak = repo.commit("leak", {"mem.c": "malloc\n"})
    leak_id = repo.add_poison(leak, "leak")
    repo.checkout("lts/1.0")
    repo.git("cherry-pick", "-x", leak)
    picked_fix = repo.commit("free it", {"mem.c": "malloc\nfree\n"})
    repo.add_cure(leak_id, picked_fix)
    repo.checkout("lts/2.0")
    only_lts2 = repo.add_poison(repo.commit("lts2 only bug", {"lts2bug.c": "x\n"}), "lts2")
    repo.checkout("master")
    r = repo.poison("scope", "--tags", "--json")
    assert r.rc == 1, r.err
    data = json.loads(r.out)
    ids = {rec["id"] for rec in data["records"]}
    assert ids == {history.id, unfixed, leak_id, only_lts2}
    scoped = {(rec["id"], c["ref"]): c["status"] for rec in data["records"] for c in rec["refs"]}
    assert len(scoped) == 4 * len(data["targets"])
    word = {"poisoned": "affected", "cured": "cured", "undecided": "undecided"}
    for target in data["targets"]:
        ref = target["ref"]
        check = json.loads(repo.poison("check", ref, "--json").out)
        judged = {
            f["id"]: word[key] for key in ("poisoned", "cured", "undecided") for f in check[key]
        }
        for rid in ids:
            assert scoped[(rid, ref)] == judged.get(rid, "clean"), (rid, ref)
    assert scoped[(only_lts2, "refs/heads/lts/2.0")] == "affected"
    assert scoped[(leak_id, "refs/heads/lts/1.0")] == "cured"
    assert scoped[(leak_id, "refs/heads/master")] == "affected"


def test_whole_matrix_into_a_file_counts_records_on_a_terminal(
    history: History, tmp_path: Path
) -> None:
    from tests.test_equivalence import _on_terminal

    out = tmp_path / "scope.json"
    rc, err = _on_terminal(
        history.repo, "git", "poison", "scope", "--tags", "--json", "-o", str(out)
    )
    assert rc == 1, err
    assert "records x 10 targets: 100% (1/1)" in err
    assert json.loads(out.read_text())["records"][0]["id"] == history.id
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []  # renamed into place
    # Piped, as a script reads it: no progress at all.
    r = history.repo.poison("scope", "--tags", "--json", "-o", str(out))
    assert r.rc == 1 and "records x" not in r.err


def test_streamed_json_equals_the_report_held_in_memory(history: History, tmp_path: Path) -> None:
    from poison_tools.check import open_checker
    from poison_tools.deployments import deployment_targets
    from poison_tools.git import SourceRepo
    from poison_tools.reach.engine import reachability
    from poison_tools.records.store import PoisonStore
    from poison_tools.scope import Scope, json_chunks, ref_targets

    repo = history.repo
    repo.checkout("lts/3.0")
    repo.commit("Fix parser overflow", {"lib.c": LIB.replace("line 5\n", "line 5 guarded\n")})
    repo.checkout("master")
    src = SourceRepo.discover(str(repo.path))
    snapshot = PoisonStore(src, fetch=False).load()
    targets = ref_targets(reachability(src), tags=True) + deployment_targets(
        src, str(history.inventory(tmp_path))
    )

    def scope() -> Scope:
        checker = open_checker(src, snapshot)
        return Scope(src, checker, hints=checker.equivalence.probable)

    held = scope().run(snapshot.active, targets).to_json()
    streamed = json.loads("".join(json_chunks(scope().stream(snapshot.active, targets))))
    assert streamed == held
    cells = [c for rec in held["records"] for c in rec["refs"] + rec["deployments"]]
    # Every kind of cell went through it: shared evidence, missing cures, hints, unknown.
    assert {c["status"] for c in cells} == {"affected", "cured", "clean", "unknown-revision"}
    assert any(c.get("probable_cures") for c in cells) and any(
        c.get("missing_cures") for c in cells
    )
