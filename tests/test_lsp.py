"""End to end: the real server process (`python -m git_poison_lsp --stdio`) driven by
pytest-lsp's client, on real repositories built in temporary folders."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.gitrepo import TEN_LINES, Repo, with_lines

pytestmark = pytest.mark.asyncio(loop_scope="function")


POISONED = with_lines({3: "bad 3", 4: "bad 4", 5: "bad 5"})
CURED = with_lines({3: "good 3", 4: "good 4", 5: "good 5"})


class Lts:
    """master: base, poison (lines 3-5), cure; lts branched at the poison and checked out."""

    def __init__(self, root: Path) -> None:
        self.repo = r = Repo(root / "svc")
        r.commit("base", {"app.py": TEN_LINES, "other.py": "x = 1\n"})
        self.poison = r.commit("poison: rewrite lines 3-5", {"app.py": POISONED})
        r.branch("lts")
        self.cure = r.commit("cure: lines 3-5", {"app.py": CURED})
        self.record = r.add_poison(
            self.poison, "hangs on io error", "--bug", "JIRA-1234", "--severity", "high"
        )
        r.add_cure(self.record, self.cure)
        r.checkout("lts")
        self.app = r.path / "app.py"
        self.uri = self.app.as_uri()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "git_poison_lsp", "--stdio"])
)
async def client(lsp_client: LanguageClient):
    lsp_client.answers = []  # type: ignore[attr-defined]  # titles to answer showMessageRequest with
    lsp_client.asked = []  # type: ignore[attr-defined]
    lsp_client.statuses = []  # type: ignore[attr-defined]

    # lsprotocol's client-side hook reads every CodeAction that carries a command as a
    # bare Command (it only asks whether "command" is present); VS Code and Neovim
    # tell them apart by the type of "command", and so does this test client.
    def command_or_action(obj: Any, _: type) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return lsp_client.protocol._converter.structure(obj, kind)

    lsp_client.protocol._converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007
        command_or_action,
    )

    @lsp_client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def ask(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        lsp_client.asked.append(params)  # type: ignore[attr-defined]
        answer = lsp_client.answers.pop(0) if lsp_client.answers else None  # type: ignore[attr-defined]
        return None if answer is None else types.MessageActionItem(title=answer)

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(params: None) -> None:
        lsp_client.lens_refreshes += 1  # type: ignore[attr-defined]

    lsp_client.lens_refreshes = 0  # type: ignore[attr-defined]

    @lsp_client.feature("gitPoison/status")
    def status(params: Any) -> None:
        lsp_client.statuses.append(params)  # type: ignore[attr-defined]

    lsp_client.init_result = await lsp_client.initialize_session(
        types.InitializeParams(  # type: ignore[attr-defined]
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
            initialization_options={"showNotifications": "always"},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {check}: last {check()!r}")


def open_doc(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(
                uri=uri,
                language_id="python",
                version=version,
                text=path.read_text() if text is None else text,
            )
        )
    )
    return uri


async def diagnostics(
    client: LanguageClient,
    uri: str,
    n: int | None = None,
    timeout: float = 30.0,
    settled: bool = True,
) -> list[types.Diagnostic]:
    """Wait for the diagnostics of `uri` (exactly `n` of them when given); `settled`:
    none of them provisional (shown while a slow first copy scan runs)."""

    def ready() -> Any:
        if uri not in client.diagnostics:
            return None
        got = list(client.diagnostics[uri])
        last[:] = got
        if settled and any((d.data or {}).get("provisional") for d in got):
            return None
        return (got or True) if n is None or len(got) == n else None

    last: list[types.Diagnostic] = []
    try:
        got = await until(ready, timeout)
    except AssertionError:
        raise AssertionError(f"{uri}: expected {n} diagnostics, last published: {last}") from None
    return [] if got is True else got


async def run(client: LanguageClient, command: str, **arg: Any) -> dict[str, Any]:
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[arg])
    )
    assert isinstance(result, dict), result
    return result


def lines_of(diags: list[types.Diagnostic]) -> list[tuple[int, int]]:
    return [(d.range.start.line, d.range.end.line) for d in diags]


async def test_poisoned_lines_on_lts_get_one_warning_with_the_record_and_its_cure(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    uri = open_doc(client, lts.app)
    [diag] = await diagnostics(client, uri, 1)
    assert lines_of([diag]) == [(3, 5)]
    assert diag.severity == types.DiagnosticSeverity.Warning
    assert diag.source == "git-poison" and diag.code == lts.record
    assert "hangs on io error [JIRA-1234]" in diag.message
    assert f"fixed on master by {lts.cure[:12]}, missing here" in diag.message
    assert diag.data == {
        "recordId": lts.record,
        "poison": lts.poison,
        "recordedPoison": lts.poison,
        "cures": [
            {
                "commit": lts.cure,
                "refs": ["refs/heads/master"],
                "cherryPick": f"git cherry-pick -x {lts.cure}",
            }
        ],
        "undecided": False,
        "provisional": False,
    }
    # The first check scanned the history for copies: shown as work-done progress.
    scans = await until(
        lambda: [
            r
            for r in client.progress_reports.values()
            if r and isinstance(r[-1], types.WorkDoneProgressEnd)
        ]
    )
    assert any(
        isinstance(r[0], types.WorkDoneProgressBegin)
        and r[0].title == "git-poison"
        and "app.py" in (r[0].message or "")
        for r in scans
    )
    status = await until(lambda: client.statuses)  # type: ignore[attr-defined]
    assert status[-1].root == lts.repo.path.resolve().as_uri()
    assert (status[-1].branch, status[-1].head) == ("lts", lts.poison)
    assert (status[-1].uncured, status[-1].undecided) == (1, 0)

    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(4, 2))
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    text = hover.contents.value
    for expected in (
        lts.record,
        "(high)",
        "JIRA-1234",
        "Test Author <author@example.com>",
        f"poison {lts.poison[:12]}",
        f"fixed on master by {lts.cure[:12]}",
        f"git cherry-pick -x {lts.cure}",
    ):
        assert expected in text
    assert (
        await client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0))
        )
        is None
    )

    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            types.Range(types.Position(4, 0), types.Position(4, 0)),
            types.CodeActionContext(diagnostics=[diag]),
        )
    )
    assert actions is not None
    [action] = actions
    assert isinstance(action, types.CodeAction)
    assert action.title == f"Cherry-pick cure {lts.cure[:12]} from master"
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.command is not None and action.command.command == "gitPoison.cherryPickCure"
    assert list(action.command.arguments or []) == [
        {"uri": uri, "recordId": lts.record, "cure": lts.cure}
    ]
    # Nothing moved: the once-a-second watch must not refresh on its own work.
    await asyncio.sleep(2.5)
    assert not [m for m in client.log_messages if "refreshing" in m.message]


async def test_quick_fix_cherry_picks_the_cure_after_confirmation_and_the_warning_goes(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 1)
    client.answers.append("Cherry-pick")  # type: ignore[attr-defined]
    result = await run(
        client, "gitPoison.cherryPickCure", uri=uri, recordId=lts.record, cure=lts.cure
    )
    assert result["ok"] is True and result["status"] == "picked", result
    [asked] = client.asked  # type: ignore[attr-defined]
    assert [a.title for a in asked.actions or []] == ["Cherry-pick", "Cancel"]
    assert lts.cure[:12] in asked.message
    assert f"(cherry picked from commit {lts.cure})" in lts.repo.git("log", "-1", "--format=%B")
    assert lts.repo.git("rev-parse", "--abbrev-ref", "HEAD") == "lts"
    assert await diagnostics(client, uri, 0) == []
    assert any("cherry-picked cure" in m.message for m in client.messages)


async def test_cancelled_confirmation_leaves_lts_untouched(client: LanguageClient, tmp_path: Path):
    lts = Lts(tmp_path)
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 1)
    client.answers.append("Cancel")  # type: ignore[attr-defined]
    result = await run(
        client, "gitPoison.cherryPickCure", uri=uri, recordId=lts.record, cure=lts.cure
    )
    assert result == {"ok": False, "status": "cancelled", "message": "cherry-pick cancelled"}
    assert lts.repo.rev("HEAD") == lts.poison


async def test_conflicting_cure_is_aborted_the_branch_is_as_before_and_the_warning_stays(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    diverged = lts.repo.commit(
        "lts edits line 4 too", {"app.py": with_lines({3: "bad 3", 4: "lts 4", 5: "bad 5"})}
    )
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 2)  # lines 3 and 5 still come from the poison
    client.answers.append("Cherry-pick")  # type: ignore[attr-defined]
    result = await run(
        client, "gitPoison.cherryPickCure", uri=uri, recordId=lts.record, cure=lts.cure
    )
    assert result["ok"] is False and result["status"] == "conflict"
    assert "aborted" in result["message"] and result["paths"] == ["app.py"]
    assert lts.repo.rev("HEAD") == diverged
    assert lts.repo.git("status", "--porcelain") == ""
    assert any(
        m.type == types.MessageType.Error and "conflicts" in m.message for m in client.messages
    )
    assert lines_of(await diagnostics(client, uri, 2)) == [(3, 3), (5, 5)]


async def test_dirty_work_tree_is_refused_with_the_reason(client: LanguageClient, tmp_path: Path):
    lts = Lts(tmp_path)
    (lts.repo.path / "other.py").write_text("x = 2  # unsaved work\n")
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 1)
    client.answers.append("Cherry-pick")  # type: ignore[attr-defined]
    result = await run(
        client, "gitPoison.cherryPickCure", uri=uri, recordId=lts.record, cure=lts.cure
    )
    assert result["status"] == "dirty" and "other.py" in result["message"]
    assert lts.repo.rev("HEAD") == lts.poison
    assert (lts.repo.path / "other.py").read_text() == "x = 2  # unsaved work\n"


async def test_unsaved_edits_are_annotated_as_typed_and_only_the_last_version_counts(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 1)
    # Several quick edits: only the text after the last one may be annotated.
    for version, text in enumerate(
        [
            "typed\n" + POISONED,
            "typed more\n" + POISONED,
            with_lines({3: "bad 3", 4: "fixed by hand", 5: "bad 5"}),
        ],
        start=2,
    ):
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    diags = await diagnostics(client, uri, 2)
    assert lines_of(diags) == [(3, 3), (5, 5)]


async def test_commit_outside_the_editor_and_new_records_refresh_the_annotations(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 1)
    # A new poison recorded from the terminal, on lines the editor shows.
    second = lts.repo.commit("second poison", {"other.py": "x = 'bad'\n"})
    other = open_doc(client, lts.repo.path / "other.py")
    await diagnostics(client, other, 0)
    record = lts.repo.add_poison(second, "second bug")
    [diag] = await diagnostics(client, other, 1)
    assert diag.code == record
    # The cure cherry-picked from a terminal: HEAD moves, the first warning goes.
    lts.repo.git("cherry-pick", "-x", lts.cure)
    assert await diagnostics(client, uri, 0) == []
    assert [m for m in client.log_messages if "refreshing" in m.message]


async def test_files_it_cannot_annotate_get_nothing_and_the_server_keeps_serving(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    outside = tmp_path / "outside.py"
    outside.write_text("print('not in a repository')\n")
    untracked = lts.repo.path / "untracked.py"
    untracked.write_text("new = True\n")
    binary = lts.repo.path / "blob.bin"
    binary.write_bytes(b"\0\1\2binary\n")
    lts.repo.git("add", "blob.bin")
    lts.repo.git("commit", "-q", "-m", "binary")
    deleted = lts.repo.path / "other.py"
    text_of_deleted = deleted.read_text()
    deleted.unlink()
    # An unreachable shared poisons remote: local records keep working.
    lts.repo.git("config", "poison.remote", str(tmp_path / "no-such-remote.git"))
    lts.repo.git("config", "poison.fetchTimeout", "2")
    uris = [
        open_doc(client, p, t)
        for p, t in (
            (outside, None),
            (untracked, None),
            (binary, "\0\1\2binary\n"),
            (deleted, text_of_deleted),
        )
    ]
    for uri in uris:
        assert await diagnostics(client, uri, 0) == []
    uri = open_doc(client, lts.app)
    assert lines_of(await diagnostics(client, uri, 1)) == [(3, 5)]
    await until(
        lambda: [m for m in client.log_messages if "poisons remote unreachable" in m.message]
    )
    result = await run(client, "gitPoison.checkBranch", uri=outside.as_uri())
    assert result["ok"] is False and "not in a git work tree" in result["message"]


async def test_repository_in_the_middle_of_a_rebase_is_still_served(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    lts.repo.commit(
        "lts edits line 4", {"app.py": with_lines({3: "bad 3", 4: "lts 4", 5: "bad 5"})}
    )
    lts.repo.git("rebase", "master", check=False)  # stops on the conflict
    assert (lts.repo.path / ".git" / "rebase-merge").exists()
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri)  # conflict markers and all: an answer, not a crash
    client.answers.append("Cherry-pick")  # type: ignore[attr-defined]
    result = await run(
        client, "gitPoison.cherryPickCure", uri=uri, recordId=lts.record, cure=lts.cure
    )
    assert result["status"] == "in-progress" and "rebase" in result["message"]
    other = open_doc(client, lts.repo.path / "other.py")
    assert await diagnostics(client, other, 0) == []


async def test_check_branch_and_list_records_answer_exactly_what_the_cli_prints(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    uri = lts.uri
    check = await run(client, "gitPoison.checkBranch", uri=uri)
    cli = lts.repo.poison("check", "--json")
    assert cli.rc == 1
    assert check["ok"] is True and check["report"] == json.loads(cli.out)
    # The verdict in check's own words, and labels the extension shows as they come.
    assert check["message"] == lts.repo.poison("check").out.splitlines()[0]
    [item] = check["findings"]
    assert item["recordId"] == lts.record and item["label"] == lts.record
    assert f"fixed on master by {lts.cure[:12]}, missing here" in item["detail"]
    assert [(c["recordId"], c["cure"]) for c in item["cures"]] == [(lts.record, lts.cure)]
    listed = await run(client, "gitPoison.listRecords", uri=uri)
    assert listed["records"] == json.loads(lts.repo.poison("list", "--json").out)
    assert [i["recordId"] for i in listed["items"]] == [
        r["id"] for r in listed["records"]["records"]
    ]


async def test_poison_line_records_the_blamed_commit_and_refuses_uncommitted_lines(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    text = (lts.repo.path / "other.py").read_text() + "y = 2  # not committed\n"
    uri = open_doc(client, lts.repo.path / "other.py", text)
    await diagnostics(client, uri, 0)
    refused = await run(client, "gitPoison.poisonLine", uri=uri, line=1, comment="typo")
    assert refused["ok"] is False and "not committed" in refused["message"]
    made = await run(
        client,
        "gitPoison.poisonLine",
        uri=uri,
        line=0,
        comment="x must be 2",
        bug="JIRA-9",
        severity="low",
    )
    base = lts.repo.rev("master~2")
    assert made["ok"] is True and made["poison"] == base
    shown = json.loads(lts.repo.poison("show", made["id"], "--json").out)
    assert (shown["poisons"], shown["comment"], shown["bug"], shown["severity"]) == (
        [base],
        "x must be 2",
        "JIRA-9",
        "low",
    )
    assert shown["editor"] == "Test Author <author@example.com>"
    [diag] = await diagnostics(client, uri, 1)
    assert diag.code == made["id"] and lines_of([diag]) == [(0, 0)]


async def test_record_cure_from_the_editor_clears_the_warning(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 1)
    fix = lts.repo.commit("fix on lts by hand", {"app.py": CURED})
    bad = await run(client, "gitPoison.recordCure", uri=uri, recordId=lts.record, revs=[lts.poison])
    assert bad["ok"] is False and "poison itself" in bad["message"]
    good = await run(client, "gitPoison.recordCure", uri=uri, recordId=lts.record, revs=["lts"])
    assert good["ok"] is True and fix[:12] in good["message"]
    assert fix in json.loads(lts.repo.poison("show", lts.record, "--json").out)["cures"]
    assert await diagnostics(client, uri, 0) == []


async def test_record_cure_from_the_editor_says_when_the_cure_may_not_be_the_fix(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 1)
    tip = lts.repo.commit("lts: release notes", {"NEWS": "2.1.1\n"})
    made = await run(client, "gitPoison.recordCure", uri=uri, recordId=lts.record, revs=["lts"])
    assert made["ok"] is True, made
    assert f"cure {tip[:12]} may not be the fix: it is the tip of lts" in made["message"]


async def test_sync_shares_local_records_with_the_poisons_remote(
    client: LanguageClient, tmp_path: Path, remote: Path
):
    lts = Lts(tmp_path)
    local = await run(client, "gitPoison.sync", uri=lts.uri)
    assert local["ok"] is True and local["records"] == 1 and "no poisons remote" in local["message"]
    lts.repo.git("config", "poison.remote", str(remote))
    shared = await run(client, "gitPoison.sync", uri=lts.uri)
    assert shared == {"ok": True, "records": 1, "message": shared["message"]}
    assert "pushed" in shared["message"]
    assert (
        lts.record
        in subprocess.run(
            ["git", "--git-dir", str(remote), "log", "--all", "--format=%s"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )


async def test_code_lens_is_off_by_default_and_counts_poisons_when_enabled(
    client: LanguageClient, tmp_path: Path
):
    lts = Lts(tmp_path)
    uri = open_doc(client, lts.app)
    await diagnostics(client, uri, 1)
    params = types.CodeLensParams(types.TextDocumentIdentifier(uri))
    assert not await client.text_document_code_lens_async(params)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"gitPoison": {"codeLens": True}})
    )
    for _ in range(100):
        lenses = await client.text_document_code_lens_async(params)
        if lenses:
            break
        await asyncio.sleep(0.05)
    assert lenses is not None
    [lens] = lenses
    assert client.lens_refreshes >= 1  # type: ignore[attr-defined]
    assert lens.command is not None and lens.command.title == "1 uncured poison in this file"


async def test_server_advertises_every_contract_command(client: LanguageClient):
    caps = client.init_result.capabilities  # type: ignore[attr-defined]
    assert caps.execute_command_provider is not None
    assert set(caps.execute_command_provider.commands) == {
        "gitPoison.cherryPickCure",
        "gitPoison.sync",
        "gitPoison.checkBranch",
        "gitPoison.poisonLine",
        "gitPoison.recordCure",
        "gitPoison.listRecords",
    }


async def test_a_record_nested_too_deeply_to_parse_does_not_freeze_the_warnings(
    client: LanguageClient, tmp_path: Path
):
    from tests.hostile import plant, project, store_of

    lts = Lts(tmp_path)
    plant(
        store_of(lts.repo),
        project(lts.repo),
        {b"records/deep000001.json": b"[" * 1000 + b"]" * 1000},
    )
    uri = open_doc(client, lts.app)
    [diag] = await diagnostics(client, uri, 1, timeout=15)
    assert diag.code == lts.record and lines_of([diag]) == [(3, 5)]
