"""Modules imported when first used, not when the module naming them is; values
computed when first asked (`once`).

numpy costs 0.1-0.2 s to import. The commands that ask reachability questions start
importing it on the other core (`reach.warm_index_imports`) while git lists refs and
the records are read; a module-level `import numpy` on the main thread would instead
wait for that import before any of that work starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, Generic, TypeVar, overload

_T = TypeVar("_T")


class OnFirstUse:
    """Stands for the module `name`, importing it at the first attribute asked."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


class once(Generic[_T]):
    """`functools.cached_property` without its lock. Before Python 3.12 that lock is one
    per property for every instance of the class: one checker's copy scan (tens of
    seconds on a cold repository) held another checker's first question in another
    thread, and the editor's report from ancestry alone waited for the scan it exists
    to go around (issue 12). Two threads asking one object at once may both compute:
    the values are pure, and the last one stays."""

    def __init__(self, fn: Callable[[Any], _T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> once[_T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> _T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> once[_T] | _T:
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.name] = value  # later reads find it first: a plain attribute
        return value
