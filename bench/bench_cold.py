"""The first `check` on a history with real diffs (issue 12), cold and warm, beside plain git.

    .venv/bin/python bench/bench_cold.py [--sizes 20000,200000] [--runs 3] [--compare REV]

Each size is generated once under `bench/.work/` (`gen_diffs.py`: real file edits,
cherry-picks without -x between branches, hundreds of branches and tags), with a
commit-graph as `git maintenance` leaves one, and 30 poison records in a poisons
repository: 20 mainline commits that were cherry-picked onto release branches, 10 of
them cured by later mainline commits.

Cold: every git-poison cache deleted (`.git/poison-cache`: copies and index), then
`git poison check rel/1 --json`. Warm: the same again. Baselines in the same run:
`git log --all -p | git patch-id --stable` (what the copy scan used to cost) and
`git rev-list --all`. With `--compare REV`, the same cold check with the code of
revision `REV` (a full patch-id scan) also runs, and the JSON verdicts of every release
branch are compared: they must be identical.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    return (
        subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=True)
        .stdout.decode()
        .strip()
    )


def setup(size: int) -> Path:
    from gen_diffs import generate

    path = WORK / f"cold-{size}"
    if (path / "ready").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    t = time.perf_counter()
    bare = path / "src.git"
    branches, tags = (680, 330) if size <= 20_000 else (1000, 500)
    generate(str(bare), size, 1, branches, tags)
    svc = path / "svc"
    git(path, "clone", "-q", "--no-checkout", str(bare), str(svc))
    for ref in git(svc, "for-each-ref", "--format=%(refname:short)", "refs/remotes/origin").split():
        if ref != "origin/HEAD":
            git(svc, "update-ref", f"refs/heads/{ref.removeprefix('origin/')}", ref)
    git(svc, "commit-graph", "write", "--reachable")
    print(f"generated {size} commits in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    marks = dict(line.split() for line in (bare / "marks").read_text().splitlines())
    picks = [line.split() for line in (bare / "picks").read_text().splitlines()]
    main = git(svc, "rev-list", "--first-parent", "main").split()
    poisons: list[str] = []
    for original, _pick in picks[len(picks) // 3 :]:
        sha = marks[f":{original}"]
        if sha not in poisons:
            poisons.append(sha)
        if len(poisons) == 20:
            break

    from poison_tools.git import SourceRepo
    from poison_tools.records.record import Record, new_id, now_iso
    from poison_tools.records.store import PoisonStore, Snapshot

    poisons_repo = path / "poisons.git"
    git(path, "init", "-q", "--bare", str(poisons_repo))
    git(svc, "config", "poison.remote", str(poisons_repo))
    git(svc, "config", "user.name", "Bench")
    git(svc, "config", "user.email", "bench@example.com")
    made = [
        Record(
            id=new_id(),
            poisons=(p,),
            cures=(main[k * 3],) if k < 10 else (),
            comment=f"bug {k}",
            editor="Bench <bench@example.com>",
            created=now_iso(),
            updated=now_iso(),
        )
        for k, p in enumerate(poisons)
    ]

    def change(_snap: Snapshot) -> list[Record]:
        return made

    PoisonStore(SourceRepo.discover(str(svc))).write(
        change, "bench records", ("Bench", "bench@example.com")
    )
    (path / "ready").write_text("")
    return path


def timed(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None, shell: bool = False
) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    t = time.perf_counter()
    proc = subprocess.run(
        cmd if not shell else " ".join(cmd), cwd=cwd, capture_output=True, env=env, shell=shell
    )
    return time.perf_counter() - t, proc


def checks(svc: Path, env: dict[str, str], python: list[str]) -> dict[str, object]:
    out = {}
    for ref in sorted(
        git(svc, "for-each-ref", "--format=%(refname:short)", "refs/heads/rel").split()
    ):
        proc = subprocess.run(
            [*python, "check", ref, "--json"], cwd=svc, capture_output=True, env=env
        )
        report = json.loads(proc.stdout)
        out[ref] = (
            proc.returncode,
            report.get("verdict"),
            report.get("copies"),
            json.dumps(report.get("poisoned"), sort_keys=True),
            json.dumps(report.get("undecided"), sort_keys=True),
        )
    return out


def old_code(rev: str) -> Path:
    rev = git(ROOT, "rev-parse", "--verify", f"{rev}^{{commit}}")  # named by SHA: HEAD moves
    dest = WORK / f"rev-{rev}"
    if not dest.exists():
        dest.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", rev, "poison_tools"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def bench(size: int, runs: int, compare: str | None) -> list[str]:
    path = setup(size)
    svc = path / "svc"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    cache = svc / ".git" / "poison-cache"
    cmd = ["git", "poison", "check", "rel/1", "--json"]
    cold, warm, rss = [], [], 0
    for _ in range(runs):
        shutil.rmtree(cache, ignore_errors=True)
        t, proc = timed(["/usr/bin/time", "-f", "%M", *cmd], svc, env)
        if proc.returncode not in (0, 1):
            raise SystemExit(proc.stderr.decode())
        rss = max(rss, int(proc.stderr.decode().split()[-1]))
        cold.append(t)
        warm.append(timed(cmd, svc, env)[0])
    patch_ids = min(
        timed(
            [
                "git",
                "log",
                "--all",
                "--no-merges",
                "-p",
                "--format=%H",
                "--no-renames",
                "|",
                "git",
                "patch-id",
                "--stable",
                ">/dev/null",
            ],
            svc,
            shell=True,
        )[0]
        for _ in range(2 if size <= 50_000 else 1)
    )
    rev_list = min(timed(["git", "rev-list", "--all"], svc)[0] for _ in range(3))
    c, w = statistics.median(cold), statistics.median(warm)
    lines = [
        f"{size} commits, {len(git(svc, 'for-each-ref').splitlines())} refs, 30 records:",
        f"  cold check      {c:7.2f} s  (max RSS {rss / 1024:.0f} MB)  "
        f"{c / patch_ids:5.2f} x patch-id scan, {c / rev_list:6.1f} x rev-list --all",
        f"  warm check      {w:7.2f} s  {w / patch_ids:5.2f} x patch-id scan, {w / rev_list:6.1f} x rev-list --all",
        f"  git log -p | git patch-id --stable  {patch_ids:7.2f} s",
        f"  git rev-list --all                  {rev_list:7.2f} s",
    ]
    if compare:
        code = old_code(compare)
        python = [sys.executable, "-m", "poison_tools"]
        old_env = {**env, "PYTHONPATH": str(code)}
        shutil.rmtree(cache, ignore_errors=True)
        t, _ = timed([*python, *cmd[2:]], svc, old_env)
        lines.append(f"  cold check at {compare}: {t:7.2f} s ({t / c:.1f} x this one)")
        old = checks(svc, old_env, python)
        shutil.rmtree(cache, ignore_errors=True)
        new = checks(svc, {**env, "PYTHONPATH": str(ROOT)}, python)
        same = old == new
        counts = ", ".join(
            f"{k} {sum(1 for v in new.values() if v[1] == k)}"
            for k in sorted({str(v[1]) for v in new.values()})
        )
        lines.append(
            f"  verdicts of {len(new)} release branches ({counts}) identical to {compare}'s "
            f"full scan: {'yes' if same else 'NO'}"
        )
        if not same:
            for ref in new:
                if old.get(ref) != new[ref]:
                    lines.append(f"    {ref}: {old.get(ref)} != {new[ref]}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20000,200000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--compare", help="a revision whose full patch-id scan is compared")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} cores, {git(ROOT, 'version')}, Python {sys.version.split()[0]}, "
        f"load average {load:.1f}"
    )
    if args.compare:
        old_code(args.compare)  # now: HEAD~2 means the same revision for every size
    for size in (int(s) for s in args.sizes.split(",")):
        for line in bench(size, args.runs, args.compare):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
