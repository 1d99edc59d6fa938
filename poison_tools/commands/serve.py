from __future__ import annotations

import os

import click

from poison_tools.cli import App, pass_app


@click.command(
    epilog="""\b
Examples:
  git poison serve                          # http://127.0.0.1:8765/
  git poison serve --port 0                 # any free port (printed)
  curl -s http://127.0.0.1:8765/api/v1/summary
  git poison serve --deployments deploy.yaml --branches 'lts/*' --branches master

\b
Endpoints (GET, read-only; no write endpoint exists):
  /                 the scope page, reloading itself when records change
  /api/v1/scope     scope --json, with "environments" (docs/scope.md)
  /api/v1/summary   scope --summary --json
  /api/v1/records   list --json (without where_uncured)
  /api/v1/version   {"key": ...}: changes whenever an answer would

\b
Exit codes: 0 stopped (Ctrl-C, SIGTERM), 2 cannot listen or error."""
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback makes the records readable "
    "by whoever reaches it.",
)
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="0: any free port.",
)
@click.option(
    "--branches",
    "patterns",
    multiple=True,
    metavar="PATTERN",
    help="Branches to show (repeatable); default: release branches and main line.",
)
@click.option("--no-tags", is_flag=True, help="Leave tags out (they also give upgrade advice).")
@click.option(
    "--deployments",
    "inventory",
    metavar="FILE",
    help="Inventory; default: poison.deployments or the poisons repository's.",
)
@click.option(
    "--fetch-interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds between fetches of the poisons remote.",
)
@click.option(
    "--allow-host",
    "allowed",
    multiple=True,
    metavar="NAME",
    help="Also answer requests for this Host name (behind a proxy).",
)
@click.option("--max-connections", default=8, show_default=True, type=click.IntRange(1, 256))
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds an idle or slow client may hold a connection.",
)
@pass_app
def serve(
    app: App,
    host: str,
    port: int,
    patterns: tuple[str, ...],
    no_tags: bool,
    inventory: str | None,
    fetch_interval: float,
    allowed: tuple[str, ...],
    max_connections: int,
    timeout: float,
) -> int:
    """Serve the risk view: read-only HTTP JSON API and the live scope page."""
    import signal

    from poison_tools.serve import Options, make_server

    cwd = app.repo.toplevel or app.repo.git_dir  # found once: fails here, not per request
    if inventory:
        inventory = os.path.abspath(inventory)
    options = Options(patterns, not no_tags, inventory, fetch_interval, allowed)
    server = make_server(cwd, host, port, options, max_connections=max_connections, timeout=timeout)
    raw_host, bound_port = server.server_address[:2]
    bound = raw_host.decode() if isinstance(raw_host, bytes) else str(raw_host)
    shown = f"[{bound}]" if ":" in bound else bound
    # stdout, flushed: a supervisor (or a test) reads the address from the first line.
    click.echo(f"serving http://{shown}:{bound_port}/ (read-only; Ctrl-C stops)")

    def stop(*_: object) -> None:
        raise KeyboardInterrupt  # a supervisor's SIGTERM stops it like Ctrl-C: exit 0

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
