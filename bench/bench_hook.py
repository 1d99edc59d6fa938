"""What the pre-push hook adds to a `git push` on a large repository.

Builds (in a temporary folder) a service repository with --commits commits on master,
an lts branch forked near the start, --records poison records whose cures sit on
master (so the walk from the lts tip can never stop early: the worst case), a shared
poisons repository and a bare origin. Then it times, interleaved, a `git push` of one
new lts commit with the installed hook and the same push with `--no-verify` (the
baseline, measured in the same run), and prints both medians, the difference and the
ratio. Then it times the index update alone (one new commit, a fresh process: load,
walk, write), alternately as a delta beside the graph and as a whole rewrite of the
graph (the way before issue 12), and the next command's load of what each left.

    .venv/bin/python bench/bench_hook.py [--commits 100000] [--records 200] [--missing 5] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def git(
    cwd: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode().strip()


def fast_import_history(repo: Path, commits: int) -> None:
    """A linear master of `commits` commits, each touching one of 1000 files."""
    out = []
    ident = "Bench <bench@example.com>"
    for i in range(1, commits + 1):
        data = f"line {i}\n".encode()
        msg = f"commit {i}".encode()
        out.append(b"commit refs/heads/master\n")
        out.append(f"mark :{i}\ncommitter {ident} {1_600_000_000 + i} +0000\n".encode())
        out.append(b"data %d\n%s\n" % (len(msg), msg))
        if i > 1:
            out.append(f"from :{i - 1}\n".encode())
        out.append(b"M 100644 inline src/f%d.txt\ndata %d\n%s\n" % (i % 1000, len(data), data))
    git(repo, "fast-import", "--quiet", input=b"".join(out))


def setup(root: Path, commits: int, records: int, missing: int) -> tuple[Path, Path]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    svc, origin, poisons = root / "svc", root / "origin.git", root / "poisons.git"
    git(root, "init", "-q", "--bare", str(origin))
    git(root, "init", "-q", "--bare", str(poisons))
    git(root, "init", "-q", "-b", "master", str(svc))
    git(svc, "config", "user.name", "Bench")
    git(svc, "config", "user.email", "bench@example.com")
    t = time.perf_counter()
    fast_import_history(svc, commits)
    shas = git(svc, "rev-list", "--reverse", "master").split()
    fork = shas[commits // 100]
    git(svc, "branch", "lts/1.0", fork)
    git(svc, "reset", "-q", "--hard", "master")
    git(svc, "remote", "add", "origin", str(origin))
    git(svc, "push", "-q", "origin", "master", "lts/1.0")
    # What `git maintenance` / gc leave behind on any repository people work in daily.
    git(svc, "commit-graph", "write", "--reachable")
    print(f"built {commits} commits in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from poison_tools.git import SourceRepo
    from poison_tools.records.record import Record, new_id, now_iso
    from poison_tools.records.store import PoisonStore, Snapshot

    git(svc, "config", "poison.remote", str(poisons))
    repo = SourceRepo.discover(str(svc))

    # `missing` poisons before the fork whose cures are only on master (missed
    # backports the hook must report); the others poison and cure master after the
    # fork. Every cure is on master, so the walk from the lts tip never stops early.
    def poison_at(k: int) -> str:
        return shas[(k * 7) % (commits // 100)] if k < missing else shas[commits // 100 + 1 + k]

    made = [
        Record(
            id=new_id(),
            poisons=(poison_at(k),),
            cures=(shas[commits // 2 + k],),
            comment=f"bug {k}",
            editor="Bench <bench@example.com>",
            created=now_iso(),
            updated=now_iso(),
        )
        for k in range(records)
    ]

    def change(_snap: Snapshot) -> list[Record]:
        return made

    PoisonStore(repo).write(change, f"{records} bench records", ("Bench", "bench@example.com"))
    proc = subprocess.run(
        ["git", "poison", "install-hook"], cwd=svc, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return svc, origin


def timed_push(svc: Path, n: int, *, hook: bool, walk: bool = False) -> tuple[float, int, str]:
    tree = git(svc, "rev-parse", "lts/1.0^{tree}")
    new = git(svc, "commit-tree", tree, "-p", "lts/1.0", "-m", f"lts work {n}")
    git(svc, "update-ref", "refs/heads/lts/1.0", new)
    args = ["git", "push", "-q", "origin", "lts/1.0"] + ([] if hook else ["--no-verify"])
    env = {**os.environ, "GIT_POISON_INDEX": "0"} if walk else None
    t = time.perf_counter()
    proc = subprocess.run(args, cwd=svc, capture_output=True, text=True, env=env)
    return time.perf_counter() - t, proc.returncode, proc.stderr


def hook_variants(old_code: Path) -> tuple[str, str]:
    """Two pre-push hooks differing only in the code they run: the current checkout, and
    `old_code` (an earlier revision's `poison_tools`), both as `python -m poison_tools.hook`."""
    here = Path(__file__).resolve().parents[1]
    body = '#!/bin/sh\nPYTHONPATH={path} exec {py} -m poison_tools.hook "$@"\n'
    return (
        body.format(path=here, py=sys.executable),
        body.format(path=old_code, py=sys.executable),
    )


def compare(svc: Path, rev: str, runs: int) -> list[str]:
    """The hook as of `rev` beside the current one, pushes alternating."""
    here = Path(__file__).resolve().parents[1]
    old = svc.parent / f"compare-{rev}"
    if not (old / "poison_tools").exists():
        old.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", rev, "poison_tools"], cwd=here, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    hook = svc / ".git" / "hooks" / "pre-push"
    installed = hook.read_bytes()
    new_body, old_body = hook_variants(old)
    now, before, plain = [], [], []
    try:
        for n in range(runs + 1):
            hook.write_text(new_body)
            d_new = timed_push(svc, 1000 + 3 * n, hook=True)[0]
            hook.write_text(old_body)
            d_old = timed_push(svc, 1001 + 3 * n, hook=True)[0]
            d_plain = timed_push(svc, 1002 + 3 * n, hook=False)[0]
            if n:  # the first round warms both
                now.append(d_new)
                before.append(d_old)
                plain.append(d_plain)
    finally:
        hook.write_bytes(installed)
    h, o, b = statistics.median(now), statistics.median(before), statistics.median(plain)
    return [
        f"  alternating: git push --no-verify median {b * 1000:7.1f} ms",
        f"  alternating: hook as of {rev}:    median {o * 1000:7.1f} ms   added {(o - b) * 1000:.1f} ms",
        f"  alternating: hook now:            median {h * 1000:7.1f} ms   added {(h - b) * 1000:.1f} ms"
        f"   ratio {(o - b) / max(h - b, 1e-9):.1f}x",
    ]


_UPDATE = """
import sys, time
from poison_tools.reach import index_delta
from poison_tools.git import SourceRepo
from poison_tools.reach.index import IndexedReach
if sys.argv[2] == "whole":
    index_delta.MAX_COMMITS = -1  # every update rewrites the graph, as before issue 12
t = time.perf_counter()
IndexedReach(SourceRepo.discover(sys.argv[1])).update()
u = time.perf_counter() - t
t = time.perf_counter()
stored = index_delta.load(IndexedReach(SourceRepo.discover(sys.argv[1])).path)
assert stored is not None
print(u, time.perf_counter() - t)
"""


def update_costs(svc: Path, runs: int) -> list[str]:
    """The index update after one new commit, as a delta and as a whole rewrite,
    alternating; each in a fresh process, then the next process's load of the index."""
    here = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": here}
    costs: dict[str, list[tuple[float, float]]] = {"delta": [], "whole": []}
    for n in range(runs + 1):
        for mode in ("delta", "whole"):
            if mode == "delta":
                # As on a real push, the graph was written long enough ago to be stamped
                # verified (index_file.RACY_NS), not rewritten by the round before.
                time.sleep(3.2)
            tree = git(svc, "rev-parse", "lts/1.0^{tree}")
            new = git(svc, "commit-tree", tree, "-p", "lts/1.0", "-m", f"update {mode} {n}")
            git(svc, "update-ref", "refs/heads/lts/1.0", new)
            out = subprocess.run(
                [sys.executable, "-c", _UPDATE, str(svc), mode],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            if n:  # the first round warms both
                costs[mode].append((float(out[0]), float(out[1])))
    d_up, d_load = (statistics.median(c) for c in zip(*costs["delta"], strict=True))
    w_up, w_load = (statistics.median(c) for c in zip(*costs["whole"], strict=True))
    return [
        f"  index update, 1 new commit, delta:      median {d_up * 1000:7.1f} ms"
        f"   next load {d_load * 1000:6.1f} ms",
        f"  index update, 1 new commit, whole file: median {w_up * 1000:7.1f} ms"
        f"   next load {w_load * 1000:6.1f} ms",
        f"  update, whole / delta:                  {w_up / max(d_up, 1e-9):.1f}x"
        f"   (update + next load: {(w_up + w_load) / max(d_up + d_load, 1e-9):.1f}x)",
    ]


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--commits", type=int, default=100_000)
    p.add_argument("--records", type=int, default=200)
    p.add_argument("--missing", type=int, default=5, help="records whose cure the lts branch lacks")
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--dir", type=Path, help="build here and keep it; reuse it if already built")
    p.add_argument(
        "--compare",
        metavar="REV",
        help="also time the hook as of git revision REV, alternately with the current one",
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        root = args.dir.resolve() if args.dir else Path(tmp)  # git runs in subfolders
        if (root / "svc" / ".git" / "hooks" / "pre-push").exists():
            svc = root / "svc"  # built by an earlier run with --dir: same sizes assumed
        else:
            root.mkdir(parents=True, exist_ok=True)
            svc, _origin = setup(root, args.commits, args.records, args.missing)
        with_hook, with_walk, without = [], [], []
        rc, err = 0, ""
        # The first run builds the reachability index and the copy (patch-id) cache.
        cold = timed_push(svc, 0, hook=True)[0]
        for n in range(1, args.runs + 1):
            d, rc, err = timed_push(svc, 3 * n, hook=True)
            with_hook.append(d)
            with_walk.append(timed_push(svc, 3 * n + 1, hook=True, walk=True)[0])
            without.append(timed_push(svc, 3 * n + 2, hook=False)[0])
        if rc != 0 or f"lacks the cure of {args.missing} poisons" not in err:
            print(
                f"the hook did not report what it should (rc {rc}):\n{err[:2000]}", file=sys.stderr
            )
            return 1
        compared = compare(svc, args.compare, args.runs) if args.compare else []
        updates = update_costs(svc, args.runs)
    h, w, b = statistics.median(with_hook), statistics.median(with_walk), statistics.median(without)
    print(
        f"pre-push hook, {args.commits} commits, {args.records} records ({args.missing} missed "
        f"backports), {args.runs} runs each"
    )
    print(f"  git push --no-verify (baseline): median {b * 1000:7.1f} ms")
    print(f"  git push with the hook:          median {h * 1000:7.1f} ms")
    print(f"  added by the hook:               {(h - b) * 1000:7.1f} ms   ratio {h / b:.2f}x")
    print(
        f"  hook, GIT_POISON_INDEX=0 (walk): median {w * 1000:7.1f} ms   added {(w - b) * 1000:.1f} ms"
    )
    print(f"  first push with the hook (cold caches): {cold:.1f} s")
    for line in [*compared, *updates]:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
