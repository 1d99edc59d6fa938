"""The editor before the copies are known (issue 12): what ancestry says at once, marked
provisional, then the refined warnings when the first copy scan ends; the scan's
work-done progress carries its total. The real server process, real repositories; the
scan is made to wait by holding its build lock from the test, as a second git-poison
process scanning the same repository would."""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from poison_tools.copies.patchid import CACHE_DIR, CACHE_FILE
from tests.gitrepo import TEN_LINES, Repo, with_lines
from tests.test_lsp import Lts, client, diagnostics, open_doc, until  # noqa: F401  (client: fixture)

pytestmark = pytest.mark.asyncio(loop_scope="function")

BAD = {3: "bad 3", 4: "bad 4", 5: "bad 5"}
LEAK = {8: "leak 8"}
GUARD = {1: "guard 1"}


class PickedCure:
    """master: base, poison (lines 3-5), unfixed poison (line 8), cure (line 1); lts
    branched before the cure, and the cure cherry-picked onto it without -x (only the
    patch-id says it is a copy). lts is checked out. The poison on lines 3-5 is cured on
    lts by the copy; the one on line 8 has no cure at all."""

    def __init__(self, root: Path) -> None:
        self.repo = r = Repo(root / "svc")
        r.commit("base", {"app.py": TEN_LINES})
        self.poison = r.commit("poison: lines 3-5", {"app.py": with_lines(BAD)})
        self.unfixed = r.commit("leak on line 8", {"app.py": with_lines({**BAD, **LEAK})})
        r.branch("lts")
        # The fix guards the call on line 1: the poison's lines stay, and are cured.
        self.cure = r.commit("cure: guard line 1", {"app.py": with_lines({**BAD, **LEAK, **GUARD})})
        self.record = r.add_poison(self.poison, "hangs on io error")
        r.add_cure(self.record, self.cure)
        self.leak = r.add_poison(self.unfixed, "leaks a handle")
        r.checkout("lts")
        # lts moves on first: picked onto the cure's own parent within the same second,
        # the copy would be the very same commit (same tree, parent, message and dates),
        # and ancestry alone would find the cure.
        r.commit("lts: release notes", {"NOTES": "2.1\n"})
        r.git("cherry-pick", self.cure)
        self.pick = r.rev("HEAD")
        assert self.pick != self.cure  # a copy, found only by its patch-id
        self.app = r.path / "app.py"
        self.lock_path = r.path / ".git" / CACHE_DIR / (CACHE_FILE + ".lock")


class HeldLock:
    """The copy scan's build lock, held by this process: the server's scan waits for it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _by_record(diags: list[types.Diagnostic]) -> dict[Any, types.Diagnostic]:
    return {d.code: d for d in diags}


async def test_cure_cherry_picked_onto_lts_is_provisional_at_once_and_dropped_when_the_scan_ends(
    client: LanguageClient,  # noqa: F811
    tmp_path: Path,
):
    h = PickedCure(tmp_path)
    lock = HeldLock(h.lock_path)
    try:
        uri = open_doc(client, h.app)
        # While the scan waits for the lock: what ancestry says, at once.
        first = _by_record(await diagnostics(client, uri, 2, timeout=20, settled=False))
        pending, leak = first[h.record], first[h.leak]
        assert pending.data["provisional"] is True and pending.data["undecided"] is True
        assert (pending.range.start.line, pending.range.end.line) == (3, 5)
        assert "checking for cherry-picked cures" in pending.message
        assert f"no recorded cure ({h.cure[:12]}) is in this branch's history" in pending.message
        assert "not cured on this branch" not in pending.message  # not claimed as fact
        # A poison with no cure recorded is uncured whatever the copies: said so at once.
        assert leak.data["provisional"] is False and leak.data["undecided"] is False
        assert "no cure recorded yet" in leak.message and "checking" not in leak.message
        status = await until(lambda: client.statuses)  # type: ignore[attr-defined]
        assert status[-1].copies == "pending"
        # Requests during the scan answer from what is known, without waiting for it.
        hover = await client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(4, 0))
        )
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "Provisional" in hover.contents.value and h.record in hover.contents.value
        assert h.lock_path.exists() and lock.fd >= 0  # the scan is still held up
    finally:
        lock.release()
    # The scan ends: the copy on lts cures lines 3-5; the unfixed poison stays.
    [refined] = await diagnostics(client, uri, 1, timeout=60)
    assert refined.code == h.leak and (refined.range.start.line, refined.range.end.line) == (8, 8)
    assert refined.data["provisional"] is False
    status = await until(
        lambda: [
            s
            for s in client.statuses  # type: ignore[attr-defined]
            if s.copies == "known"
        ]
    )
    assert (status[-1].uncured, status[-1].undecided) == (1, 0)


async def test_first_copy_scan_shows_its_total_as_work_done_progress(
    client: LanguageClient,  # noqa: F811
    tmp_path: Path,
):
    lts = Lts(tmp_path)
    commits = int(lts.repo.git("rev-list", "--count", "--all").strip())
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 1)

    def reports() -> list[str]:
        return [
            r.message or ""
            for rs in client.progress_reports.values()
            for r in rs
            if isinstance(r, types.WorkDoneProgressReport)
        ]

    messages = await until(lambda: [m for m in reports() if m.startswith("reading changed files")])
    # The terminal's words: the label, the share done and the total.
    totals = {
        int(m.group(2))
        for m in (re.match(r"reading changed files: \d+% \((\d+)/(\d+)\)", t) for t in messages)
        if m
    }
    assert totals == {commits}, messages


async def test_pick_whose_changes_git_cannot_read_leaves_the_poisoned_lines_undecided_as_the_cli_does(
    client: LanguageClient,  # noqa: F811
    tmp_path: Path,
):
    repo = Repo(tmp_path / "svc")
    repo.commit("base", {"app.py": TEN_LINES, "guard.py": "g = 0\n" + TEN_LINES})
    poison = repo.commit("poison: lines 3-5", {"app.py": with_lines(BAD)})
    repo.branch("lts")
    cure = repo.commit(
        "cure: guard", {"app.py": with_lines({**BAD, **GUARD}), "guard.py": "g = 1\n" + TEN_LINES}
    )
    record = repo.add_poison(poison, "hangs on io error")
    repo.add_cure(record, cure)
    repo.checkout("lts")
    repo.commit("lts: its own guard setting", {"guard.py": "g = 0\n" + TEN_LINES + "lts = True\n"})
    repo.git("cherry-pick", cure)
    # The pick's guard.py is lost (a damaged clone): its patch-id cannot be computed, so
    # whether it is a copy of the cure cannot be told. Blame of app.py does not need it.
    blob = repo.git("rev-parse", "HEAD:guard.py").strip()
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    cli = repo.poison("check", "--json")
    assert cli.rc == 2 and '"verdict": "undecided"' in cli.out, cli.err

    uri = open_doc(client, repo.path / "app.py")
    [diag] = await diagnostics(client, uri, 1)
    assert (diag.range.start.line, diag.range.end.line) == (3, 5)
    assert diag.data["undecided"] is True and diag.data["provisional"] is False
    assert "cannot tell whether it is cured on this branch" in diag.message
    assert "git cannot read the changes of" in diag.message and "not cured" not in diag.message
    status = await until(
        lambda: [
            s
            for s in client.statuses  # type: ignore[attr-defined]
            if s.copies == "known"
        ]
    )
    assert (status[-1].uncured, status[-1].undecided) == (0, 1)
