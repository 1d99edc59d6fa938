#!/usr/bin/env bash
# The one command that sets up and runs every test (README: "Run the tests").
# It installs what the tests need itself: a virtualenv with the package and its test
# tools, Debian's neovim (a real LSP client), chromium (a real browser for the HTML
# page), openssh-client and gnupg (ssh-keygen and gpg sign records in the trust
# tests), and the VS Code extension's npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

if ! command -v nvim >/dev/null 2>&1; then
    echo "installing neovim (Debian package) for the editor tests" >&2
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq neovim >/dev/null
fi

# The HTML page is tested in a real browser: Debian's chromium, driven by the
# `playwright` Python package pointed at /usr/bin/chromium. Never `playwright install`
# (it downloads a browser build of its own).
if [ ! -x /usr/bin/chromium ]; then
    echo "installing chromium (Debian package) for the HTML page tests" >&2
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
for tool in ssh-keygen:openssh-client gpg:gnupg; do
    if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
        echo "installing ${tool#*:} (Debian package) for the signing tests" >&2
        SUDO=""
        [ "$(id -u)" = 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${tool#*:}" >/dev/null
    fi
done

.venv/bin/ruff check poison_tools lsp tests bench
.venv/bin/ruff format --check --quiet poison_tools lsp tests bench
.venv/bin/mypy
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache

if [ -f vscode-extension/package.json ]; then
    (
        cd vscode-extension
        export GIT_POISON_PYTHON="$PWD/../.venv/bin/python"
        npm ci --no-audit --no-fund --loglevel=error
        npm run --silent compile
        npm run --silent lint
        npm test
        npm run --silent package
    )
fi

# Last, so that pytest's summary is the last line of the run.
exec .venv/bin/python -m pytest -n 2 "$@"
