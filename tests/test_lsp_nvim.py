"""A real editor client: headless Neovim (Debian's `neovim`, 0.7) opens a poisoned
file on an LTS branch, receives the warning, runs the cherry-pick quick fix through
its own code-action menu, confirms, and the cure lands in git with -x."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.test_lsp import Lts

INIT = Path(__file__).parent / "nvim" / "init.lua"


def test_neovim_shows_the_poison_on_lts_and_its_quick_fix_cherry_picks_the_cure(tmp_path: Path):
    # Not a skip: without the editor this test proves nothing, and scripts/test.sh installs it.
    assert shutil.which("nvim"), "neovim is not installed: run scripts/test.sh (it installs it)"
    lts = Lts(tmp_path)
    out = tmp_path / "nvim-result.json"
    env = {
        **os.environ,
        "GP_OUT": str(out),
        "GP_FILE": str(lts.app),
        "GP_ROOT": str(lts.repo.path),
        "GP_PYTHON": sys.executable,
    }
    proc = subprocess.run(
        ["nvim", "--headless", "--noplugin", "-n", "-i", "NONE", "-u", str(INIT)],
        cwd=lts.repo.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert out.exists(), f"nvim wrote nothing (rc {proc.returncode}): {proc.stderr[-2000:]}"
    seen = json.loads(out.read_text())
    assert "error" not in seen, seen
    [warning] = seen["before"]
    assert (warning["lnum"], warning["end_lnum"]) == (3, 5)
    assert warning["source"] == "git-poison" and warning["severity"] == 2  # Warning
    assert lts.record in warning["message"] and "JIRA-1234" in warning["message"]
    assert lts.record in seen["hover"] and f"fixed on master by {lts.cure[:12]}" in seen["hover"]
    assert seen["offered"] == [f"Cherry-pick cure {lts.cure[:12]} from master"]
    [asked] = seen["asked"]
    assert asked["actions"] == ["Cherry-pick", "Cancel"] and lts.cure[:12] in asked["message"]
    assert seen["after"] == []
    # The cure is on lts now, as a -x cherry-pick, and the buffer shows the fixed lines.
    log = lts.repo.git("log", "-1", "--format=%B")
    assert f"(cherry picked from commit {lts.cure})" in log
    assert lts.repo.git("rev-parse", "--abbrev-ref", "HEAD") == "lts"
    assert lts.repo.rev("HEAD~1") == lts.poison
    assert seen["buffer"][3:6] == ["good 3", "good 4", "good 5"]
    assert lts.repo.poison("check").rc == 0
