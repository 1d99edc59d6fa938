"""The console script as editors launch it."""

from __future__ import annotations

import subprocess
import sys

from tests.gitrepo import BIN


def test_console_script_prints_its_version_and_accepts_stdio():
    out = subprocess.run([str(BIN / "git-poison-lsp"), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("git-poison-lsp ")
    help_text = subprocess.run(
        [sys.executable, "-m", "git_poison_lsp", "--help"], capture_output=True, text=True
    ).stdout
    assert "--stdio" in help_text and "Example" in help_text
