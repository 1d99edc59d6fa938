"""git-poison: bugs as a property of the commit graph.

The package returns data; the CLI (`poison_tools.cli`), the pre-push hook and the
language server only render it.
"""

from __future__ import annotations

__version__ = "0.1.0"
