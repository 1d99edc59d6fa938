"""Cherry-picked, backported and re-uploaded copies of poisons and cures, in real
histories, judged through the real `git poison check`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import Repo


def _check(repo: Repo, rev: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = repo.poison("check", rev, "--json")
    assert r.rc in (0, 1, 2), r.err
    return r.rc, json.loads(r.out)


def _vias(report: dict, key: str) -> set[str]:  # type: ignore[type-arg]
    found = [f for section in ("poisoned", "cured", "undecided") for f in report[section]]
    return {e["via"] for f in found for e in f[key]}


def _base(repo: Repo) -> None:
    repo.commit("lib", {"lib.c": "".join(f"line {i}\n" for i in range(30))})


def _bug(repo: Repo) -> str:
    text = (repo.path / "lib.c").read_text().replace("line 5\n", "line 5 BUG\n")
    return repo.commit("introduce the bug", {"lib.c": text})


def _fix(repo: Repo) -> str:
    text = (repo.path / "lib.c").read_text().replace("line 5 BUG\n", "line 5 fixed\n")
    return repo.commit("fix the bug", {"lib.c": text})


def _cured_on_master_now_on_lts(repo: Repo, branch: str = "lts") -> tuple[str, str]:
    """master: the bug, then its fix, both recorded; `branch` forks between them and is
    checked out. Returns (poison, cure)."""
    _base(repo)
    poison = _bug(repo)
    repo.branch(branch)
    cure = _fix(repo)
    rid = repo.add_poison(poison)
    repo.add_cure(rid, cure)
    repo.checkout(branch)
    return poison, cure


def test_poison_cherry_picked_with_x_onto_lts_poisons_it(repo: Repo) -> None:
    _base(repo)
    repo.branch("lts")
    poison = _bug(repo)
    rid = repo.add_poison(poison)
    repo.checkout("lts")
    repo.git("cherry-pick", "-x", poison)
    rc, report = _check(repo, "lts")
    assert rc == 1
    assert report["poisoned"][0]["id"] == rid
    assert _vias(report, "poison_evidence") == {"cherry-pick trailer"}


def test_cure_cherry_picked_onto_lts_counts(repo: Repo) -> None:
    _base(repo)
    poison = _bug(repo)
    repo.branch("lts")
    repo.commit("more work on master")
    cure = _fix(repo)
    rid = repo.add_poison(poison)
    repo.add_cure(rid, cure)
    assert _check(repo, "lts")[0] == 1
    repo.checkout("lts")
    repo.git("cherry-pick", "-x", cure)
    rc, report = _check(repo, "lts")
    assert rc == 0
    assert report["cured"][0]["cure_evidence"][0]["via"] == "cherry-pick trailer"
    assert report["cured"][0]["cure_evidence"][0]["recorded"] == cure


def test_cure_picked_without_x_is_found_by_patch_id(repo: Repo) -> None:
    poison, cure = _cured_on_master_now_on_lts(repo)
    repo.commit("unrelated lts work")
    repo.git("cherry-pick", cure)
    rc, report = _check(repo, "lts")
    assert rc == 0
    assert _vias(report, "cure_evidence") == {"patch-id"}


def test_hand_resolved_backport_with_upstream_line_cures_lts(repo: Repo) -> None:
    poison, cure = _cured_on_master_now_on_lts(repo)
    # The LTS code around the bug has moved on: the pick conflicts, and the fix is
    # redone by hand, so neither the diff nor the patch-id matches.
    text = (repo.path / "lib.c").read_text().replace("line 4\n", "line 4 (lts)\n")
    repo.commit("lts-only change next to the bug", {"lib.c": text})
    conflict = repo.git("cherry-pick", cure, check=False)
    assert "conflict" in conflict.lower() or (repo.path / "lib.c").read_text().count("<<<<<<<")
    repo.git("cherry-pick", "--abort")
    text = (
        (repo.path / "lib.c")
        .read_text()
        .replace("line 4 (lts)\nline 5 BUG\n", "line 4 (lts)\nline 5 ok\n")
    )
    (repo.path / "lib.c").write_text(text)
    repo.git("commit", "-qam", f"fix the bug\n\ncommit {cure} upstream.\n")
    rc, report = _check(repo, "lts")
    assert rc == 0
    assert _vias(report, "cure_evidence") == {"backport line"}


def test_hand_backport_without_any_reference_leaves_lts_affected(repo: Repo) -> None:
    poison, cure = _cured_on_master_now_on_lts(repo)
    text = (repo.path / "lib.c").read_text().replace("line 5 BUG\n", "line 5 patched differently\n")
    repo.commit("fix the bug", {"lib.c": text})  # same subject, different change: no evidence
    rc, report = _check(repo, "lts")
    assert rc == 1
    assert (
        report["poisoned"][0]["cures_elsewhere"][0]["cherry_pick"] == f"git cherry-pick -x {cure}"
    )


def test_pick_of_a_pick_cures_the_oldest_branch(repo: Repo) -> None:
    _base(repo)
    poison = _bug(repo)
    repo.branch("lts-1")
    repo.branch("lts-2")
    cure = _fix(repo)
    rid = repo.add_poison(poison)
    repo.add_cure(rid, cure)
    repo.checkout("lts-2")
    repo.commit("lts-2 work", {"other.c": "x\n"})
    repo.git("cherry-pick", "-x", cure)
    on_lts2 = repo.rev("HEAD")
    repo.checkout("lts-1")
    repo.commit("lts-1 work", {"old.c": "y\n"})
    repo.git("cherry-pick", "-x", on_lts2)
    # Both lines name a source; make the patch differ so only the trailers link them.
    text = (repo.path / "lib.c").read_text().replace("line 29\n", "line 29 lts-1\n")
    (repo.path / "lib.c").write_text(text)
    repo.git("commit", "-q", "--amend", "-a", "--no-edit")
    rc, report = _check(repo, "lts-1")
    assert rc == 0
    assert report["cured"][0]["cure_evidence"][0]["via"] == "cherry-pick trailer"


def test_gerrit_change_id_links_a_reworked_cure(repo: Repo) -> None:
    _base(repo)
    poison = _bug(repo)
    repo.branch("stable")
    change = "I" + "c0ffee" * 6 + "abcd"
    text = (repo.path / "lib.c").read_text().replace("line 5 BUG\n", "line 5 fixed\n")
    cure = repo.commit(f"fix the bug\n\nChange-Id: {change}")
    (repo.path / "lib.c").write_text(text)
    repo.git("commit", "-q", "--amend", "-a", "--no-edit")
    cure = repo.rev("HEAD")
    rid = repo.add_poison(poison)
    repo.add_cure(rid, cure)
    repo.checkout("stable")
    text = (repo.path / "lib.c").read_text().replace("line 5 BUG\n", "line 5 fixed on stable\n")
    (repo.path / "lib.c").write_text(text)
    repo.git("commit", "-qam", f"fix the bug (stable)\n\nChange-Id: {change}")
    rc, report = _check(repo, "stable")
    assert rc == 0
    assert _vias(report, "cure_evidence") == {"change-id"}


def test_old_commit_with_the_cures_patch_id_does_not_cure(repo: Repo) -> None:
    repo.commit("base", {"f.txt": "a\n"})
    old = repo.commit("add x", {"f.txt": "a\nx\n"})
    poison = repo.commit("drop x (the bug)", {"f.txt": "a\n"})
    repo.branch("lts")
    cure = repo.commit("add x again", {"f.txt": "a\nx\n"})  # the very same diff as `old`
    rid = repo.add_poison(poison)
    repo.add_cure(rid, cure)
    rc, report = _check(repo, "lts")
    assert rc == 1, report
    assert old not in {e["commit"] for f in report["poisoned"] for e in f["cure_evidence"]}


def test_release_branch_merged_back_into_master_stays_cured(repo: Repo) -> None:
    _poison, cure = _cured_on_master_now_on_lts(repo, "release")
    repo.git("cherry-pick", "-x", cure)
    repo.git("tag", "v1.1")
    repo.checkout("master")
    repo.git("merge", "-q", "--no-edit", "-s", "ours", "release")
    assert _check(repo, "master")[0] == 0
    assert _check(repo, "v1.1")[0] == 0
    assert _check(repo, "release~1")[0] == 1


def test_revert_of_the_poison_on_another_branch_is_not_a_copy_of_it(repo: Repo) -> None:
    _base(repo)
    poison = _bug(repo)
    repo.branch("other")
    repo.git("revert", "--no-edit", poison)
    rid = repo.add_poison(poison)
    repo.checkout("other")
    repo.git("cherry-pick", "master")  # carries "This reverts commit <poison>."
    # The revert is not a copy of the poison, so it must not show up as one anywhere.
    rc, report = _check(repo, "other")
    assert rc == 1
    assert report["poisoned"][0]["id"] == rid
    assert _vias(report, "poison_evidence") == {"ancestry"}


def test_equivalence_none_falls_back_to_plain_ancestry(repo: Repo) -> None:
    poison, cure = _cured_on_master_now_on_lts(repo)
    repo.git("cherry-pick", "-x", cure)
    assert _check(repo, "lts")[0] == 0
    repo.git("config", "poison.equivalence", "none")
    assert _check(repo, "lts")[0] == 1
    repo.git("config", "poison.equivalence", "bogus")
    r = repo.poison("check", "lts")
    assert r.rc == 2 and "poison.equivalence" in r.err and "Traceback" not in r.err


def test_check_without_records_touches_no_cache(repo: Repo) -> None:
    r = repo.poison("check")
    assert r.rc == 0, r.err
    assert not (Path(repo.path) / ".git" / "poison-cache").exists()


def test_picks_of_a_private_fix_on_no_ref_cure_every_branch(repo: Repo) -> None:
    """redis CVE-2023-45145: the fix was made off-tree and picked with -x onto each
    release branch; master got a pick of one of those picks. Only the off-tree
    commit's patch-id ties the release branches to the cure recorded on master."""
    _base(repo)
    poison = _bug(repo)
    repo.branch("7.0")
    repo.branch("7.2")
    repo.branch("private")
    repo.checkout("private")
    private = _fix(repo)
    repo.checkout("master")
    repo.git("branch", "-D", "private")  # the object stays, on no ref
    repo.checkout("7.2")
    repo.commit("7.2 work", {"7.2.txt": "x\n"})
    repo.git("cherry-pick", private)  # no -x: only the patch-id says where it came from
    repo.checkout("7.0")
    repo.commit("7.0 work", {"7.0.txt": "x\n"})
    repo.git("cherry-pick", "-x", private)
    # Other context on 7.0: a different patch-id, and a trailer naming the off-tree fix.
    text = (repo.path / "lib.c").read_text().replace("line 6\n", "line 6 (7.0)\n")
    (repo.path / "lib.c").write_text(text)
    repo.git("commit", "-q", "--amend", "-a", "--no-edit")
    on_72 = repo.rev("7.2")
    repo.checkout("master")
    repo.git("cherry-pick", "-x", on_72)
    cure = repo.rev("HEAD")
    rid = repo.add_poison(poison)
    repo.add_cure(rid, cure)
    for branch in ("7.0", "7.2", "master"):
        rc, report = _check(repo, branch)
        assert rc == 0, (branch, report)


def test_trailers_mode_skips_patch_ids_and_full_mode_gets_them_back(repo: Repo) -> None:
    poison, cure = _cured_on_master_now_on_lts(repo)
    # A commit of lts's own first: picked onto the cure's own parent within the same
    # second, the pick would be the very same commit as the cure.
    repo.commit("lts work")
    repo.git("cherry-pick", cure)  # no -x: only the patch-id links it
    repo.git("config", "poison.equivalence", "trailers")
    assert _check(repo, "lts")[0] == 1
    repo.git("config", "--unset", "poison.equivalence")
    rc, report = _check(repo, "lts")
    assert rc == 0 and _vias(report, "cure_evidence") == {"patch-id"}


def _on_terminal(repo: Repo, *args: str, stdin: str = "") -> tuple[int, str]:
    """Run `args` with stderr on a pseudo-terminal, as a user at a terminal does."""
    import os
    import pty
    import subprocess

    from tests.gitrepo import BIN

    main, child = pty.openpty()
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        args, cwd=repo.path, stdout=subprocess.PIPE, stderr=child, input=stdin.encode(), env=full
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child's end is closed and everything was read
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    return proc.returncode, b"".join(chunks).decode(errors="replace")


def test_first_copy_scan_shows_progress_on_a_terminal_in_check_and_the_hook(repo: Repo) -> None:
    import shutil

    _base(repo)
    rid = repo.add_poison(_bug(repo))
    cache = repo.path / ".git" / "poison-cache"
    assert not cache.exists()  # `add` scans nothing: the first scan is check's
    rc, err = _on_terminal(repo, "git", "poison", "check")
    assert rc == 1 and "reading changed files" in err, err
    shutil.rmtree(cache)
    # The pre-push hook, as git runs it: remote and URL as arguments, the refs on stdin.
    head = repo.rev("HEAD")
    rc, err = _on_terminal(
        repo,
        "git-poison-hook",
        "origin",
        "file:///elsewhere",
        "--no-fetch",
        stdin=f"refs/heads/master {head} refs/heads/master {'0' * 40}\n",
    )
    assert rc == 0 and "reading changed files" in err, err  # master is not protected
    assert rid[:6] in err  # and the poison it carries is named
    # Not a terminal: nothing but the verdict on stderr.
    shutil.rmtree(cache)
    r = repo.poison("check")
    assert r.rc == 1 and "reading changed files" not in r.err and "\r" not in r.err


def _split_fix_picked_tests_only(repo: Repo) -> tuple[str, str, str, str]:
    """master: lib.c gets the bug, then its fix (lib.c only); lts forks between them and
    gets a commit that adds only a test yet says it was cherry-picked from the fix (the
    code half of a split fix was never picked). Returns (record id, poison, cure, pick)."""
    _base(repo)
    repo.commit("tests", {"test_lib.c": "test 0\n"})
    poison = _bug(repo)
    repo.branch("lts")
    cure = _fix(repo)
    rid = repo.add_poison(poison)
    repo.add_cure(rid, cure)
    repo.checkout("lts")
    repo.commit(
        f"fix the bug (tests)\n\n(cherry picked from commit {cure})",
        {"test_lib.c": "test 0\ntest 1\n"},
    )
    return rid, poison, cure, repo.rev("HEAD")


def test_tests_only_pick_naming_the_cure_is_a_probable_cure_not_a_cure(repo: Repo) -> None:
    rid, _poison, cure, pick = _split_fix_picked_tests_only(repo)
    rc, report = _check(repo, "lts")
    assert rc == 1, report
    [finding] = report["poisoned"]
    assert finding["cure_evidence"] == []
    assert finding["probable_cures"] == [
        {
            "commit": pick,
            "recorded": cure,
            "via": "cherry-pick trailer",
            "confirm": f"git poison cure {rid} {pick}",
        }
    ]
    text = repo.poison("check", "lts").out
    assert f"probable cure {pick[:12]}" in text and "confirm?" in text
    # scope, the same judgement per ref, says the same and gives the same hint.
    scope = json.loads(repo.poison("scope", rid, "--branches", "lts", "--json").out)
    [cell] = scope["records"][0]["refs"]
    assert cell["status"] == "affected"
    assert {
        "commit": pick,
        "recorded": cure,
        "via": "cherry-pick trailer",
        "confirm": f"git poison cure {rid} {pick}",
    } in cell["probable_cures"]
    # Confirmed by hand, it is a recorded cure like any other.
    repo.add_cure(rid, pick)
    assert _check(repo, "lts")[0] == 0


def test_trailer_linked_copy_of_a_poison_sharing_no_file_still_poisons(repo: Repo) -> None:
    _base(repo)
    repo.branch("lts")
    poison = _bug(repo)
    rid = repo.add_poison(poison)
    repo.checkout("lts")
    # Fail closed: a copy that says it comes from the poison is believed, whatever it changes.
    repo.commit(f"port the parser\n\n(cherry picked from commit {poison})", {"parser.c": "x\n"})
    rc, report = _check(repo, "lts")
    assert rc == 1 and report["poisoned"][0]["id"] == rid
    assert _vias(report, "poison_evidence") == {"cherry-pick trailer"}


def test_picks_of_a_lost_fix_that_share_no_file_do_not_cure_each_other(repo: Repo) -> None:
    """Both branches carry a commit naming the same fix, which is not in this clone:
    the full pick on master is the recorded cure, the tests-only one on lts is not."""
    _base(repo)
    repo.commit("tests", {"test_lib.c": "test 0\n"})
    poison = _bug(repo)
    repo.branch("lts")
    lost = "f" * 40  # named by both trailers, never fetched
    text = (repo.path / "lib.c").read_text().replace("line 5 BUG\n", "line 5 fixed\n")
    cure = repo.commit(f"fix the bug\n\n(cherry picked from commit {lost})", {"lib.c": text})
    rid = repo.add_poison(poison)
    repo.add_cure(rid, cure)
    repo.checkout("lts")
    pick = repo.commit(
        f"fix the bug (tests)\n\n(cherry picked from commit {lost})",
        {"test_lib.c": "test 0\ntest 1\n"},
    )
    rc, report = _check(repo, "lts")
    assert rc == 1, report
    assert [p["commit"] for p in report["poisoned"][0]["probable_cures"]] == [pick]
