from __future__ import annotations

import json

import pytest

from poison_tools.records.record import (
    MAX_FILE_BYTES,
    Problem,
    Record,
    merge_records,
    new_id,
    parse_record,
    record_path,
)

SHA1 = "1" * 40
SHA2 = "2" * 40
SHA3 = "3" * 40


def _good(**over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "schema": 1,
        "id": "abcd123456",
        "poisons": [SHA1],
        "cures": [],
        "comment": "x",
        "bug": None,
        "severity": None,
        "editor": "A <a@x>",
        "created": "2026-01-01T00:00:00Z",
        "updated": "2026-01-01T00:00:00Z",
        "withdrawn": None,
    }
    data.update(over)
    return data


def _parse(data: object, path: str = "records/abcd123456.json") -> Record | Problem:
    return parse_record(path, json.dumps(data).encode())


def test_record_round_trips_through_its_file() -> None:
    rec = _parse(_good(cures=[SHA2], severity="high", bug="JIRA-1"))
    assert isinstance(rec, Record)
    again = parse_record(rec.path, rec.dumps())
    assert again == rec


def test_ids_are_short_and_distinct() -> None:
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 10 for i in ids)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_good(poisons=["HEAD"]), "not a full commit SHA"),
        (_good(poisons=["--upload-pack=evil"]), "not a full commit SHA"),
        (_good(poisons=[]), "is empty"),
        (_good(poisons=SHA1), "must be a list"),
        (_good(comment=123), "must be a string"),
        (_good(comment="x" * 5000), "longer than"),
        (_good(id="../../etc"), "not a valid record id"),
        (_good(id="otherid123"), "does not match its file name"),
        (_good(schema=99), "unknown schema"),
        (_good(severity="apocalyptic"), "must be one of"),
        (_good(withdrawn="yes"), "must be an object"),
        (_good(cures=[SHA1] * 300), "more than"),
        ([1, 2, 3], "not a JSON object"),
        ({"hello": "world"}, "neither"),
    ],
)
def test_hostile_or_malformed_records_are_reported_not_believed(data: object, message: str) -> None:
    result = _parse(data)
    assert isinstance(result, Problem)
    assert message in result.message


def test_invalid_json_and_huge_files_are_problems() -> None:
    assert isinstance(parse_record("records/a.json", b"{not json"), Problem)
    assert isinstance(parse_record("records/a.json", b"\xff\xfe"), Problem)
    huge = b'{"x": "' + b"a" * MAX_FILE_BYTES + b'"}'
    problem = parse_record("records/a.json", huge)
    assert isinstance(problem, Problem) and "larger" in problem.message
    deep = b"[" * 100000 + b"]" * 100000
    assert isinstance(parse_record("records/a.json", deep), Problem)


def test_original_git_poison_records_are_read() -> None:
    legacy = {"poison": SHA1, "cure": SHA2, "comment": "old bug", "editor": "Bob <b@x>"}
    rec = parse_record("old/" + SHA1 + ".json", json.dumps(legacy).encode())
    assert isinstance(rec, Record)
    assert rec.legacy and rec.poisons == (SHA1,) and rec.cures == (SHA2,)
    assert rec.id == SHA1[:12]
    uncured = parse_record("x.json", json.dumps({**legacy, "cure": None}).encode())
    assert isinstance(uncured, Record) and uncured.cures == ()


def test_concurrent_edits_of_one_record_keep_both_cures_and_the_withdrawal() -> None:
    base = _parse(_good())
    assert isinstance(base, Record)
    ours = base.with_cures([SHA2], "A")
    from dataclasses import replace

    from poison_tools.records.record import Withdrawal

    theirs = replace(base.with_cures([SHA3], "B"), withdrawn=Withdrawal("dup", "B", "t"))
    merged = merge_records(base, ours, theirs)
    assert merged.cures == (SHA2, SHA3)
    assert merged.withdrawn is not None
    assert record_path(merged.id) == base.path


def test_two_kilobytes_of_brackets_are_a_problem_not_a_crash() -> None:
    problem = parse_record("records/a.json", b"[" * 1000 + b"]" * 1000)
    assert isinstance(problem, Problem) and problem.message == "nested too deeply"
    # A deep value inside a record is named by its kind, never by a huge repr.
    nested = _parse(_good(schema=json.loads("[" * 200 + "]" * 200)))
    assert isinstance(nested, Problem) and nested.message.startswith("unknown schema a JSON list")


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("records/k3v7x2m9d0.json", True),
        (SHA1 + ".json", True),
        ("old/dir/x.json", True),
        ("x/../e.json", False),
        ("../e.json", False),
        ("x/./e.json", False),
        ("x/.git/e.json", False),
        ("x/.GIT./e.json", False),
        ("x/git~1/e.json", False),
        ("records//e.json", False),
        ("records/bad\udcff.json", False),
    ],
)
def test_only_plain_file_names_can_hold_records(path: str, ok: bool) -> None:
    from poison_tools.records.record import path_problem

    assert (path_problem(path) is None) is ok


def test_the_writer_asks_the_reader_before_writing() -> None:
    from dataclasses import replace

    from poison_tools.records.record import write_problem

    rec = _parse(_good())
    assert isinstance(rec, Record) and write_problem(rec) is None
    assert "longer than 4096" in str(write_problem(replace(rec, comment="c" * 4097)))
    assert "longer than 256" in str(write_problem(replace(rec, editor="e" * 257)))
    assert "more than 256" in str(
        write_problem(replace(rec, cures=tuple(f"{i:040x}" for i in range(257))))
    )
    assert "field 'comment' is not valid UTF-8" in str(
        write_problem(replace(rec, comment="caf\udce9"))
    )
