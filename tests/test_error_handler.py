"""error_handler: whatever ends a run is one line on stderr and a documented exit code
(README, "Exit codes"); never a traceback, unless asked for with GIT_POISON_DEBUG."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from poison_tools import cli, hook
from poison_tools.error_handler import error_handler
from poison_tools.errors import ExitCode, FatalError, RemoteUnreachable
from tests.gitrepo import BIN, Repo


def ended(exc: BaseException, capsys: pytest.CaptureFixture[str], **kwargs: str) -> tuple[int, str]:
    """(exit code, stderr) of a block that raised `exc` under error_handler."""
    with pytest.raises(SystemExit) as e:
        with error_handler("git poison", **kwargs):
            raise exc
    code = e.value.code
    assert isinstance(code, int)
    return code, capsys.readouterr().err


def test_exit_codes_are_the_readmes() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 130]
    assert FatalError("x").exit_code == ExitCode.ERROR


def test_fatal_error_is_its_message_in_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = ended(FatalError("unknown revision or not a commit: nope"), capsys)
    assert code == 2 and err == "git poison: error: unknown revision or not a commit: nope\n"


def test_fatal_error_subclass_keeps_its_exit_code_and_the_hint_is_added(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Refused(FatalError):
        exit_code = 7

    code, err = ended(Refused("no"), capsys, hint="bypass: git push --no-verify")
    assert code == 7 and err == "git poison: error: no (bypass: git push --no-verify)\n"
    code, err = ended(RemoteUnreachable("the remote did not answer"), capsys)
    assert code == 2 and err.count("\n") == 1


def test_ctrl_c_is_interrupted_and_130(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = ended(KeyboardInterrupt(), capsys)
    assert code == ExitCode.INTERRUPTED == 130 and err == "git poison: interrupted\n"


def test_a_bug_is_one_line_that_says_report_it_exit_3_no_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GIT_POISON_DEBUG", raising=False)
    code, err = ended(KeyError("two\nlines"), capsys)
    assert code == 3
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("git poison: internal error: KeyError: 'two\\nlines' (please report it;")
    assert "GIT_POISON_DEBUG=1" in err


def test_a_bug_with_debug_on_shows_the_traceback_and_still_exits_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to re-raise: Python's exit code 1, which automation reads as "poisoned"."""
    monkeypatch.setenv("GIT_POISON_DEBUG", "1")
    code, err = ended(ValueError("bad"), capsys)
    assert code == 3
    assert err.startswith("Traceback (most recent call last):")
    assert "ValueError: bad" in err and err.endswith("for the traceback)\n")


def test_a_bug_in_the_hook_says_how_to_bypass(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        with error_handler("git-poison", hint=f"bypass: {hook.BYPASS}"):
            raise RuntimeError("oops")
    err = capsys.readouterr().err
    assert e.value.code == 3
    assert err == (
        "git-poison: internal error: RuntimeError: oops (please report it; rerun with "
        f"GIT_POISON_DEBUG=1 for the traceback; bypass: {hook.BYPASS})\n"
    )


def test_success_passes_through_untouched(capsys: pytest.CaptureFixture[str]) -> None:
    with error_handler("git poison"):
        value = 1
    assert value == 1 and capsys.readouterr().err == ""


def test_cli_unknown_revision_is_one_line_exit_2(repo: Repo) -> None:
    r = repo.poison("check", "no-such-revision")
    assert r.rc == 2
    assert r.err == "git poison: error: unknown revision or not a commit: no-such-revision\n"


def test_cli_usage_error_is_exit_2_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "--no-such-option"]) == ExitCode.ERROR
    assert "No such option '--no-such-option'" in capsys.readouterr().err


def test_hook_outside_a_repository_is_one_line_with_the_bypass(tmp_path: Path) -> None:
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    proc = subprocess.run(
        [str(BIN / "git-poison-hook"), "origin", "/nowhere"],
        cwd=tmp_path,
        env=env,
        input="",
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("git-poison: error: not a git repository")
    assert proc.stderr.endswith(f"(bypass: {hook.BYPASS})\n")
