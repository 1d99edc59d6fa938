"""`git poison import --fixes`: Linux-style Fixes: trailers become records."""

from __future__ import annotations

import json

from tests.gitrepo import Repo


def _records(repo: Repo) -> list[dict]:  # type: ignore[type-arg]
    r = repo.poison("list", "--json")
    assert r.rc == 0, r.err
    return json.loads(r.out)["records"]  # type: ignore[no-any-return]


def _kernel_style(repo: Repo) -> tuple[str, str, str]:
    bad = repo.commit("net: add fast path")
    repo.commit("unrelated")
    fix = repo.commit(
        f'net: fix fast path overflow\n\nFixes: {bad[:12]} ("net: add fast path")\n'
        'Fixes: 0123456789ab ("a commit from another tree")\nSigned-off-by: x <x@y>'
    )
    repo.branch("stable", bad)
    repo.checkout("stable")
    backport = repo.commit(
        f"net: fix fast path overflow\n\ncommit {fix} upstream.\n\n"
        f'Fixes: {bad[:12]} ("net: add fast path")'
    )
    repo.checkout("master")
    return bad, fix, backport


def test_fixes_trailers_become_poison_and_cure_and_unresolved_are_counted(repo: Repo) -> None:
    bad, fix, _ = _kernel_style(repo)
    r = repo.poison("import", "--fixes")
    assert r.rc == 0, r.err
    assert "1 new records" in r.out
    assert "skipped 1 Fixes: trailers whose SHA does not resolve" in r.err
    (rec,) = _records(repo)
    assert rec["poisons"] == [bad] and rec["cures"] == [fix]
    assert rec["comment"].startswith("net: fix fast path overflow")


def test_importing_fixes_twice_adds_nothing(repo: Repo) -> None:
    _kernel_style(repo)
    assert repo.poison("import", "--fixes").rc == 0
    tip = repo.git("--git-dir", ".git/poison", "rev-parse", "--all")
    again = repo.poison("import", "--fixes")
    assert again.rc == 0 and "0 new records" in again.out
    assert repo.git("--git-dir", ".git/poison", "rev-parse", "--all") == tip  # no new commit


def test_backport_with_the_same_fixes_line_is_added_as_a_second_cure(repo: Repo) -> None:
    bad, fix, backport = _kernel_style(repo)
    assert repo.poison("import", "--fixes").rc == 0
    r = repo.poison("import", "--fixes", "stable")
    assert r.rc == 0 and "added cures to 1 existing" in r.out, r.out
    (rec,) = _records(repo)
    assert rec["poisons"] == [bad] and rec["cures"] == [fix, backport]
    assert repo.poison("check", "stable").rc == 0


def test_existing_record_for_the_same_poison_is_extended_not_duplicated(repo: Repo) -> None:
    bad, fix, _ = _kernel_style(repo)
    rid = repo.add_poison(bad, "fast path overflows", "--bug", "BZ-1")
    assert repo.poison("import", "--fixes", "--dry-run").out.startswith(
        "would import 0 new records"
    )
    assert _records(repo)[0]["cures"] == []  # dry run wrote nothing
    assert repo.poison("import", "--fixes").rc == 0
    (rec,) = _records(repo)
    assert (rec["id"], rec["bug"], rec["cures"]) == (rid, "BZ-1", [fix])


def test_withdrawn_poison_is_not_imported_again(repo: Repo) -> None:
    bad, _, _ = _kernel_style(repo)
    rid = repo.add_poison(bad)
    assert repo.poison("withdraw", rid, "-m", "not a bug").rc == 0
    r = repo.poison("import", "--fixes")
    assert r.rc == 0 and "withdrawn" in r.out
    assert [x["id"] for x in _records(repo)] == []


def test_bad_range_is_a_one_line_error(repo: Repo) -> None:
    r = repo.poison("import", "--fixes", "nosuch..master")
    assert r.rc == 2 and "cannot read history" in r.err and "Traceback" not in r.err
    r = repo.poison("import", "--fixes", "--upload-pack=evil")
    assert r.rc == 2
    r = repo.poison("import")
    assert r.rc == 2 and "--fixes" in r.err
