"""The top of every face (`git poison`, the pre-push hook): one line and a documented
exit code for whatever ends a run, never a traceback (as pre-commit's `error_handler`).

- `FatalError`: its message (the user can act on it), and its exit code (2 unless it
  says otherwise);
- Ctrl-C: "interrupted", 130;
- anything else is a bug of ours: "internal error … please report it", exit 3 (never
  1, which automation reads as "poisoned"), and the traceback too with
  `GIT_POISON_DEBUG` set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from poison_tools.errors import ExitCode, FatalError


@contextmanager
def error_handler(prog: str, *, hint: str | None = None) -> Iterator[None]:
    """Turn what escapes the block into one line on stderr and `SystemExit(code)`.

    `prog` starts the line ("git poison"); `hint` is added to errors ("bypass: …").
    """
    try:
        yield
    except FatalError as e:
        _say(f"{prog}: error: {e}" + (f" ({hint})" if hint else ""))
        raise SystemExit(int(e.exit_code)) from None
    except KeyboardInterrupt:
        _say(f"{prog}: interrupted")
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    except Exception as e:  # the last line of defence
        if os.environ.get("GIT_POISON_DEBUG"):
            import traceback  # off the path of every run that ends well

            traceback.print_exc(file=sys.stderr)
        what = " ".join(str(e).split())  # one line, whatever the exception holds
        _say(
            f"{prog}: internal error: {e.__class__.__name__}: {what} (please report it; rerun "
            "with GIT_POISON_DEBUG=1 for the traceback" + (f"; {hint})" if hint else ")")
        )
        raise SystemExit(int(ExitCode.INTERNAL)) from None


def _say(line: str) -> None:
    # A stderr already gone (the terminal closed) must not turn into a traceback here.
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
