"""A synthetic history with real diffs, deterministic for a seed, written with `git fast-import`.

Unlike `gen_history.py` (commits without files), every commit here edits lines of
source files, so `git log -p` and `git patch-id` have real work: a mainline of direct
commits and `--no-ff` merges of 1-6-commit feature branches, many feature branches
left unmerged (the project of issue 12 had 680 branches), release branches `rel/N`
receiving cherry-picks of mainline commits without `-x` (same author, date and message,
as `git cherry-pick` keeps them; a third of mainline commits carry a Change-Id), tags.

    python bench/gen_diffs.py DIR --commits 20000 [--seed 1] [--branches 680] [--tags 330]

The marks file `DIR/marks` maps fast-import marks to SHAs; `DIR/picks` lists
"<original mark> <pick mark>" per cherry-pick (the bench records poisons among them).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from collections.abc import Iterator

LINES = (40, 400)  # lines per file: between these


def stream(
    commits: int, seed: int, branches: int, tags: int, picks: list[tuple[int, int]]
) -> Iterator[bytes]:
    rng = random.Random(seed)
    nfiles = max(100, commits // 40)
    paths = [f"src/mod{i % 37}/file{i}.c" for i in range(nfiles)]
    main: dict[str, tuple[str, ...]] = {}
    when = 1_600_000_000
    n = 0
    out: list[bytes] = []
    # Mainline commits that can be picked: (mark, path, line, text, author stamp, message).
    pickable: list[tuple[int, str, int, str, str, str]] = []
    releases: list[tuple[str, int, dict[str, tuple[str, ...]]]] = []
    rel_every = max(200, commits // 30)
    tag_every = max(20, commits // max(1, tags))
    # About commits / 6 feature branches are made: keep `branches` of them unmerged.
    keep = min(0.5, max(0, branches - commits // rel_every) * 6 / max(1, commits))
    next_tag = tag_every

    def commit(
        ref: str,
        msg: str,
        parents: list[int],
        files: dict[str, tuple[str, ...]],
        author: str | None = None,
    ) -> int:
        nonlocal n, when
        n += 1
        when += rng.randint(-30, 120)
        stamp = (
            author or f"Dev{rng.randrange(40)} <dev{rng.randrange(40)}@example.com> {when} +0000"
        )
        body = msg.encode()
        chunk = [
            f"commit {ref}\nmark :{n}\nauthor {stamp}\n"
            f"committer Bench <bench@example.com> {when} +0000\n".encode(),
            b"data %d\n" % len(body),
            body,
            b"\n",
        ]
        if parents:
            chunk.append(b"from :%d\n" % parents[0])
            for p in parents[1:]:
                chunk.append(b"merge :%d\n" % p)
        for path, lines in files.items():
            data = "".join(lines).encode()
            chunk.append(
                f"M 100644 inline {path}\n".encode() + b"data %d\n" % len(data) + data + b"\n"
            )
        out.append(b"".join(chunk))
        return n

    sizes = [rng.randint(*LINES) for _ in paths]

    def fresh(k: int) -> tuple[str, ...]:
        return tuple(
            f"    total += compute_{k}_{i}(state, {i} * factor);  /* step {i} */\n"
            for i in range(sizes[k])
        )

    def edit(state: dict[str, tuple[str, ...]]) -> tuple[str, int, str, tuple[str, ...]]:
        k = rng.randrange(len(paths))
        path = paths[k]
        lines = list(state.get(path) or fresh(k))
        i = rng.randrange(len(lines))
        text = f"    int v{n}_{i} = {rng.randrange(1 << 30)};  /* changed in {n} */\n"
        lines[i] = text
        return path, i, text, tuple(lines)

    tip = commit("refs/heads/main", "initial import", [], {})
    while n < commits:
        roll = rng.random()
        if roll < 0.45:
            changes = {}
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                path, i, text, lines = edit(main)
                main[path] = changes[path] = lines
            stamp = f"Dev{rng.randrange(40)} <dev@example.com> {when} +0000"
            msg = f"fix {n}: adjust {path}"
            if n % 3 == 0:  # Gerrit-style: a pick keeps the Change-Id
                msg += f"\n\nChange-Id: I{n:040x}"
            tip = commit("refs/heads/main", msg, [tip], changes, stamp)
            if len(changes) == 1:
                pickable.append((tip, path, i, text, stamp, msg))
                del pickable[:-3000]
        elif roll < 0.85:
            fork, state, touched = tip, dict(main), {}
            ref = "refs/heads/feature/tmp"
            out.append(f"reset {ref}\nfrom :{fork}\n\n".encode())
            ftip = fork
            for _ in range(rng.randint(1, 6)):
                path, _i, _t, lines = edit(state)
                state[path] = touched[path] = lines
                ftip = commit(ref, f"feature work {n} on {path}", [ftip], {path: lines})
            if rng.random() >= keep:
                main.update(touched)
                tip = commit("refs/heads/main", f"Merge branch 'feature-{n}'", [tip, ftip], touched)
            else:
                out.append(f"reset refs/heads/feature/f{n}\nfrom :{ftip}\n\n".encode())
        elif releases and pickable:
            k = rng.randrange(len(releases))
            name, rtip, state = releases[k]
            mark, path, i, text, stamp, msg = rng.choice(pickable)
            lines = list(state.get(path) or fresh(paths.index(path)))
            lines[i] = text
            state[path] = tuple(lines)
            rtip = commit(f"refs/heads/{name}", msg, [rtip], {path: state[path]}, stamp)
            picks.append((mark, rtip))
            releases[k] = (name, rtip, state)
        if n // rel_every > len(releases):
            name = f"rel/{len(releases) + 1}"
            out.append(f"reset refs/heads/{name}\nfrom :{tip}\n\n".encode())
            releases.append((name, tip, dict(main)))
        if n >= next_tag:
            next_tag += tag_every
            out.append(f"reset refs/tags/v{n}\nfrom :{tip}\n\n".encode())
        if len(out) > 2048:
            yield b"".join(out)
            out.clear()
    for name, rtip, _ in releases:
        out.append(f"reset refs/tags/{name}.0\nfrom :{rtip}\n\n".encode())
    yield b"".join(out)


def generate(path: str, commits: int, seed: int = 1, branches: int = 680, tags: int = 330) -> None:
    path = os.path.abspath(path)
    subprocess.run(["git", "init", "-q", "--bare", path], check=True)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done", f"--export-marks={path}/marks"],
        cwd=path,
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    picks: list[tuple[int, int]] = []
    for chunk in stream(commits, seed, branches, tags, picks):
        proc.stdin.write(chunk)
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "update-ref", "-d", "refs/heads/feature/tmp"], cwd=path, check=True)
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=path, check=True)
    with open(f"{path}/picks", "w") as f:
        f.writelines(f"{a} {b}\n" for a, b in picks)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--commits", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--branches", type=int, default=680)
    ap.add_argument("--tags", type=int, default=330)
    args = ap.parse_args()
    generate(args.path, args.commits, args.seed, args.branches, args.tags)
    print(f"generated {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
