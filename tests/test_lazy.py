"""lazy: a module named with OnFirstUse is imported at the first attribute asked of it,
not when the module naming it is imported."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from poison_tools.lazy import OnFirstUse


@pytest.fixture
def heavy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module that counts its imports (in an environment variable of this process)."""
    (tmp_path / "heavy_for_lazy_test.py").write_text(
        "import os\n"
        "os.environ['HEAVY_IMPORTS'] = str(int(os.environ.get('HEAVY_IMPORTS', '0')) + 1)\n"
        "answer = 42\n"
        "def double(x):\n    return 2 * x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HEAVY_IMPORTS", "0")
    yield "heavy_for_lazy_test"
    sys.modules.pop("heavy_for_lazy_test", None)


def imports() -> int:
    import os

    return int(os.environ["HEAVY_IMPORTS"])


def test_nothing_is_imported_until_an_attribute_is_asked(heavy: str) -> None:
    mod = OnFirstUse(heavy)
    assert imports() == 0 and heavy not in sys.modules
    assert mod.answer == 42 and mod.double(3) == 6
    assert imports() == 1 and heavy in sys.modules


def test_a_missing_attribute_or_module_fails_at_first_use(heavy: str) -> None:
    with pytest.raises(AttributeError):
        _ = OnFirstUse(heavy).no_such_name
    missing = OnFirstUse("no_such_module_for_lazy_test")  # naming it costs nothing
    with pytest.raises(ModuleNotFoundError):
        _ = missing.anything


def test_once_computes_at_first_read_and_never_holds_another_instance_waiting() -> None:
    # functools.cached_property (before Python 3.12) locks a property for every
    # instance: a slow first computation on one object held the same property of
    # another object in another thread.
    import threading

    from poison_tools.lazy import once

    release = threading.Event()
    calls: list[str] = []

    class Slow:
        def __init__(self, name: str, wait: bool) -> None:
            self.name, self.wait = name, wait

        @once
        def value(self) -> str:
            calls.append(self.name)
            if self.wait:
                assert release.wait(10)
            return self.name

    blocked = Slow("slow", wait=True)
    thread = threading.Thread(target=lambda: blocked.value)
    thread.start()
    try:
        quick = Slow("quick", wait=False)
        done: list[str] = []
        reader = threading.Thread(target=lambda: done.append(quick.value))
        reader.start()
        reader.join(5)
        assert done == ["quick"], "the other instance waited for the slow one"
    finally:
        release.set()
        thread.join(10)
    assert blocked.value == "slow" and quick.value == "quick"
    assert sorted(calls) == ["quick", "slow"]  # computed once each
