from __future__ import annotations

from poison_tools.copies import trailers

A = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
B = "0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"


def test_cherry_pick_x_trailer_names_its_source() -> None:
    msg = f"fix the cache\n\nbody\n\n(cherry picked from commit {A})\n"
    assert trailers.copied_from(msg) == [(A, trailers.CHERRY_PICK)]


def test_kernel_stable_backport_lines_name_upstream() -> None:
    assert trailers.copied_from(f"net: fix\n\ncommit {A} upstream.\n\nbody") == [
        (A, trailers.BACKPORT)
    ]
    assert trailers.copied_from(f"net: fix\n\n[ Upstream commit {A} ]\n") == [
        (A, trailers.BACKPORT)
    ]
    assert trailers.copied_from(f"x\n\n(backported from commit {B})\n") == [(B, trailers.BACKPORT)]


def test_pick_of_a_pick_message_lists_both_sources_in_order() -> None:
    msg = f"x\n\n(cherry picked from commit {A})\n(cherry picked from commit {B})\n"
    assert [s for s, _ in trailers.copied_from(msg)] == [A, B]


def test_revert_and_subject_mentions_are_not_copies() -> None:
    msg = f'Revert "fix"\n\nThis reverts commit {A}.\nSee commit {B} for why.\n'
    assert trailers.copied_from(msg) == []


def test_change_id_only_when_unambiguous() -> None:
    cid = "I" + "a" * 40
    assert trailers.change_id(f"x\n\nChange-Id: {cid}\n") == cid
    assert trailers.change_id(f"x\n\nChange-Id: {cid}\nChange-Id: I{'b' * 40}\n") is None
    assert trailers.change_id("x\n\nChange-Id: not-an-id\n") is None


def test_fixes_trailers_with_and_without_subject() -> None:
    msg = f'y\n\nFixes: {A[:12]} ("net: break it")\nFixes: {B}\nfixes: {A[:12]}\n'
    assert trailers.fixes(msg) == [A[:12], B]


def test_git_revert_line_names_the_reverted_commit_and_is_no_copy() -> None:
    full = "a" * 40
    message = (
        f'Revert "fix io hang"\n\nThis reverts commit {full}.\n\n'
        f"This reverts commit 1234567, reversing\nchanges made to 89abcde.\n"
    )
    facts = trailers.facts(message)
    assert facts.reverts == (full, "1234567")
    assert facts.copied_from == ()
    assert trailers.reverts("Mentions: this reverts commit 1234567 in passing") == []
