"""How long the language server takes to put poison warnings on a 5,000-line file with
a long history, beside plain `git blame` of the same file measured in the same run.

The repository (written with `git fast-import`): one file of --lines lines changed by
--commits commits (5 random lines each) on master; the poison rewrites 20 lines
--age commits before the tip; the cure comes later on master; `lts` forks between
the poison and the cure, receives its own commits and is checked out. The record is
made with the real `git poison add` / `git poison cure`.

Figures (median of --runs, wall clock, from the client's side of the pipe):
- open: a fresh server process, from didOpen to the diagnostics (the first open
  ever also builds the patch-id cache of the copy rules: printed on its own);
- edit: didChange of one line to the diagnostics of that version (debounce included);
- reopen: the same file closed and opened again in the running server (a fresh blame);
- other: a file of the same size and history that holds no poisoned line;
- baseline: `git blame --incremental` of the whole file at HEAD, the full history.

    .venv/bin/python bench/bench_lsp.py [--lines 5000] [--commits 3000] [--age 1500] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
IDENT = "Bench <bench@example.com>"


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode().strip()


def poison(cwd: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["git", "poison", *args], cwd=cwd, capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise SystemExit(f"git poison {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def build(root: Path, n_lines: int, commits: int, age: int, seed: int) -> tuple[Path, str]:
    rng = random.Random(seed)
    svc = root / "svc"
    git(root, "init", "-q", "-b", "master", str(svc))
    lines = [f"line {i} initial\n" for i in range(n_lines)]
    stream: list[bytes] = []
    poison_at = commits - age
    lts_at = poison_at + age // 2

    other = [f"other {i} initial\n" for i in range(n_lines)]

    def commit(ref: str, n: int, msg: str, parent: str | None) -> None:
        data = "".join(lines).encode()
        body = msg.encode()
        stream.append(
            f"commit {ref}\nmark :{n}\ncommitter {IDENT} {1_600_000_000 + n} +0000\n".encode()
            + b"data %d\n%s\n" % (len(body), body)
            + (f"from {parent}\n".encode() if parent else b"")
            + b"M 100644 inline big.txt\ndata %d\n%s\n" % (len(data), data)
        )
        if n == 1 or n % 10 == 0:  # a second file, same size, that the poison never touched
            other[rng.randrange(n_lines)] = f"other changed in {n}\n"
            more = "".join(other).encode()
            stream.append(b"M 100644 inline other.txt\ndata %d\n%s\n" % (len(more), more))

    for n in range(1, commits + 1):
        if n == poison_at:
            start = rng.randrange(n_lines - 20)
            for i in range(start, start + 20):
                lines[i] = f"line {i} POISON\n"
            commit("refs/heads/master", n, "the poison", f":{n - 1}" if n > 1 else None)
        else:
            for _ in range(5):
                i = rng.randrange(n_lines)
                if "POISON" not in lines[i]:
                    lines[i] = f"line {i} changed in {n}\n"
            commit("refs/heads/master", n, f"change {n}", f":{n - 1}" if n > 1 else None)
        if n == lts_at:
            stream.append(f"reset refs/heads/lts\nfrom :{n}\n".encode())
    poisoned = [i for i, t in enumerate(lines) if "POISON" in t]
    for i in poisoned:
        lines[i] = f"line {i} cured\n"
    commit("refs/heads/master", commits + 1, "the cure", f":{commits}")
    git(svc, "fast-import", "--quiet", input=b"".join(stream))
    git(svc, "checkout", "-q", "-f", "lts")
    p = git(svc, "rev-list", "--grep=the poison", "master")
    cure = git(svc, "rev-parse", "master")
    record = poison(svc, "add", p, "-m", "bench poison")
    poison(svc, "cure", record, cure)
    return svc, record


class Client:
    """Just enough JSON-RPC over stdio to time the server as an editor sees it."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.n = 0

    @classmethod
    async def start(cls, cwd: Path) -> Client:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "git_poison_lsp",
            "--stdio",
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(proc)

    def send(self, method: str, params: Any, request: bool = False) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.n += 1
            msg["id"] = self.n
        body = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = 0
        while True:
            line = (await self.proc.stdout.readline()).strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        msg: dict[str, Any] = json.loads(await self.proc.stdout.readexactly(length))
        if "id" in msg and "method" in msg:  # a request from the server: answer it
            body = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": None}).encode()
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return msg

    async def until(self, method: str, pred: Any = lambda p: True) -> dict[str, Any]:
        while True:
            msg = await self.read()
            if msg.get("method") == method and pred(msg["params"]):
                return msg["params"]  # type: ignore[no-any-return]
            if msg.get("id") == self.n and "result" in msg and method == "result":
                return msg

    async def initialize(self, root: Path) -> None:
        self.send(
            "initialize",
            {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}},
            request=True,
        )
        await self.until("result")
        self.send("initialized", {})

    async def stop(self) -> None:
        self.send("shutdown", None, request=True)
        await self.until("result")
        self.send("exit", None)
        await self.proc.wait()


async def open_and_wait(client: Client, path: Path, version: int = 1) -> tuple[float, int]:
    uri = path.as_uri()
    t0 = time.perf_counter()
    client.send(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri,
                "languageId": "plaintext",
                "version": version,
                "text": path.read_text(),
            }
        },
    )
    diags = await client.until(
        "textDocument/publishDiagnostics", lambda p: p["uri"] == uri and p.get("version") == version
    )
    return time.perf_counter() - t0, len(diags["diagnostics"])


async def measure(svc: Path, runs: int) -> tuple[dict[str, list[float]], int]:
    path = svc / "big.txt"
    uri = path.as_uri()
    text = path.read_text()
    times: dict[str, list[float]] = {k: [] for k in ("open", "edit", "reopen", "other")}
    count = 0
    for _ in range(runs):
        client = await Client.start(svc)
        await client.initialize(svc)
        elapsed, count = await open_and_wait(client, path)
        times["open"].append(elapsed)
        lines = text.splitlines(keepends=True)
        lines[next(i for i, t in enumerate(lines) if "POISON" in t)] = "edited in the editor\n"
        t0 = time.perf_counter()
        client.send(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": 2},
                "contentChanges": [{"text": "".join(lines)}],
            },
        )
        await client.until(
            "textDocument/publishDiagnostics", lambda p: p["uri"] == uri and p.get("version") == 2
        )
        times["edit"].append(time.perf_counter() - t0)
        client.send("textDocument/didClose", {"textDocument": {"uri": uri}})
        times["reopen"].append((await open_and_wait(client, path, 3))[0])
        times["other"].append((await open_and_wait(client, svc / "other.txt"))[0])
        await client.stop()
    return times, count


def baseline(svc: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        git(svc, "blame", "--incremental", "big.txt")
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--commits", type=int, default=3000)
    ap.add_argument(
        "--age", type=int, default=1500, help="commits between the poison and master's tip"
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lsp-") as tmp:
        os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
        for var, value in (
            ("GIT_AUTHOR_NAME", "Bench"),
            ("GIT_AUTHOR_EMAIL", "bench@example.com"),
            ("GIT_COMMITTER_NAME", "Bench"),
            ("GIT_COMMITTER_EMAIL", "bench@example.com"),
        ):
            os.environ.setdefault(var, value)
        t0 = time.perf_counter()
        svc, _record = build(Path(tmp), args.lines, args.commits, args.age, args.seed)
        built = time.perf_counter() - t0
        base = baseline(svc, args.runs)
        times, count = asyncio.run(measure(svc, args.runs))
    b = statistics.median(base)
    print(
        f"repository: {args.lines} lines, {args.commits} commits, poison {args.age} commits "
        f"before master's tip, on lts (built in {built:.1f}s)"
    )
    print(f"diagnostics published for big.txt: {count} (runs of poisoned lines)")
    print(f"first open ever (cold patch-id cache of the copy rules): {times['open'][0]:.3f}s")
    print(f"{'':44}{'median':>9}{'baseline':>10}{'ratio':>7}")
    for key, name in (
        ("open", "open big.txt, fresh server process"),
        ("edit", "edit one line (incl. 0.4 s debounce)"),
        ("reopen", "reopen big.txt, running server"),
        ("other", "open other.txt (no poisoned line), running"),
    ):
        m = statistics.median(times[key])
        print(f"{name:44}{m:>8.3f}s{b:>9.3f}s{m / b:>7.2f}")
    print(f"baseline: git blame --incremental big.txt (whole history), median of {args.runs}")


if __name__ == "__main__":
    main()
