"""The errors a user can act on.

Every error that reaches the user is a `FatalError` with a one-line message that says
what to do next; the CLI turns it into that line on stderr and an exit code.
"""

from __future__ import annotations

# Exit codes, documented in the README; automation relies on them.
EXIT_OK = 0
EXIT_POISONED = 1
EXIT_ERROR = 2  # could not decide, bad input, usage error


class FatalError(RuntimeError):
    """An error with a message meant for the user."""

    exit_code = EXIT_ERROR


class RemoteUnreachable(FatalError):
    """The poisons remote could not be reached in time."""
