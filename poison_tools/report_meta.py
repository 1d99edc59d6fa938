"""What a `check --json` report says about itself (docs/json.md), shared by the CLI and
the language server so that the two print the same report."""

from __future__ import annotations

from typing import Any

from poison_tools import __version__

# `check --json` shape (docs/json.md); fields are only ever added to it.
SHAPE_VERSION = 1


def check_meta(project: str, record_count: int) -> dict[str, Any]:
    """For whoever reads an archived release report later: which project, how many
    records were judged, by which tool and in which shape."""
    return {
        "project": project,
        "record_count": record_count,
        "tool": "git-poison",
        "tool_version": __version__,
        "shape_version": SHAPE_VERSION,
    }
