"""The reachability benchmark: git-poison's index beside plain git, in the same run.

    .venv/bin/python bench/run.py                       # 100,000 and 1,000,000 commits
    .venv/bin/python bench/run.py --sizes 100000        # the quick one

Builds each synthetic repository once (bench/gen_history.py, then git's commit-graph)
under bench/.work/, records 1,000 poisons in its poisons repository, and prints, for
each question, git-poison's time, the naive and best-git times from this same run,
and the ratio. Figures are wall-clock medians; the naive way (one `git merge-base
--is-ancestor` per record) is timed on as many records as fit in --naive-budget
seconds and scaled to all of them, which the table says.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from gen_history import generate  # noqa: E402

from poison_tools.git import SourceRepo  # noqa: E402
from poison_tools.reach.index import IndexedReach, index_path  # noqa: E402
from poison_tools.records.record import Record, now_iso  # noqa: E402
from poison_tools.records.store import PoisonStore  # noqa: E402

BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    "GIT_POISON_NO_FETCH": "1",
    "NO_COLOR": "1",
}
ENV.pop("GIT_POISON_INDEX", None)


def git(
    repo: Path,
    *args: str,
    input: str | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        input=input,
        text=True,
        capture_output=True,
        check=check,
        timeout=timeout,
    ).stdout


def timed(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """Median wall time of `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def run_process(
    cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None, timeout: float | None = None
) -> tuple[float, int, int]:
    """(wall seconds, exit code, max RSS in MB) of one process."""
    wrapper = (
        "import resource, subprocess, sys, time, json; t = time.perf_counter(); "
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL).returncode; "
        "print(json.dumps([time.perf_counter() - t, rc, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd],
        cwd=cwd,
        env=env or ENV,
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    ).stdout
    wall, rc, rss = json.loads(out)
    return wall, rc, rss // 1024


def process_median(
    cmd: Sequence[str], cwd: Path, repeat: int = 5, env: dict[str, str] | None = None
) -> tuple[float, int, int]:
    """Median wall time, exit code and max RSS of warm runs (one untimed run first:
    the figures are for a warm index and warm caches, as the targets are)."""
    run_process(cmd, cwd, env)
    runs = [run_process(cmd, cwd, env) for _ in range(repeat)]
    return (statistics.median(r[0] for r in runs), runs[-1][1], max(r[2] for r in runs))


def process_pair(
    ours: Sequence[str],
    theirs: Sequence[str],
    theirs_env: dict[str, str],
    cwd: Path,
    repeat: int = 7,
) -> tuple[float, float]:
    """Medians of two commands run alternately (one untimed run of each first), so
    that both meet the same load on a shared machine."""
    run_process(ours, cwd)
    run_process(theirs, cwd, theirs_env)
    a, b = [], []
    for _ in range(repeat):
        a.append(run_process(ours, cwd)[0])
        b.append(run_process(theirs, cwd, theirs_env)[0])
    return statistics.median(a), statistics.median(b)


def extract_revision(rev: str, work: Path) -> Path:
    """`poison_tools` as it was at `rev`, to run beside the current one."""
    dest = work / f"compare-{git(HERE.parent, 'rev-parse', '--short', rev).strip()}"
    if not (dest / "poison_tools" / "__init__.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", rev, "poison_tools"],
            cwd=HERE.parent,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def compare(
    path: Path, records: list[Record], args: argparse.Namespace, rows: list[dict[str, Any]]
) -> None:
    """The whole `check` and `scope` processes beside the same commands at --compare."""
    old = extract_revision(args.compare, Path(args.work))
    old_env = {**ENV, "PYTHONPATH": str(old)}
    py = [sys.executable, "-m", "poison_tools", "--no-fetch"]
    label = f"the same at {args.compare}"
    now, before = process_pair([*py, "check", "main"], [*py, "check", "main"], old_env, path)
    row(rows, "`check` whole process (python -m)", now, label, before)
    rec = next(r for r in records if r.cures)
    scope = ["scope", rec.id, "--tags", "--no-apply-check"]
    now, before = process_pair([*py, *scope], [*py, *scope], old_env, path, repeat=3)
    row(rows, "`scope <id> --tags` whole process (python -m)", now, label, before)


def ensure_repo(work: Path, size: int) -> Path:
    path = work / f"repo-{size}"
    if not (path / "HEAD").exists():
        t = time.perf_counter()
        print(f"generating {path} ({size:,} commits) ...", file=sys.stderr)
        generate(str(path), size)
        git(path, "commit-graph", "write", "--reachable")
        print(f"  generated in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return path


def ensure_records(path: Path, count: int, seed: int) -> list[Record]:
    repo = SourceRepo.discover(str(path))
    store = PoisonStore(repo, fetch=False)
    have = store.load().active
    if len(have) >= count:
        return sorted(have, key=lambda r: r.id)[:count]
    rng = random.Random(seed)
    commits = git(path, "rev-list", "--all").split()
    stamp = now_iso()
    records = []
    for i in range(count - len(have)):
        poison = rng.choice(commits)
        cures = (rng.choice(commits),) if rng.random() < 0.4 else ()
        records.append(
            Record(
                id=f"bench{i:06d}",
                poisons=(poison,),
                cures=cures,
                comment=f"benchmark record {i}",
                editor="Bench <b@example.com>",
                created=stamp,
                updated=stamp,
            )
        )
    store.write(
        lambda snap: records, f"benchmark: {len(records)} records", ("Bench", "bench@example.com")
    )
    return sorted([*have, *records], key=lambda r: r.id)[:count]


def row(
    rows: list[dict[str, Any]],
    question: str,
    ours: float,
    baseline: str,
    base: float | None,
    note: str = "",
) -> None:
    ratio = (
        "-"
        if not (base and ours)
        else (f"{base / ours:,.0f}x" if base / ours >= 10 else f"{base / ours:.1f}x")
    )
    rows.append(
        {
            "question": question,
            "git-poison s": round(ours, 4),
            "baseline": baseline,
            "baseline s": None if base is None else round(base, 4),
            "speed-up": ratio,
            "note": note,
        }
    )
    b = "n/a" if base is None else f"{base:9.3f}"
    print(f"  {question:<48} {ours:8.3f} s | {baseline:<40} {b} s | {ratio:>8} {note}", flush=True)


def bench(path: Path, records: list[Record], args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if args.compare:
        compare(path, records, args, rows)
        if args.compare_only:
            return rows
    repo = SourceRepo.discover(str(path))
    main = git(path, "rev-parse", "main").strip()
    poisons = [r.poisons[0] for r in records]

    # -- the index: built from scratch, then updated after 100 new commits -----------
    build_code = (
        "import json, resource, sys, time; t = time.perf_counter(); "
        "from poison_tools.git import SourceRepo; "
        "from poison_tools.reach.index import IndexedReach; "
        "g = IndexedReach(SourceRepo.discover('.')).graph; "
        "print(json.dumps([time.perf_counter() - t, g.size, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024]))"
    )
    Path(index_path(repo)).unlink(missing_ok=True)
    build_s, size, build_rss = json.loads(
        subprocess.run(
            [sys.executable, "-c", build_code],
            cwd=path,
            capture_output=True,
            text=True,
            check=True,
            env=ENV,
        ).stdout
    )
    walk_s, _ = timed(lambda: git(path, "rev-list", "--parents", "--all"), repeat=1)
    row(
        rows,
        f"index built from scratch ({size:,} commits)",
        build_s,
        "git rev-list --parents --all (one walk)",
        walk_s,
        f"max RSS {build_rss} MB",
    )
    update_s = _update_after_100(path)
    row(rows, "index updated after 100 new commits", update_s, "rebuild from scratch", build_s)

    # -- 1,000 poisons against one commit ----------------------------------------------
    naive_n, naive_t = 0, 0.0
    start = time.perf_counter()
    while naive_n < len(poisons) and time.perf_counter() - start < args.naive_budget:
        t = time.perf_counter()
        subprocess.run(["git", "merge-base", "--is-ancestor", poisons[naive_n], main], cwd=path)
        naive_t += time.perf_counter() - t
        naive_n += 1
    naive = naive_t / naive_n * len(poisons)
    git(
        path,
        "update-ref",
        "--stdin",
        input="".join(f"create refs/bench-poison/{i} {p}\n" for i, p in enumerate(poisons)),
    )
    tip_commits = list(
        dict.fromkeys(
            line.split()[1] if len(line.split()) > 1 else line.split()[0]
            for line in git(
                path,
                "for-each-ref",
                "--format=%(objectname) %(*objectname)",
                "refs/heads",
                "refs/tags",
            ).splitlines()
        )
    )
    try:
        batch, _ = timed(
            lambda: git(path, "for-each-ref", f"--merged={main}", "refs/bench-poison/"), repeat=3
        )
        # The records x refs matrix with git: the batch above once per ref, timed on
        # as many refs as fit in the budget and scaled to all of them.
        m_n, m_t, start = 0, 0.0, time.perf_counter()
        while m_n < len(tip_commits) and time.perf_counter() - start < args.naive_budget:
            t = time.perf_counter()
            git(path, "for-each-ref", f"--merged={tip_commits[m_n]}", "refs/bench-poison/")
            m_t += time.perf_counter() - t
            m_n += 1
        matrix_git = m_t / m_n * len(tip_commits)
    finally:
        git(
            path,
            "update-ref",
            "--stdin",
            input="".join(f"delete refs/bench-poison/{i}\n" for i in range(len(poisons))),
        )
    inproc, answer = timed(lambda: IndexedReach(repo).ancestors(main, poisons))
    note = (
        f"naive: {naive_n} calls timed, scaled to {len(poisons)}" if naive_n < len(poisons) else ""
    )
    row(
        rows,
        f"{len(poisons)} poisons vs one commit (in-process)",
        inproc,
        "naive: one merge-base --is-ancestor each",
        naive,
        note,
    )
    row(
        rows,
        f"{len(poisons)} poisons vs one commit (in-process)",
        inproc,
        "best git: temp refs + for-each-ref --merged",
        batch,
    )
    ours_m, _ = timed(lambda: IndexedReach(repo).ancestors_many(tip_commits, poisons), repeat=1)
    row(
        rows,
        f"{len(poisons)} poisons x {len(tip_commits)} refs matrix (in-process)",
        ours_m,
        "best git batch once per ref",
        matrix_git,
        f"git: {m_n} refs timed, scaled" if m_n < len(tip_commits) else "",
    )
    check_s, rc, check_rss = process_median(["git", "poison", "--no-fetch", "check", "main"], path)
    row(
        rows,
        f"`git poison check` whole process ({len(records)} records)",
        check_s,
        "naive: one merge-base --is-ancestor each",
        naive,
        f"exit {rc}, max RSS {check_rss} MB",
    )
    row(
        rows,
        f"`git poison check` whole process ({len(records)} records)",
        check_s,
        "best git: temp refs + for-each-ref --merged",
        batch,
    )
    if args.walk_baseline:
        walk_env = {**ENV, "GIT_POISON_INDEX": "0"}
        gw, _, _ = process_median(
            ["git", "poison", "--no-fetch", "check", "main"], path, repeat=1, env=walk_env
        )
        row(
            rows,
            "`git poison check` whole process",
            check_s,
            "git-poison without index (GitWalk)",
            gw,
        )

    # -- one commit against every ref --------------------------------------------------
    commits = git(path, "rev-list", "--first-parent", "main").split()
    for label, commit in (
        ("recent", commits[len(commits) // 100]),
        ("middle", commits[len(commits) // 2]),
        ("old", commits[-len(commits) // 100]),
    ):
        ours, refs = timed(
            lambda c=commit: IndexedReach(repo).refs_containing(  # type: ignore[misc]
                c, ["refs/heads", "refs/tags"]
            ),
            repeat=3,
        )
        try:
            theirs, out = timed(
                lambda c=commit: git(  # type: ignore[misc]
                    path,
                    "for-each-ref",
                    f"--contains={c}",
                    "refs/heads",
                    "refs/tags",
                    timeout=args.git_timeout,
                ),
                repeat=1,
            )
            assert len(out.splitlines()) == len(refs), (label, len(out.splitlines()), len(refs))
            base: float | None = theirs
        except subprocess.TimeoutExpired:
            base = None
        row(
            rows,
            f"{label} commit vs all refs ({len(refs)} contain it)",
            ours,
            "git for-each-ref --contains",
            base,
            "" if base is not None else f"git gave up after {args.git_timeout:.0f} s",
        )

    # -- scope of one record over every branch and tag ---------------------------------
    rec = next(r for r in records if r.cures)
    scope_s, rc, scope_rss = process_median(
        ["git", "poison", "--no-fetch", "scope", rec.id, "--tags", "--no-apply-check"],
        path,
        repeat=3,
    )
    contains = [
        timed(
            lambda c=c: git(
                path,
                "for-each-ref",
                f"--contains={c}",  # type: ignore[misc]
                "refs/heads",
                "refs/tags",
            ),
            repeat=1,
        )[0]
        for c in (*rec.poisons, *rec.cures)
    ]
    row(
        rows,
        "`git poison scope <id> --tags` whole process",
        scope_s,
        "git for-each-ref --contains per commit",
        sum(contains),
        f"exit {rc}, max RSS {scope_rss} MB",
    )
    count_s, _ = timed(lambda: git(path, "rev-list", "--count", "main"), repeat=1)
    print(
        f"  (for scale: git rev-list --count main takes {count_s:.3f} s; "
        f"{answer and len(answer.reachable)} of {len(poisons)} poisons reach main)"
    )
    if size >= 900_000:
        print_targets(
            [
                ("`git poison check` whole process < 0.4 s", check_s, check_s < 0.4),
                ("reachability part < 50 ms", inproc, inproc < 0.05),
                ("... at least 4x the best git batch", batch / inproc, batch / inproc >= 4),
                ("... at least 1,000x the naive way", naive / inproc, naive / inproc >= 1000),
                ("`git poison scope <id>` (branches and tags) < 0.5 s", scope_s, scope_s < 0.5),
                ("index built from scratch < 15 s", build_s, build_s < 15),
                ("index updated after 100 new commits < 1 s", update_s, update_s < 1),
                ("memory at build < 500 MB", build_rss, build_rss < 500),
                (
                    "memory answering (check, scope) < 150 MB",
                    max(check_rss, scope_rss),
                    max(check_rss, scope_rss) < 150,
                ),
            ]
        )
    return rows


def print_targets(checks: list[tuple[str, float, bool]]) -> None:
    """Issue 3's targets (1,000,000 commits, warm index) against this run's figures."""
    print("  targets (issue 3), this run:")
    for label, value, met in checks:
        shown = (
            f"{value:,.0f}x"
            if "x the" in label
            else (f"{value:.0f} MB" if "MB" in label else f"{value:.3f} s")
        )
        print(f"    {label:<54} {shown:>10}  {'met' if met else 'NOT MET'}")


def _update_after_100(path: Path) -> float:
    """Add 100 commits on a new branch, time the index update, remove the branch."""
    stamp = int(time.time())
    lines = ["reset refs/heads/bench-update\nfrom refs/heads/main^0\n\n"]
    for i in range(100):
        msg = f"update {stamp} {i}"
        lines.append(
            f"commit refs/heads/bench-update\ncommitter B <b@example.com> {stamp} +0000\n"
            f"data {len(msg)}\n{msg}\n\n"
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=path, input="".join(lines), text=True, check=True
    )
    tip = git(path, "rev-parse", "refs/heads/bench-update").strip()
    code = (
        "import sys, time, json; from poison_tools.git import SourceRepo; "
        "from poison_tools.reach.index import IndexedReach; r = IndexedReach(SourceRepo.discover('.')); "
        "r.graph; t = time.perf_counter(); a = r.ancestors(sys.argv[1], [sys.argv[1]]); "
        "print(json.dumps(time.perf_counter() - t))"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code, tip],
            cwd=path,
            capture_output=True,
            text=True,
            check=True,
            env=ENV,
        ).stdout
    finally:
        git(path, "update-ref", "-d", "refs/heads/bench-update")
    return float(json.loads(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument(
        "--naive-budget",
        type=float,
        default=30.0,
        help="seconds of one-merge-base-per-record before scaling (default 30)",
    )
    ap.add_argument(
        "--git-timeout",
        type=float,
        default=120.0,
        help="give git for-each-ref --contains this long (default 120 s)",
    )
    ap.add_argument(
        "--walk-baseline",
        action="store_true",
        help="also time `git poison check` with GIT_POISON_INDEX=0",
    )
    ap.add_argument(
        "--compare",
        metavar="REV",
        help="also run `check` and `scope` as of git revision REV, alternately "
        "with the current code (a before/after in the same run)",
    )
    ap.add_argument(
        "--compare-only",
        action="store_true",
        help="with --compare: only that comparison, not the git baselines",
    )
    ap.add_argument("--work", default=str(HERE / ".work"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} cores, {_cpu()}, git {git(work, 'version').split()[-1]}, "
        f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}"
    )
    results = {}
    for size in (int(s) for s in args.sizes.split(",")):
        path = ensure_repo(work, size)
        records = ensure_records(path, args.records, args.seed)
        refs = len(git(path, "for-each-ref").splitlines())
        print(f"\n{size:,} commits, {refs} refs, {len(records)} records ({path})")
        print(
            f"  {'question':<48} {'git-poison':>10} | {'baseline':<40} {'time':>11} | {'ratio':>8}"
        )
        results[size] = bench(path, records, args)
    name = "results-compare.json" if args.compare_only else "results.json"
    (work / name).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    raise SystemExit(main())
