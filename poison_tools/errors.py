"""The errors a user can act on.

Every error that reaches the user is a `FatalError` with a one-line message that says
what to do next; the CLI turns it into that line on stderr and an exit code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes, documented in the README's table; automation relies on them."""

    OK = 0  # healthy, or the command did what it was asked
    POISONED = 1  # the commit carries an uncured poison
    ERROR = 2  # could not decide, bad input, usage error, unknown revision
    INTERNAL = 3  # a bug in git-poison
    INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


# The names most modules use.
EXIT_OK = ExitCode.OK
EXIT_POISONED = ExitCode.POISONED
EXIT_ERROR = ExitCode.ERROR


class FatalError(RuntimeError):
    """An error with a message meant for the user."""

    exit_code: int = ExitCode.ERROR


class RemoteUnreachable(FatalError):
    """The poisons remote could not be reached in time."""
