"""`git-poison-lsp [--stdio]`: argument parsing only; the server lives in server.py."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from git_poison_lsp import __version__


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="git-poison-lsp",
        description="Language server for git-poison: warns on lines that come from a "
        "poisoned commit not cured on HEAD, and cherry-picks the cure.",
        epilog="Example (what editors run):\n  git-poison-lsp --stdio\n"
        "  python -m git_poison_lsp --stdio --log-file /tmp/git-poison-lsp.log",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Editor clients add --stdio; stdio is the only transport, so it is accepted and ignored.
    parser.add_argument(
        "--stdio", action="store_true", help="Talk LSP over stdin/stdout (default)."
    )
    parser.add_argument("--version", action="version", version=f"git-poison-lsp {__version__}")
    parser.add_argument("--log-file", metavar="PATH", help="Also write the server log to PATH.")
    parser.add_argument("-v", "--verbose", action="store_true", help="Log debug messages.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if args.log_file:
        handlers.append(logging.FileHandler(args.log_file))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        handlers=handlers,
    )
    if not args.verbose:
        # pygls logs every message it sends at INFO: that is for debugging the protocol.
        logging.getLogger("pygls").setLevel(logging.WARNING)
    from git_poison_lsp.server import build_server

    build_server().start_io()
    return 0
