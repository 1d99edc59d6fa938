"""A synthetic history, deterministic for a seed, written with `git fast-import`.

Shape: a mainline (`main`) that grows by direct commits and by `--no-ff` merges of
short feature branches; long-term-support branches (`lts/N`) forking off the mainline
at intervals and receiving cherry-picked copies of mainline commits; release tags on
the mainline and on each LTS branch; some feature branches left unmerged. Commits
carry no files (reachability does not look at trees), which keeps generation fast.

    python bench/gen_history.py DIR --commits 100000 [--seed 1] [--refs 3000]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import IO


def stream(commits: int, seed: int, refs: int) -> Iterator[bytes]:
    """The fast-import stream; yields chunks. Marks are commit numbers from 1."""
    rng = random.Random(seed)
    when = 1_600_000_000
    n = 0
    main_tip = 0
    lts: list[tuple[str, int]] = []  # (name, tip mark)
    # Ref budget: about half tags, a quarter LTS tags and branches, the rest features.
    lts_every = max(50, commits // max(1, refs // 40))
    tag_every = max(20, commits // max(1, refs // 2))
    keep_feature_every = max(2, (commits // 12) // max(1, refs // 4))
    features_made = 0
    out: list[bytes] = []

    def commit(ref: str, msg: str, parents: list[int]) -> int:
        nonlocal n, when
        n += 1
        # Clock skew on purpose: dates are not trustworthy and must never be used.
        when += rng.randint(-30, 120)
        body = msg.encode()
        head = f"commit {ref}\nmark :{n}\ncommitter Bench <bench@example.com> {when} +0000\n"
        chunk = head.encode() + b"data %d\n" % len(body) + body + b"\n"
        if parents:
            chunk += b"from :%d\n" % parents[0]
            for p in parents[1:]:
                chunk += b"merge :%d\n" % p
        out.append(chunk)
        return n

    out.append(b"reset refs/heads/main\n\n")
    main_tip = commit("refs/heads/main", "root", [])
    while n < commits:
        roll = rng.random()
        if roll < 0.35:
            main_tip = commit("refs/heads/main", f"main {n}", [main_tip])
        elif roll < 0.9:
            # A feature branch of 1-8 commits, merged back --no-ff (most of the time).
            fork = main_tip
            ref = "refs/heads/feature/tmp"
            out.append(f"reset {ref}\nfrom :{fork}\n\n".encode())
            tip = fork
            for _ in range(rng.randint(1, 8)):
                tip = commit(ref, f"feature {n}", [tip])
            features_made += 1
            if rng.random() < 0.97:
                # Sometimes the mainline moved on meanwhile.
                if rng.random() < 0.3:
                    main_tip = commit("refs/heads/main", f"main {n}", [main_tip])
                main_tip = commit("refs/heads/main", f"Merge feature {n}", [main_tip, tip])
            if features_made % keep_feature_every == 0:
                out.append(f"reset refs/heads/feature/f{features_made}\nfrom :{tip}\n\n".encode())
        else:
            if lts and rng.random() < 0.8:
                i = rng.randrange(len(lts))
                name, tip = lts[i]
                picked = rng.randint(max(1, main_tip - 5000), main_tip)
                tip = commit(
                    f"refs/heads/{name}",
                    f"backport\n\n(cherry picked from commit :{picked})",
                    [tip],
                )
                lts[i] = (name, tip)
                if rng.random() < 0.05:
                    out.append(f"reset refs/tags/{name}.{n}\nfrom :{tip}\n\n".encode())
            if n // lts_every > len(lts):
                name = f"lts/{len(lts) + 1}"
                out.append(f"reset refs/heads/{name}\nfrom :{main_tip}\n\n".encode())
                lts.append((name, main_tip))
        if n % tag_every == 0:
            out.append(f"reset refs/tags/v{n}\nfrom :{main_tip}\n\n".encode())
        if len(out) > 4096:
            yield b"".join(out)
            out.clear()
    yield b"".join(out)


def generate(
    path: str, commits: int, seed: int = 1, refs: int = 3000, log: IO[str] | None = None
) -> None:
    subprocess.run(["git", "init", "-q", "--bare", path], check=True)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    for chunk in stream(commits, seed, refs):
        proc.stdin.write(chunk)
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    # The scratch ref the feature branches were built on is not part of the shape.
    subprocess.run(["git", "update-ref", "-d", "refs/heads/feature/tmp"], cwd=path)
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=path, check=True)
    if log:
        print(f"generated {path}", file=log)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--refs", type=int, default=3000)
    args = ap.parse_args()
    generate(args.path, args.commits, args.seed, args.refs, sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
