"""What `check` may and may not conclude when history is incomplete."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import Repo


def _upstream_with_deep_bug(tmp_path: Path) -> tuple[Repo, str, str]:
    up = Repo(tmp_path / "upstream")
    up.commit("root")
    bug = up.commit("old bug")
    for i in range(5):
        up.commit(f"later {i}")
    fix = up.commit("fix")
    up.git("reset", "-q", "--hard", "HEAD~1")  # master lacks the fix
    up.branch("fixed", fix)
    return up, bug, fix


def _shallow_clone(up: Repo, path: Path, depth: int) -> Repo:
    clone = Repo.clone(f"file://{up.path}", path, "--depth", str(depth), "--no-single-branch")
    clone.git("config", "poison.project", "svc")
    return clone


def _share_records(src: Repo, dst: Repo) -> None:
    store = src.path / ".git" / "poison"
    dst.git("config", "poison.remote", str(store))


def test_poison_beyond_shallow_boundary_is_undecided_until_unshallowed(tmp_path: Path) -> None:
    up, bug, _ = _upstream_with_deep_bug(tmp_path)
    up.git("config", "poison.project", "svc")
    rid = up.add_poison(bug)
    assert up.poison("check").rc == 1
    clone = _shallow_clone(up, tmp_path / "ci", depth=2)
    _share_records(up, clone)
    r = clone.poison("check")
    assert r.rc == 2, r.out
    assert "could not decide" in r.out and bug[:12] in r.out and "--unshallow" in r.out
    data = json.loads(clone.poison("check", "--json").out)
    assert data["verdict"] == "undecided" and data["undecided"][0]["id"] == rid
    clone.git("fetch", "-q", "--unshallow")
    assert clone.poison("check").rc == 1


def test_poison_inside_shallow_history_is_decided(tmp_path: Path) -> None:
    up, _, _ = _upstream_with_deep_bug(tmp_path)
    up.git("config", "poison.project", "svc")
    recent_bug = up.commit("recent bug")
    up.add_poison(recent_bug)
    clone = _shallow_clone(up, tmp_path / "ci", depth=2)
    _share_records(up, clone)
    assert clone.poison("check").rc == 1


def test_cure_inside_shallow_history_decides_even_if_poison_is_beyond(tmp_path: Path) -> None:
    up, bug, fix = _upstream_with_deep_bug(tmp_path)
    up.git("config", "poison.project", "svc")
    rid = up.add_poison(bug)
    up.add_cure(rid, fix)
    clone = _shallow_clone(up, tmp_path / "ci", depth=1)
    _share_records(up, clone)
    clone.checkout("fixed")
    assert clone.poison("check").rc == 0


def test_poison_a_complete_clone_lacks_is_a_problem_not_a_silent_healthy(
    repo: Repo, tmp_path: Path
) -> None:
    # A poison gone from a complete clone (a rebased-away or never-fetched commit) could
    # have a copy here that nothing can find without it: undecided, and said, never healthy.
    other = Repo(tmp_path / "other")
    foreign = other.commit("a commit of another repository")
    other.git("config", "poison.project", "svc")
    repo.git("config", "poison.project", "svc")
    repo.git("fetch", "-q", str(other.path), "master:refs/heads/foreign")
    rid = repo.add_poison("foreign")
    repo.git("branch", "-q", "-D", "foreign")
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    assert repo.git("cat-file", "-t", foreign, check=False) == ""
    r = repo.poison("check", "--json")
    assert r.rc == 2, r.out
    data = json.loads(r.out)
    assert data["verdict"] == "undecided" and data["not_in_history"] == [rid]
    [problem] = data["problems"]
    assert f"poison {foreign} is not in this repository" in problem["error"]
    text = repo.poison("check")
    assert text.rc == 2 and f"git fetch origin {foreign}" in text.out, text.out
    # Withdrawn, it is no one's concern any more.
    assert repo.poison("withdraw", rid, "-m", "belongs to another project").rc == 0
    assert repo.poison("check").rc == 0


def test_unknown_poison_in_partial_clone_is_undecided(tmp_path: Path) -> None:
    up = Repo(tmp_path / "upstream")
    up.git("config", "uploadpack.allowFilter", "true")
    up.commit("root")
    side = up.commit("only on a branch nobody cloned")
    up.git("reset", "-q", "--hard", "HEAD~1")
    up.git("config", "poison.project", "svc")
    up.add_poison(side)
    up.git("branch", "-q", "hidden", side)
    clone = Repo.clone(
        f"file://{up.path}", tmp_path / "partial", "--filter=blob:none", "--single-branch"
    )
    clone.git("config", "poison.project", "svc")
    _share_records(up, clone)
    r = clone.poison("check")
    assert r.rc == 2, r.out


def _edit_record(repo: Repo, rid: str, **fields: object) -> str:
    """Change fields of record `rid` by hand, as someone with push access to the poisons
    repository could: a commit on its branch that no `git poison` command checked.
    Returns the record's path."""
    store = repo.path / ".git" / "poison"
    branch = repo.git("config", "poison.project")
    work = Repo(repo.path.parent / f"edit-{rid}")
    work.git("fetch", "-q", str(store), f"refs/heads/{branch}:refs/heads/x")
    work.checkout("x")
    path = f"records/{rid}.json"
    data = json.loads((work.path / path).read_text())
    data.update(fields)
    (work.path / path).write_text(json.dumps(data))
    work.git("commit", "-qam", "edited by hand")
    work.git("push", "-q", str(store), f"x:refs/heads/{branch}")
    return path


def _objects_of_every_kind(repo: Repo) -> dict[str, str]:
    """A blob, a tree and an annotated tag object of `repo`."""
    repo.git("tag", "-a", "-m", "a release", "v1")
    return {
        "blob": repo.git("rev-parse", "HEAD:file1.txt"),
        "tree": repo.git("rev-parse", "HEAD^{tree}"),
        "tag": repo.git("rev-parse", "refs/tags/v1"),
    }


def test_record_whose_poison_names_a_blob_tree_or_tag_is_a_problem_not_absent(repo: Repo) -> None:
    repo.git("config", "poison.project", "svc")
    kinds = _objects_of_every_kind(repo)
    for kind, oid in kinds.items():
        rid = repo.add_poison(repo.commit(f"a bug to record ({kind})"))
        path = _edit_record(repo, rid, poisons=[oid])
        r = repo.poison("check", "--json")
        assert r.rc == 2, (kind, r.out)
        data = json.loads(r.out)
        assert data["verdict"] == "undecided" and rid not in data["not_in_history"], kind
        [problem] = [p for p in data["problems"] if rid in p["error"]]
        assert problem["path"] == path and f"poison {oid}" in problem["error"]
        assert f"a {kind}" in problem["error"] and "not a commit" in problem["error"]
        text = repo.poison("check")
        assert text.rc == 2 and path in text.out and rid in text.out and "healthy" not in text.out
        repo.poison("withdraw", rid, "-m", "done with this kind")


def test_cure_naming_a_tag_object_is_a_problem_and_cures_nothing(repo: Repo) -> None:
    repo.git("config", "poison.project", "svc")
    bug = repo.commit("bug")
    rid = repo.add_poison(bug)
    tag = _objects_of_every_kind(repo)["tag"]  # the tag of a commit after the bug
    path = _edit_record(repo, rid, cures=[tag])
    r = repo.poison("check", "--json")
    assert r.rc == 1, r.out  # the poison is here and nothing cures it: poisoned outranks doubt
    data = json.loads(r.out)
    assert [f["id"] for f in data["poisoned"]] == [rid]
    assert any(
        p["path"] == path and f"cure {tag}" in p["error"] and "a tag" in p["error"]
        for p in data["problems"]
    )


def test_cure_lost_from_a_complete_clone_is_named_not_silently_missing(repo: Repo) -> None:
    repo.git("config", "poison.project", "svc")
    bug = repo.commit("bug")
    repo.branch("fix")
    repo.checkout("fix")
    fix = repo.commit("the fix, never merged")
    repo.checkout("master")
    rid = repo.add_poison(bug)
    repo.add_cure(rid, fix)
    repo.git("branch", "-q", "-D", "fix")
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    assert repo.git("cat-file", "-t", fix, check=False) == ""
    r = repo.poison("check", "--json")
    assert r.rc == 1, r.out
    [finding] = json.loads(r.out)["poisoned"]
    assert finding["cures_elsewhere"] == [
        {"commit": fix, "refs": [], "in_clone": False, "cherry_pick": f"git cherry-pick -x {fix}"}
    ]
    text = repo.poison("check").out
    assert f"cure {fix[:12]} is not in this repository" in text


def test_hand_written_cure_older_than_its_poison_cures_nothing_and_says_why(repo: Repo) -> None:
    repo.git("config", "poison.project", "svc")
    old = repo.rev("HEAD")
    bug = repo.commit("bug")
    repo.commit("later work")
    rid = repo.add_poison(bug)
    _edit_record(repo, rid, cures=[old])  # `git poison cure` refuses this; a hand edit does not
    r = repo.poison("check", "--json")
    assert r.rc == 1, r.out
    [finding] = json.loads(r.out)["poisoned"]
    assert finding["id"] == rid and finding["cure_evidence"] == []
    assert finding["ignored_cures"] == [
        {"commit": old, "reason": "ancestor-of-poison", "poison": bug}
    ]
    assert finding["cures_elsewhere"] == []  # it is here: not "missing here"
    text = repo.poison("check").out
    assert f"cure {old[:12]} is an ancestor of poison {bug[:12]}: it cures nothing" in text
    scope = json.loads(repo.poison("scope", rid, "--branches", "master", "--json").out)
    assert scope["records"][0]["refs"][0]["status"] == "affected"
    # The answer is kept between runs (poison-cache/pairs-v1.json); a broken copy of it
    # is ignored, never believed.
    kept = repo.path / ".git" / "poison-cache" / "pairs-v1.json"
    assert kept.exists()
    kept.write_text("{not json")
    assert repo.poison("check").rc == 1
