"""Record text is shown, never obeyed: escape sequences, control characters and bidi
overrides in a record reach no terminal, on every path that prints records; JSON keeps
the exact text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.hostile import plant, project
from tests.test_hook import Service, lts_commit, make_service, push

# Set the window title, clear the screen, turn text red, reverse the reading order,
# a one-byte CSI, and a carriage return that would overwrite the line.
COMMENT = "\x1b]0;pwned\x07title\x1b[2J \u202eevil\x9b2J\nline two\tkept\r\x1b[31mred"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def hostile(tmp_path: Path) -> Service:
    """The service of test_hook, and a teammate's record whose every text field is hostile."""
    svc = make_service(tmp_path)
    record = {
        "schema": 1,
        "id": "evil000001",
        "poisons": [svc.poison],
        "cures": [svc.cure],
        "comment": COMMENT,
        "bug": "BUG-1\x1b[8m",
        "severity": "high",
        "editor": "Mallory \x1b[2J<m@x>",
        "created": "2026-01-01T00:00:00Z\x1b[2J",
        "updated": "2026-01-01T00:00:00Z",
        "withdrawn": None,
    }
    withdrawn = {
        **record,
        "id": "evil000002",
        "comment": "withdrawn one",
        "withdrawn": {"reason": "dup\x1b[2J\u202e", "by": "M\x1b]0;x\x07", "at": "now"},
    }
    plant(
        svc.poisons,
        project(svc.repo),
        {
            b"records/evil000001.json": json.dumps(record).encode(),
            b"records/evil000002.json": json.dumps(withdrawn).encode(),
            b"records/bad\x1b[2J.json": b"{",
        },
    )
    svc.repo.checkout("lts/2.1")
    return svc


def _shown_not_obeyed(text: str) -> None:
    assert not RAW.search(text), repr(RAW.search(text))
    assert "\\x1b]0;pwned\\x07title\\x1b[2J \\u202eevil\\x9b2J" in text


@pytest.mark.parametrize(
    ("args", "problems"),
    [
        pytest.param(["check"], True, id="check"),
        pytest.param(["check", "lts/2.1", "--since", "master~2"], True, id="release"),
        pytest.param(["list"], True, id="list"),
        pytest.param(["scope", "evil000001"], True, id="scope"),
        pytest.param(["backports", "--branches", "lts/*"], True, id="backports"),
    ],
)
def test_record_text_is_escaped_in_text_output(
    hostile: Service, args: list[str], problems: bool
) -> None:
    r = hostile.repo.poison(*args)
    assert r.rc in (0, 1, 2) and "internal error" not in r.err, r.err
    _shown_not_obeyed(r.out)
    assert not RAW.search(r.err)
    assert ("unreadable record records/bad\\x1b[2J.json" in r.out) is problems


def test_show_keeps_the_comment_lines_and_tabs_but_nothing_else(hostile: Service) -> None:
    r = hostile.repo.poison("show", "evil000001")
    assert r.rc == 0, r.err
    _shown_not_obeyed(r.out)
    # Python, like the terminal, breaks the comment at the carriage return.
    lines = r.out.splitlines()
    at = lines.index("line two\tkept")
    assert lines[at + 1] == "\\x1b[31mred"
    assert "recorded by Mallory \\x1b[2J<m@x> on 2026-01-01T00:00:00Z\\x1b[2J" in r.out
    withdrawn = hostile.repo.poison("show", "evil000002")
    assert "withdrawn by M\\x1b]0;x\\x07 on now: dup\\x1b[2J\\u202e" in withdrawn.out
    assert not RAW.search(withdrawn.out)


def test_cure_of_a_withdrawn_record_names_the_reason_escaped(hostile: Service) -> None:
    r = hostile.repo.poison("cure", "evil000002", "master")
    assert r.rc == 2 and "was withdrawn: dup\\x1b[2J\\u202e" in r.err
    assert not RAW.search(r.err)


def test_json_output_keeps_the_exact_text(hostile: Service) -> None:
    check = json.loads(hostile.repo.poison("check", "--json").out)
    [finding] = [f for f in check["poisoned"] if f["id"] == "evil000001"]
    assert finding["comment"] == COMMENT and finding["editor"] == "Mallory \x1b[2J<m@x>"
    listed = json.loads(hostile.repo.poison("list", "--all", "--json").out)
    by_id = {r["id"]: r for r in listed["records"]}
    assert by_id["evil000001"]["editor"] == "Mallory \x1b[2J<m@x>"
    assert by_id["evil000002"]["withdrawn"]["reason"] == "dup\x1b[2J\u202e"
    assert [p["path"] for p in listed["problems"]] == ["records/bad\x1b[2J.json"]
    # And the text on stdout holds no character a terminal acts on: json.dumps escapes
    # C0 itself, but not DEL, C1 (\x9b is a CSI) or bidi controls.
    for args in (
        ["list", "--all", "--json"],
        ["check", "--json"],
        ["show", "evil000001", "--json"],
        ["scope", "evil000001", "--json"],
        ["backports", "--json"],
    ):
        raw = hostile.repo.poison(*args).out
        assert not RAW.search(raw), (args, RAW.search(raw))
        assert "\\u001b]0;pwned\\u0007title\\u001b[2J \\u202eevil\\u009b2J" in raw, args
    scope = json.loads(hostile.repo.poison("scope", "evil000001", "--json").out)
    assert scope["records"][0]["comment"] == COMMENT


def test_pre_push_hook_escapes_record_text(hostile: Service) -> None:
    lts_commit(hostile)
    r = push(hostile.repo, "origin", "lts/2.1")
    assert r.rc == 0, r.err
    hook = "\n".join(ln for ln in r.err.splitlines() if "git-poison" in ln or ln.startswith(" "))
    assert "lacks the cure" in hook
    assert not RAW.search(r.err), repr(RAW.search(r.err))
    assert "\\x1b]0;pwned\\x07title" in r.err
