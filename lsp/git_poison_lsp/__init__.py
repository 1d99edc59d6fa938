"""git-poison language server: poison annotations and one-click cures in any editor.

The server only converts: every verdict comes from `poison_tools` (blame of the
editor's text judged by the same `Checker` as `git poison check`).
"""

from __future__ import annotations

from poison_tools import __version__

__all__ = ["__version__"]
