"""`git poison …`: parse, dispatch, render. No poison logic lives here.

Subcommands are imported only when run (`LazyGroup`), so `git poison check` in a
pre-push hook does not pay for the import of every other command.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click

from poison_tools import __version__
from poison_tools.error_handler import error_handler
from poison_tools.errors import ExitCode, FatalError

if TYPE_CHECKING:  # imported when first used: each command needs only some of these
    from poison_tools.git import SourceRepo
    from poison_tools.progress import Progress
    from poison_tools.reach.answer import Reachability
    from poison_tools.records.record import Record
    from poison_tools.records.store import PoisonStore, Snapshot, WriteResult

# name -> "module:attribute"; the order is the order of `--help`.
COMMANDS = {
    "add": "poison_tools.commands.add:add",
    "cure": "poison_tools.commands.cure:cure",
    "check": "poison_tools.commands.check:check",
    "list": "poison_tools.commands.list_:list_records",
    "show": "poison_tools.commands.show:show",
    "withdraw": "poison_tools.commands.withdraw:withdraw",
    "restore": "poison_tools.commands.restore:restore",
    "log": "poison_tools.commands.log:log_cmd",
    "sync": "poison_tools.commands.sync:sync",
    "scope": "poison_tools.commands.scope:scope",
    "backports": "poison_tools.commands.backports:backports_cmd",
    "import": "poison_tools.commands.import_:import_cmd",
    "export": "poison_tools.commands.export:export",
    "init": "poison_tools.commands.init:init",
    "install-hook": "poison_tools.commands.install_hook:install_hook",
    "index": "poison_tools.commands.index:index_cmd",
    "serve": "poison_tools.commands.serve:serve",
}


# Commands that ask reachability questions, and so import numpy for the index
# (`reach.warm_index_imports`).
_WARM = {"check", "scope", "backports", "export", "index", "show", "serve"}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        if cmd_name in _WARM and not ctx.resilient_parsing:
            from poison_tools.reach.engine import warm_index_imports

            warm_index_imports()
        module, _, attr = target.partition(":")
        cmd = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command)
        return cmd


class App:
    """What every subcommand needs, built on first use."""

    def __init__(self, fetch: bool = True) -> None:
        self.fetch = fetch
        from poison_tools.term import Style, use_color

        self.out = Style(use_color(sys.stdout))
        self.err = Style(use_color(sys.stderr))
        # Warned on stderr as they happen; `--json` output repeats them (`warnings`).
        self.warnings: list[str] = []

    @cached_property
    def repo(self) -> SourceRepo:
        from poison_tools.git import SourceRepo

        return SourceRepo.discover()

    @cached_property
    def store(self) -> PoisonStore:
        from poison_tools.records.store import PoisonStore

        return PoisonStore(self.repo, fetch=self.fetch)

    def snapshot(self) -> Snapshot:
        snap = self.store.load()
        if snap.stale is not None:
            self.warn(snap.stale.describe())
        for notice in snap.notices:
            self.warn(notice)
        from poison_tools.records.misspelt import project_warning

        unknown = project_warning(self.store, snap)
        if unknown is not None and unknown not in self.warnings:
            self.warnings.append(unknown)
            self.warn(unknown)
        return snap

    def reach(self, progress: Progress | None = None) -> Reachability:
        """The reachability engine (`poison_tools.reach.engine.reachability`); what it noticed
        about a damaged index is shown on stderr when the command ends."""
        from poison_tools.reach.engine import reachability

        engine = reachability(self.repo, progress)

        def show() -> None:
            for notice in engine.notices:
                self.warn(notice)

        click.get_current_context().call_on_close(show)
        return engine

    def warn(self, message: str) -> None:
        click.echo(self.err("warning: ", "yellow") + message, err=True)

    def echo(self, line: str = "") -> None:
        click.echo(line)

    def echo_lines(self, lines: Sequence[str]) -> None:
        # One write: click.echo flushes on every call, which cost ~60 ms for the
        # 2,000 lines of a check with a thousand poisons.
        if lines:
            click.echo("\n".join(lines))

    def echo_json(self, data: Any) -> None:
        from poison_tools.term import json_text  # the data exact, nothing a terminal obeys

        click.echo(json_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)))

    def author(self) -> tuple[str, str]:
        return self.repo.identity()

    def editor(self) -> str:
        name, email = self.author()
        return f"{name} <{email}>"

    def report_write(self, result: WriteResult, done: str) -> None:
        from poison_tools.edit_render import offline_line

        line = offline_line(done, result.offline)
        if line is not None:
            self.warn(line)

    def report_deployments(self, record: Record, tip: str | None) -> None:
        """After a write: the deployments that carry `record`, on stderr.

        stderr, because `rid=$(git poison add …)` reads the id from stdout (README) and
        scripts may read `cure`'s line too. The record is already safe: a problem here
        (a broken inventory, missing history) is a warning, never a failed write."""
        from poison_tools.deployed import judge_deployments
        from poison_tools.scope_render import deployed_lines
        from poison_tools.term import StderrProgress

        try:
            found = judge_deployments(self.repo, self.store, record, tip, StderrProgress())
        except FatalError as e:
            self.warn(f"recorded, but the deployments could not be listed: {e}")
            return
        if found is not None:
            click.echo("\n".join(deployed_lines(found.scope, found.source, self.err)), err=True)


pass_app = click.make_pass_decorator(App)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(
    cls=LazyGroup,
    context_settings=CONTEXT,
    epilog="""\b
Examples:
  git poison add 1a2b3c4 -m "service hangs on io error" --bug JIRA-1234
  git poison cure k3v7x2m9d0 origin/master lts/2.1
  git poison check                     # exit 0 healthy, 1 poisoned, 2 undecided
  git poison check v2.1.0 --since v2.0.0 --json

Exit codes: 0 healthy/success, 1 poisoned, 2 could not decide or error.""",
)
@click.version_option(__version__, prog_name="git-poison")
@click.option(
    "--no-fetch",
    is_flag=True,
    help="Use the last fetched records; contact no remote (neither the poisons remote "
    "nor, in a partial clone, the promisor for missing objects).",
)
@click.pass_context
def cli(ctx: click.Context, no_fetch: bool) -> None:
    """Record the commits that introduced bugs (poisons) and the commits that fixed them
    (cures), and ask whether a commit carries an uncured poison."""
    if no_fetch:
        # One switch for "no network": also no objects fetched for a partial clone's
        # copy scan (`equivalence.default_equivalence` reads the variable).
        os.environ["GIT_POISON_NO_FETCH"] = "1"
    ctx.obj = App(fetch=os.environ.get("GIT_POISON_NO_FETCH") != "1")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; turn every expected failure into one line and an exit code
    (`error_handler`: errors, Ctrl-C, bugs; here: what click raises)."""
    with error_handler("git poison"):
        try:
            rv = cli.main(args=argv, prog_name="git poison", standalone_mode=False)
        except click.exceptions.Abort:
            click.echo("aborted", err=True)
            return ExitCode.INTERRUPTED
        except click.ClickException as e:
            e.show()
            return ExitCode.ERROR
        except click.exceptions.Exit as e:
            return int(e.exit_code)
        except BrokenPipeError:
            # `git poison list | head`: the reader left; not an error worth a word.
            sys.stderr.close()
            return ExitCode.OK
        return int(rv or 0)
    raise AssertionError("error_handler raises SystemExit for what it catches")


if __name__ == "__main__":
    raise SystemExit(main())
