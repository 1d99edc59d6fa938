"""What `python3 -m pip install .` (the README's command) puts on a machine."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_scripts_and_the_man_page_git_help_opens(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            str(ROOT),
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("git_poison-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    # git turns `git poison --help` into `man git-poison`; man finds it beside the scripts.
    assert any(n.endswith("data/share/man/man1/git-poison.1") for n in names)
    for script in (
        "git-poison = poison_tools.cli:main",
        "git-poison-hook = poison_tools.hook:main",
        "git-poison-lsp = git_poison_lsp.cli:main",
    ):
        assert script in entry_points
    assert any(n.startswith("git_poison_lsp/") for n in names)
