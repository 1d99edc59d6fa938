"""`git poison install-hook`: the pre-push hook for teams that do not use pre-commit.

The hook file carries a marker line; only a file with it is ours to rewrite or
remove. A foreign hook is never overwritten silently: with --force it is kept beside
ours (`pre-push.git-poison-backup`), still run first, and put back by --uninstall.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys

import click

from poison_tools.cli import App, pass_app
from poison_tools.errors import FatalError

MARKER = "# git-poison-hook: managed by `git poison install-hook`"
BACKUP_SUFFIX = ".git-poison-backup"

_TEMPLATE = """#!/bin/sh
{marker}
# Checks every pushed tip for poisons cured elsewhere (docs/hook.md).
# Remove with `git poison install-hook --uninstall`; bypass once with `git push --no-verify`.
input=$(cat)
legacy="$0{backup}"
if [ -x "$legacy" ]; then
    printf '%s\\n' "$input" | "$legacy" "$@" || exit $?
fi
py={python}
if [ -x "$py" ]; then
    printf '%s\\n' "$input" | "$py" -I -m poison_tools.hook {args}"$@"
    exit $?
fi
if command -v git-poison-hook >/dev/null 2>&1; then
    printf '%s\\n' "$input" | git-poison-hook {args}"$@"
    exit $?
fi
echo "git-poison: the pre-push hook cannot find git-poison (was $py): reinstall it with" \\
     "\\`git poison install-hook\\`, or bypass once with \\`git push --no-verify\\`" >&2
exit 2
"""


def hook_script(strict: bool) -> str:
    return _TEMPLATE.format(
        marker=MARKER,
        backup=BACKUP_SUFFIX,
        python=shlex.quote(sys.executable),
        args="--strict " if strict else "",
    )


def hook_path(app: App) -> str:
    # --git-path honours core.hooksPath, which is where git will look.
    path: str = app.repo.git_out(["rev-parse", "--git-path", "hooks/pre-push"]).strip()
    if not os.path.isabs(path):
        path = os.path.join(app.repo.toplevel or app.repo.git_dir, path)
    return os.path.normpath(path)


def _ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return MARKER in f.read(4096)
    except FileNotFoundError:
        return False


def _foreign_hint(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        if "pre-commit" in f.read(4096):
            return " (it looks like pre-commit's: add the git-poison hook to .pre-commit-config.yaml instead, see docs/hook.md)"
    return ""


@click.command(
    "install-hook",
    epilog="""\b
Examples:
  git poison install-hook              # warn on every push, block protected branches
  git config --add poison.protect 'release/*'
  git poison install-hook --strict     # block on every branch
  git poison install-hook --force      # keep an existing hook, run it first
  git poison install-hook --uninstall  # remove ours, restore the one kept aside""",
)
@click.option(
    "--force",
    is_flag=True,
    help="Install even if a foreign pre-push hook exists (it is kept and run first).",
)
@click.option(
    "--strict", is_flag=True, help="Block pushes to every branch, not only poison.protect ones."
)
@click.option(
    "--uninstall", is_flag=True, help="Remove the hook installed by git-poison, and only that."
)
@pass_app
def install_hook(app: App, force: bool, strict: bool, uninstall: bool) -> int:
    """Install (or remove) the git-poison pre-push hook in this repository."""
    path = hook_path(app)
    backup = path + BACKUP_SUFFIX
    exists = os.path.lexists(path)
    was_ours = exists and _ours(path)
    if uninstall:
        if not exists:
            app.echo(f"no pre-push hook at {path}; nothing to remove")
            return 0
        if not was_ours:
            raise FatalError(f"{path} was not installed by git-poison; left alone")
        os.remove(path)
        if os.path.lexists(backup):
            os.replace(backup, path)
            app.echo(f"removed the git-poison pre-push hook; restored the previous hook at {path}")
        else:
            app.echo(f"removed the git-poison pre-push hook {path}")
        return 0
    if exists and not was_ours:
        if not force:
            raise FatalError(
                f"a pre-push hook already exists at {path}{_foreign_hint(path)}; "
                "use --force to keep it aside and run it before git-poison's"
            )
        if os.path.lexists(backup):
            raise FatalError(f"{backup} already exists; move it away first, nothing was changed")
        os.replace(path, backup)
        app.echo(f"kept the existing hook as {backup}; it runs first")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(hook_script(strict))
    os.chmod(tmp, os.stat(tmp).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, path)  # atomic: a push never runs half a hook
    app.echo(
        f"{'updated' if was_ours else 'installed'} "
        f"the git-poison pre-push hook {path}" + (" (--strict)" if strict else "")
    )
    return 0
