"""A call that must end in time: a test that would hang (a reader blocked on a FIFO, a
pipe deadlock) fails instead of stopping the suite."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def within(seconds: float, call: Callable[[], T]) -> T:
    """`call()`, which must return (or raise) within `seconds`."""
    outcome: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as e:  # handed to the test thread
            error.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still blocked after {seconds} s: a hang or a deadlock"
    if error:
        raise error[0]
    return outcome[0]
