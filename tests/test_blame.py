from __future__ import annotations

from pathlib import Path

import pytest

from poison_tools.blame import (
    MAX_LINES,
    UNCOMMITTED,
    BlameUnavailable,
    TextBlame,
    annotate,
    blame_text,
    could_hold_lines_of,
    line_commit,
)
from poison_tools.check import check_head
from poison_tools.git import SourceRepo
from poison_tools.records.store import PoisonStore
from tests.gitrepo import TEN_LINES, Repo, bare, git, with_lines


def annotations(repo: Repo, path: str, text: str | bytes):
    src = SourceRepo.discover(str(repo.path))
    report = check_head(src, PoisonStore(src).load())
    data = text.encode() if isinstance(text, str) else text
    return annotate(src, path, data, report)


@pytest.fixture
def poisoned(tmp_path: Path) -> tuple[Repo, str, str]:
    """master: base file, then a poison rewriting lines 3-5, then an unrelated edit."""
    r = Repo(tmp_path / "svc")
    r.commit("base", {"app.py": TEN_LINES})
    poison = r.commit("poison", {"app.py": with_lines({3: "bad 3", 4: "bad 4", 5: "bad 5"})})
    r.commit("later", {"app.py": with_lines({3: "bad 3", 4: "bad 4", 5: "bad 5", 8: "fine 8"})})
    record = r.add_poison(poison, "hangs on io error", "--bug", "JIRA-1")
    return r, poison, record


def test_lines_written_by_the_poison_commit_form_one_run(poisoned):
    r, poison, record = poisoned
    ann = annotations(r, "app.py", (r.path / "app.py").read_text())
    assert [(run.start, run.end, run.commit, run.record_id) for run in ann.runs] == [
        (3, 5, poison, record)
    ]
    assert ann.blamed


def test_unsaved_edit_of_a_poisoned_line_splits_the_run(poisoned):
    r, _poison, _record = poisoned
    text = with_lines({3: "bad 3", 4: "edited in the editor", 5: "bad 5", 8: "fine 8"})
    ann = annotations(r, "app.py", text)
    assert [(run.start, run.end) for run in ann.runs] == [(3, 3), (5, 5)]


def test_inserted_lines_above_shift_the_run(poisoned):
    r, _poison, _record = poisoned
    text = "new first\nnew second\n" + (r.path / "app.py").read_text()
    ann = annotations(r, "app.py", text)
    assert [(run.start, run.end) for run in ann.runs] == [(5, 7)]


def test_cure_on_head_removes_every_annotation_without_blaming(poisoned):
    r, _poison, record = poisoned
    cure = r.commit("fix", {"app.py": with_lines({3: "good 3", 8: "fine 8"})})
    r.add_cure(record, cure)
    ann = annotations(r, "app.py", (r.path / "app.py").read_text())
    assert ann.runs == [] and not ann.blamed
    assert ann.report.verdict == "healthy"


def test_lts_branch_without_the_cure_is_annotated_and_knows_where_the_cure_is(poisoned):
    r, poison, record = poisoned
    r.branch("lts", poison)
    cure = r.commit(
        "fix on master",
        {"app.py": with_lines({3: "good 3", 4: "good 4", 5: "good 5", 8: "fine 8"})},
    )
    r.add_cure(record, cure)
    r.checkout("lts")
    ann = annotations(r, "app.py", (r.path / "app.py").read_text())
    assert [(run.start, run.end) for run in ann.runs] == [(3, 5)]
    finding = ann.runs[0].finding
    assert [(c.cure, c.refs) for c in finding.cures_elsewhere] == [(cure, ("refs/heads/master",))]


def test_lines_older_than_the_poison_are_not_blamed_on_it(tmp_path: Path):
    """The walk stops at the poison's parent: older lines become boundary lines and
    must not be confused with the poison."""
    r = Repo(tmp_path / "svc")
    r.commit("root", {"app.py": TEN_LINES})
    r.commit("older", {"app.py": with_lines({0: "older 0"})})
    poison = r.commit("poison", {"app.py": with_lines({0: "older 0", 9: "bad 9"})})
    r.add_poison(poison)
    ann = annotations(r, "app.py", (r.path / "app.py").read_text())
    assert [(run.start, run.end) for run in ann.runs] == [(9, 9)]


def test_lines_of_a_poisoned_root_commit_are_found(tmp_path: Path):
    r = Repo(tmp_path / "svc")
    root = r.commit("root", {"app.py": TEN_LINES})
    r.commit("later", {"app.py": with_lines({0: "later 0"})})
    record = r.add_poison(root)
    ann = annotations(r, "app.py", (r.path / "app.py").read_text())
    assert [(run.start, run.end, run.record_id) for run in ann.runs] == [(1, 9, record)]


def test_two_poisons_one_descending_from_the_other_are_both_found(tmp_path: Path):
    r = Repo(tmp_path / "svc")
    r.commit("root", {"app.py": TEN_LINES})
    first = r.commit("first poison", {"app.py": with_lines({1: "bad 1"})})
    second = r.commit("second poison", {"app.py": with_lines({1: "bad 1", 7: "bad 7"})})
    a = r.add_poison(first, "first bug")
    b = r.add_poison(second, "second bug")
    ann = annotations(r, "app.py", (r.path / "app.py").read_text())
    assert [(run.start, run.record_id) for run in ann.runs] == [(1, a), (7, b)]


def test_annotations_agree_with_plain_git_blame(tmp_path: Path):
    """Every line the full `git blame` gives to the poison is annotated, and no other."""
    r = Repo(tmp_path / "svc")
    r.commit("root", {"app.py": TEN_LINES})
    text = TEN_LINES
    poison = None
    for n, idx in enumerate([2, 5, 2, 7, 0, 5, 9]):
        text = with_lines({idx: f"edit {n}"}, text)
        sha = r.commit(f"edit {n}", {"app.py": text})
        if n == 3:
            poison = sha
    assert poison is not None
    r.add_poison(poison)
    porcelain = r.git("blame", "--line-porcelain", "app.py").splitlines()
    expected = {
        i
        for i, sha in enumerate(
            ln.split()[0]
            for ln in porcelain
            if ln[:40].isalnum() and len(ln.split()) >= 3 and len(ln.split()[0]) == 40
        )
        if sha == poison
    }
    ann = annotations(r, "app.py", text)
    assert {i for run in ann.runs for i in range(run.start, run.end + 1)} == expected == {7}


def test_untracked_file_has_no_blame(poisoned):
    r, *_ = poisoned
    src = SourceRepo.discover(str(r.path))
    with pytest.raises(BlameUnavailable, match="not in HEAD"):
        blame_text(src, "new.py", b"x\n")


def test_binary_text_is_not_blamed(poisoned):
    r, *_ = poisoned
    with pytest.raises(BlameUnavailable, match="binary"):
        annotations(r, "app.py", b"\0\1\2")


def test_uncommitted_lines_blame_as_zero(poisoned):
    r, *_ = poisoned
    src = SourceRepo.discover(str(r.path))
    runs = blame_text(src, "app.py", (TEN_LINES + "appended\n").encode())
    assert runs[-1].commit == UNCOMMITTED and runs[-1].start == 10


def test_line_commit_names_the_poison_and_refuses_uncommitted_lines(poisoned):
    r, poison, _ = poisoned
    src = SourceRepo.discover(str(r.path))
    text = (r.path / "app.py").read_text() + "appended\n"
    assert line_commit(src, "app.py", text.encode(), 4) == poison
    assert line_commit(src, "app.py", text.encode(), 10) is None
    with pytest.raises(BlameUnavailable, match="outside"):
        line_commit(src, "app.py", text.encode(), 11)


def test_following_an_edit_agrees_with_blaming_the_edited_text(poisoned):
    """`TextBlame.edited` (no git) must give what `git blame --contents` gives."""
    r, poison, _ = poisoned
    src = SourceRepo.discover(str(r.path))
    committed = (r.path / "app.py").read_bytes()
    first = TextBlame.of(committed, blame_text(src, "app.py", committed))
    edits = [
        committed.replace(b"bad 4\n", b"typed over\n"),
        b"inserted at the top\n" + committed,
        committed.replace(b"line 1\n", b"").replace(b"bad 5\n", b"bad 5\nnew below\n"),
        committed + b"appended\n",
        b"",
    ]
    for text in edits:
        followed = first.edited(text)
        exact = TextBlame.of(text, blame_text(src, "app.py", text))
        assert followed.commits == exact.commits, text


def test_file_without_any_line_the_poison_added_is_not_blamed(poisoned):
    r, poison, _ = poisoned
    src = SourceRepo.discover(str(r.path))
    assert could_hold_lines_of(src, [poison], b"line 0\nunrelated\n") == []
    assert could_hold_lines_of(src, [poison], b"line 0\nbad 4\n") == [poison]
    r.commit("another file", {"other.py": "print('hello')\n"})
    ann = annotations(r, "other.py", "print('hello')\n")
    assert ann.runs == [] and not ann.blamed


def test_edit_is_followed_without_git_when_a_previous_blame_is_given(poisoned):
    r, poison, record = poisoned
    src = SourceRepo.discover(str(r.path))
    report = check_head(src, PoisonStore(src).load())
    text = (r.path / "app.py").read_bytes()
    first = annotate(src, "app.py", text, report)
    assert first.blame is not None
    edited = annotate(
        src,
        "app.py",
        b"new top line\n" + text.replace(b"bad 4\n", b"mine\n"),
        report,
        previous=first.blame,
    )
    assert [(run.start, run.end) for run in edited.runs] == [(4, 4), (6, 6)]


def test_huge_text_is_not_blamed(poisoned):
    r, *_ = poisoned
    with pytest.raises(BlameUnavailable, match="larger than"):
        annotations(r, "app.py", "x\n" * (MAX_LINES + 1))


def test_poison_cherry_picked_onto_lts_is_found_in_the_copy(tmp_path: Path):
    """The record names master's poison; lts holds a -x copy of it. The checker's
    copy rules make the copy stand for the poison, and blame finds the copy's lines."""
    r = Repo(tmp_path / "svc")
    r.commit("base", {"app.py": TEN_LINES})
    r.branch("lts")
    poison = r.commit("poison", {"app.py": with_lines({2: "bad 2", 3: "bad 3"})})
    record = r.add_poison(poison)
    r.checkout("lts")
    r.commit("lts only", {"other.py": "x\n"})
    r.git("cherry-pick", "-x", poison)
    copy = r.rev("HEAD")
    ann = annotations(r, "app.py", (r.path / "app.py").read_text())
    [run] = ann.runs
    assert (run.start, run.end, run.commit, run.record_id) == (2, 3, copy, record)
    assert run.evidence.recorded == poison and run.evidence.via != "ancestry"


def test_poison_whose_cure_lies_beyond_a_shallow_boundary_is_marked_undecided(tmp_path: Path):
    # origin: base - filler - poison (lines 3-5) - later = lts; master goes on to the cure.
    # A clone of lts three commits deep holds the poison but cannot see whether the cure
    # is in its history: the lines are marked all the same, as undecided, never clean.
    origin = Repo(tmp_path / "origin")
    origin.git("config", "poison.project", "svc")  # the clone names it the same way
    origin.commit("base", {"app.py": TEN_LINES})
    origin.commit("filler", {"other.txt": "x\n"})
    poison = origin.commit("poison", {"app.py": with_lines({3: "bad 3", 4: "bad 4", 5: "bad 5"})})
    origin.commit("later", {"other.txt": "y\n"})
    origin.branch("lts")
    cure = origin.commit("cure", {"app.py": TEN_LINES})
    record = origin.add_poison(poison, "hangs on io error")
    origin.add_cure(record, cure)
    shared = bare(tmp_path / "poisons.git")
    assert origin.poison("init", "--remote", str(shared)).rc == 0
    clone = tmp_path / "clone"
    git(
        tmp_path,
        "clone",
        "-q",
        "--depth",
        "3",
        "--branch",
        "lts",
        "--single-branch",
        f"file://{origin.path}",
        str(clone),
    )
    git(clone, "config", "poison.remote", str(shared))
    git(clone, "config", "poison.project", "svc")
    src = SourceRepo.discover(str(clone))
    report = check_head(src, PoisonStore(src).load())
    assert [f.status for f in report.findings] == ["undecided"]
    ann = annotate(src, "app.py", (clone / "app.py").read_bytes(), report)
    assert [(run.start, run.end, run.commit, run.record_id, run.decided) for run in ann.runs] == [
        (3, 5, poison, record, False)
    ]
    from git_poison_lsp.lsp_utils import code_actions, diagnostic

    lines = (clone / "app.py").read_text().splitlines(keepends=True)
    diag = diagnostic(ann.runs[0], lines)
    assert "cannot tell whether it is cured" in diag.message and "--unshallow" in diag.message
    assert diag.data["undecided"] is True
    assert code_actions("file:///app.py", ann.runs, [diag]) == []  # nothing known to pick
