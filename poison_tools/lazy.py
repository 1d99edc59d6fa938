"""Modules imported when first used, not when the module naming them is.

numpy costs 0.1-0.2 s to import. The commands that ask reachability questions start
importing it on the other core (`reach.warm_index_imports`) while git lists refs and
the records are read; a module-level `import numpy` on the main thread would instead
wait for that import before any of that work starts.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class OnFirstUse:
    """Stands for the module `name`, importing it at the first attribute asked."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)
