"""`scope` over ~1,000 branches and tags for one record, and `backports` over 10 LTS
branches with 1,000 records, on a 100,000-commit repository; and what the patch-id
cache costs the first time and afterwards. Every figure is printed beside a baseline
measured in the same run on the same repository:

- scope, one record: `git tag --contains` + `git branch -a --contains` for its poison
  and its cure (plain git's answer, without copies);
- backports: `git branch --list 'lts/*' --contains` for each record's poison and cure
  (timed on a sample of records, scaled to all of them, and said so);
- patch-id cache: `git log -p | git patch-id --stable` over the whole history;
- the whole matrix (`scope --tags` with no id: every record x every branch and tag,
  as JSON, text and HTML), its time and its peak memory (the process tree's maximum
  resident set, from `os.wait4`) beside `scope <one id> --tags --json` in the same
  run, and its time beside plain git's `tag/branch --contains` for each record's
  poison and cure (timed on a sample, scaled, and said so).

The history (written with `git fast-import`): a mainline of --commits commits, each
changing one of 1,000 files; 10 `lts/N` branches forked along it that receive
`cherry-pick -x` copies of later mainline fixes; tags along the mainline and the LTS
branches and feature branches, about --refs refs in all; --records records written
straight into the poisons repository (poison on the mainline, cure a little later,
copied to some LTS branches).

    .venv/bin/python bench/bench_scope.py [--commits 100000] [--records 1000] [--refs 1000]
                                          [--only-matrix]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
IDENT = "Bench <bench@example.com>"
LTS = 10


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode().strip()


def _commit(
    ref: str, mark: int, when: int, msg: str, parent: str | None, path: str, text: str
) -> bytes:
    body, data = msg.encode(), text.encode()
    out = f"commit {ref}\nmark :{mark}\ncommitter {IDENT} {when} +0000\n".encode()
    out += b"data %d\n%s\n" % (len(body), body)
    if parent:
        out += f"from {parent}\n".encode()
    return out + b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)


def _path(i: int) -> str:
    # 1,000 files in 32 directories: small trees keep fast-import quick.
    return f"src/d{i % 1000 // 32}/f{i % 1000}.txt"


def build(
    root: Path, commits: int, n_records: int, n_refs: int, seed: int
) -> tuple[Path, list[dict[str, str]]]:
    rng = random.Random(seed)
    svc = root / "svc"
    git(root, "init", "-q", "-b", "master", str(svc))
    # 1. The mainline; marks give us the SHAs for trailers and records.
    chunks = []
    for i in range(1, commits + 1):
        chunks.append(
            _commit(
                "refs/heads/master",
                i,
                1_600_000_000 + i,
                f"change {i}",
                f":{i - 1}" if i > 1 else None,
                _path(i),
                f"line {i}\n",
            )
        )
    marks = root / "marks"
    git(svc, "fast-import", "--quiet", f"--export-marks={marks}", input=b"".join(chunks))
    sha = {int(m[1:]): s for m, s in (line.split() for line in marks.read_text().splitlines())}
    # 2. Records: poison at p, cure a little later on the mainline.
    forks = [commits * (k + 1) // (LTS + 1) for k in range(LTS)]
    pairs = []
    for i in range(n_records):
        if i % 5 == 0:  # a fifth straddle an LTS fork: the bugs LTS branches inherit
            fork = rng.choice(forks)
            pairs.append((fork - rng.randint(0, 100), fork + rng.randint(1, 100)))
            continue
        p = rng.randint(commits // 20, commits - 200)
        pairs.append((p, p + rng.randint(1, 150)))
    # 3. LTS branches fork along the mainline; each gets -x copies of some cures.
    chunks, mark, tags = [], commits, []
    for k, fork in enumerate(forks, 1):
        tip, ref = sha[fork], f"refs/heads/lts/{k}"
        later = sorted(c for p, c in pairs if p <= fork < c)  # cures this branch lacks
        for j, c in enumerate(later):
            if rng.random() < 0.5:
                continue  # half are left to `backports`
            mark += 1
            msg = f"change {c}\n\n(cherry picked from commit {sha[c]})"
            chunks.append(
                _commit(ref, mark, 1_700_000_000 + mark, msg, tip, _path(c), f"line {c}\n")
            )
            tip = f":{mark}"
            if j % 10 == 0:
                tags.append((f"refs/tags/v{k}.{j}", tip))
        if tip == sha[fork]:
            chunks.append(f"reset {ref}\nfrom {tip}\n\n".encode())
    # 4. Tags and feature branches to about n_refs refs in all.
    room = max(0, n_refs - LTS - len(tags) - 1)
    for t in range(room // 2):
        tags.append((f"refs/tags/r{t}", sha[commits * (t + 1) // (room // 2 + 1)]))
    for f in range(room - room // 2):
        tags.append((f"refs/heads/feature/{f}", sha[rng.randint(1, commits)]))
    chunks += [f"reset {ref}\nfrom {tip}\n\n".encode() for ref, tip in tags]
    git(svc, "fast-import", "--quiet", f"--import-marks={marks}", input=b"".join(chunks))
    git(svc, "config", "poison.project", "bench")
    git(svc, "commit-graph", "write", "--reachable")  # what `git gc` leaves: fair to git
    records = [
        {"id": f"bench{i:05d}", "poison": sha[p], "cure": sha[c]} for i, (p, c) in enumerate(pairs)
    ]
    write_records(svc, records)
    return svc, records


def write_records(svc: Path, records: list[dict[str, str]]) -> None:
    poisons = svc / ".git" / "poison"
    git(svc, "init", "-q", "--bare", str(poisons))
    chunks = [
        f"commit refs/heads/bench\ncommitter {IDENT} 1700000000 +0000\ndata 7\nrecords\n".encode()
    ]
    for r in records:
        data = json.dumps(
            {
                "schema": 1,
                "id": r["id"],
                "poisons": [r["poison"]],
                "cures": [r["cure"]],
                "comment": f"bug {r['id']}",
                "bug": None,
                "severity": None,
                "editor": IDENT,
                "created": "2026-01-01T00:00:00Z",
                "updated": "2026-01-01T00:00:00Z",
                "withdrawn": None,
            }
        ).encode()
        chunks.append(
            b"M 100644 inline records/%s.json\ndata %d\n%s\n" % (r["id"].encode(), len(data), data)
        )
    git(poisons, "fast-import", "--quiet", input=b"".join(chunks))


def timed(fn: Callable[[], object], runs: int = 1) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def poison(svc: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["git", "poison", "--no-fetch", *args], cwd=svc, capture_output=True, env=env
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"git poison {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc


def measured(svc: Path, *args: str) -> tuple[float, int, int, int]:
    """(seconds, max RSS in MB of the process tree, exit code, bytes written) of one
    `git poison` run, its output sent to a file."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryFile() as out:
        t = time.perf_counter()
        proc = subprocess.Popen(
            ["git", "poison", "--no-fetch", *args],
            cwd=svc,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        size = out.seek(0, os.SEEK_END)
    # ru_maxrss (KB on Linux) covers the child and the descendants it waited for.
    return took, usage.ru_maxrss // 1024, proc.returncode, size


def matrix(svc: Path, records: list[dict[str, str]], sample: int) -> None:
    """The whole matrix, every record x every branch and tag, in each format."""
    rec = records[len(records) // 2]
    one_t, one_mb, _, _ = measured(svc, "scope", rec["id"], "--tags", "--json")
    picked = records[:: max(1, len(records) // sample)][:sample]

    def plain() -> None:
        for r in picked:
            for c in (r["poison"], r["cure"]):
                git(svc, "tag", "--contains", c)
                git(svc, "branch", "-a", "--contains", c)

    base = timed(plain) * len(records) / len(picked)
    for fmt in ("json", "text", "html"):
        took, mb, rc, size = measured(svc, "scope", "--tags", "--format", fmt)
        row(
            f"scope --tags --format {fmt}, whole matrix",
            took,
            base,
            f"tag/branch --contains x2 per record, {len(picked)} timed, scaled",
        )
        print(
            f"{'':<44} max RSS {mb:6d} MB   baseline {one_mb:6d} MB (scope <one id> --tags --json, "
            f"{one_t:.2f} s)   ratio {mb / max(1, one_mb):6.2f}   exit {rc}, {size / 1e6:.0f} MB written"
        )


def churn(svc: Path, rng: random.Random, n: int = 1000) -> None:
    """After a big `fetch --prune`: n tags on old commits, up to n refs deleted. The copy
    cache's tips change, but nothing new arrived; beside the walk that would learn it."""
    old = git(svc, "for-each-ref", "--format=%(objectname)").split()
    commits = git(svc, "rev-list", "--all").split()
    new = rng.sample(commits, min(n, len(commits)))
    doomed = [
        r
        for r in git(
            svc, "for-each-ref", "--format=%(refname)", "refs/heads/feature", "refs/tags/r"
        ).split()
    ][:n]
    script = "".join(f"create refs/tags/old-{i} {c}\n" for i, c in enumerate(new))
    script += "".join(f"delete {r}\n" for r in doomed)
    git(svc, "update-ref", "--stdin", input=script.encode())
    ours = timed(lambda: poison(svc, "check", "master"))
    walk = "".join(f"{c}\n" for c in new) + "".join(f"^{c}\n" for c in old)
    base = timed(lambda: git(svc, "rev-list", "--count", "--stdin", input=walk.encode()))
    row(
        f"check after {len(new)} tags on old commits, {len(doomed)} refs deleted",
        ours,
        base,
        "rev-list <new> ^<old>: the walk skipped",
    )


def row(name: str, ours: float, base: float, base_name: str) -> None:
    print(
        f"{name:<44} {ours:8.2f} s   baseline {base:8.2f} s ({base_name})   ratio {ours / base:6.2f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--refs", type=int, default=1000)
    ap.add_argument(
        "--sample", type=int, default=50, help="records timed for the backports baseline"
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only-matrix", action="store_true", help="only the whole-matrix figures")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scope-") as tmp:
        t = time.perf_counter()
        svc, records = build(Path(tmp), args.commits, args.records, args.refs, args.seed)
        refs = len(git(svc, "for-each-ref").splitlines())
        print(
            f"history: {args.commits} mainline commits, {refs} refs, {len(records)} records "
            f"(built in {time.perf_counter() - t:.1f} s)"
        )
        if args.only_matrix:
            poison(svc, "check", "master")  # builds the index and the copy cache, untimed
            matrix(svc, records, args.sample)
            return 0

        # The patch-id cache: first run, then a run with nothing new, then 10 new commits.
        base_pid = timed(
            lambda: subprocess.run(
                "git log --all --no-merges -p --format=%H | git patch-id --stable > /dev/null",
                shell=True,
                cwd=svc,
                check=True,
            )
        )
        scan = [
            sys.executable,
            "-c",
            "from poison_tools.git import SourceRepo; "
            "from poison_tools.copies.patchid import PatchIdCache; "
            "PatchIdCache(SourceRepo.discover()).update()",
        ]
        cache = timed(lambda: subprocess.run(scan, cwd=svc, check=True))
        row("patch-id cache, first build (alone)", cache, base_pid, "git log -p | patch-id, all")
        from poison_tools.copies.patchid import cache_path
        from poison_tools.git import SourceRepo

        os.remove(cache_path(SourceRepo.discover(str(svc))))
        cold = timed(lambda: poison(svc, "check", "master"))
        row(
            "first check (builds index + patch-id cache)",
            cold,
            base_pid,
            "git log -p | patch-id, all",
        )
        warm = timed(lambda: poison(svc, "check", "master"), args.runs)
        row(
            f"check master, caches warm, {len(records)} records",
            warm,
            base_pid,
            "git log -p | patch-id, all",
        )
        for i in range(10):
            (svc / f"new{i}.txt").write_text(f"{i}\n")
            git(svc, "add", f"new{i}.txt")
            git(svc, "commit", "-qm", f"new {i}", "--author", IDENT)
        incr = timed(lambda: poison(svc, "check", "master"))
        row("check after 10 new commits (incremental)", incr, warm, "warm check, nothing new")

        # scope for one record over every branch and tag.
        rec = records[len(records) // 2]
        cmd = ("scope", rec["id"], "--tags", "--json")
        ours = timed(lambda: poison(svc, *cmd), args.runs)

        def plain() -> None:
            for c in (rec["poison"], rec["cure"]):
                git(svc, "tag", "--contains", c)
                git(svc, "branch", "-a", "--contains", c)

        base = timed(plain, args.runs)
        data = json.loads(poison(svc, *cmd).stdout)
        n = len(data["records"][0]["refs"])
        row(f"scope 1 record x {n} branches+tags", ours, base, "tag/branch --contains x2")

        # backports: 10 LTS branches x all records.
        ours = timed(lambda: poison(svc, "backports", "--branches", "lts/*", "--json"), args.runs)
        sample = records[: args.sample]

        def plain_backports() -> None:
            for r in sample:
                for c in (r["poison"], r["cure"]):
                    git(svc, "branch", "--list", "lts/*", "--contains", c)

        base = timed(plain_backports) * len(records) / len(sample)
        out = json.loads(poison(svc, "backports", "--branches", "lts/*", "--json").stdout)
        missing = sum(len(b["missing"]) for b in out["branches"])
        row(
            f"backports {len(out['branches'])} branches x {len(records)} records ({missing} missing)",
            ours,
            base,
            f"branch --contains x2 per record, {len(sample)} timed, scaled",
        )
        matrix(svc, records, args.sample)
        churn(svc, rng=random.Random(args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
