"""git's commit-graph read directly: the same commits and parents as rev-list, or an error.

Histories are written with `git fast-import` (commits without files, as in
bench/gen_history.py) and their graphs with `git commit-graph write`. The truth each
read is held to is `git rev-list --parents --all` with the commit-graph switched off, so
that git parses the commit objects themselves.
"""

from __future__ import annotations

import hashlib
import random
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poison_tools.reach.commit_graph import CorruptGraph, Parents, read
from tests.gitrepo import Repo, git

History = dict[str, tuple[str, ...]]  # commit -> its parents, in order


def fast_import(git_dir: Path, parents: list[list[int]], start: int = 0) -> list[str]:
    """Commits `start..` of a history where commit i has the (earlier) commits
    `parents[i]`, each commit that nothing yet descends from a branch. Commits before
    `start` were imported by an earlier call. Returns all commits' names."""
    if not git_dir.exists():
        git(git_dir.parent, "init", "-q", "--bare", git_dir.name)
    has_child = {p for ps in parents for p in ps}
    chunks = []
    for i in range(start, len(parents)):
        # A commit's name depends on its message and date: both differ per commit.
        when = 1_600_000_000 + 60 * i + (i * 7919) % 600  # some clock skew
        head = f"commit refs/heads/scratch\nmark :{i + 1}\n"
        if not parents[i]:
            head = "reset refs/heads/scratch\n\n" + head
        chunks.append(
            f"{head}committer C <c@example.com> {when} +0000\ndata <<END\ncommit {i}\nEND\n"
        )
        for k, p in enumerate(parents[i]):
            chunks.append(f"{'from' if k == 0 else 'merge'} :{p + 1}\n")
        chunks.append("\n")
    chunks += [
        f"reset refs/heads/tip{i}\nfrom :{i + 1}\n\n"
        for i in range(start, len(parents))
        if i not in has_child
    ]
    marks = git_dir / "marks"
    subprocess.run(
        [
            "git",
            "fast-import",
            "--quiet",
            "--done",
            "--force",
            f"--export-marks={marks}",
            f"--import-marks-if-exists={marks}",
        ],
        cwd=git_dir,
        check=True,
        input=("".join(chunks) + "done\n").encode(),
    )
    by_mark = dict(line.split() for line in marks.read_text().splitlines())
    return [by_mark[f":{i + 1}"] for i in range(len(parents))]


def random_parents(seed: int, n: int) -> list[list[int]]:
    """Parents of n commits: mostly chains off recent commits, merges of two, a few
    octopus merges of 3-6 parents, and a few new roots."""
    rng = random.Random(seed)
    out: list[list[int]] = []
    for i in range(n):
        roll = rng.random()
        if i == 0 or roll < 0.03:
            out.append([])
            continue
        count = min(i, 1 if roll < 0.7 else 2 if roll < 0.93 else rng.randint(3, 6))
        head = max(0, i - 1 - int(rng.expovariate(0.3)))
        others = rng.sample([c for c in range(i) if c != head], count - 1)
        out.append([head, *others])
    return out


def commit_graph(git_dir: Path, *args: str) -> None:
    git(git_dir, "commit-graph", "write", "--reachable", *args)


def rev_list(git_dir: Path) -> History:
    out = git(git_dir, "-c", "core.commitGraph=false", "rev-list", "--parents", "--all")
    return {line.split()[0]: tuple(line.split()[1:]) for line in out.splitlines()}


def hexes(names: np.ndarray, hash_len: int) -> list[str]:
    return [bytes(row).hex() for row in names.view(np.uint8).reshape(-1, hash_len)]


def history(p: Parents, hash_len: int = 20) -> History:
    """The commits and parents read, checked to be what the index build may rely on:
    each commit once, parent cells grouped by commit, every parent a listed commit that
    comes after its child."""
    names, parents = hexes(p.names, hash_len), hexes(p.parent_names, hash_len)
    line = p.parent_line.tolist()
    assert p.parent_line.dtype == np.intp and len(line) == len(parents)
    assert line == sorted(line) and all(0 <= c < len(names) for c in line)
    where = {name: i for i, name in enumerate(names)}
    assert len(where) == len(names)
    assert all(where[parent] > c for c, parent in zip(line, parents, strict=True))
    out: dict[str, list[str]] = {name: [] for name in names}
    for c, parent in zip(line, parents, strict=True):
        out[names[c]].append(parent)
    return {name: tuple(ps) for name, ps in out.items()}


def objects(git_dir: Path) -> str:
    return str(git_dir / "objects")


def chunks(data: bytes) -> dict[bytes, tuple[int, int]]:
    """Each chunk's (start, end) in a commit-graph file."""
    count = data[6]
    toc = [struct.unpack(">4sQ", data[8 + 12 * i : 20 + 12 * i]) for i in range(count + 1)]
    return {cid: (at, toc[i + 1][1]) for i, (cid, at) in enumerate(toc[:-1])}


def rewrite(path: Path, change: dict[int, bytes]) -> None:
    """Overwrite bytes of a (read-only, as git leaves it) graph file."""
    data = bytearray(path.read_bytes())
    for at, new in change.items():
        data[at : at + len(new)] = new
    path.chmod(0o644)
    path.write_bytes(bytes(data))


@pytest.fixture
def octopus_repo(tmp_path: Path) -> Path:
    """A random history of 300 commits, with octopus merges, and its single-file graph."""
    git_dir = tmp_path / "octo.git"
    fast_import(git_dir, random_parents(7, 300))
    commit_graph(git_dir)
    return git_dir


def graph_file(git_dir: Path) -> Path:
    return git_dir / "objects" / "info" / "commit-graph"


def test_repository_without_a_commit_graph_reads_as_none(tmp_path: Path) -> None:
    git_dir = tmp_path / "r.git"
    fast_import(git_dir, [[], [0]])
    assert read(objects(git_dir), 20) is None


def test_linear_history_made_with_git_commit(repo: Repo) -> None:
    for _ in range(5):
        repo.commit()
    git_dir = repo.path / ".git"
    commit_graph(git_dir)
    p = read(objects(git_dir), 20)
    assert p is not None and p.size == 6 and p.generations
    assert history(p) == rev_list(git_dir)
    assert hexes(p.names, 20)[0] == repo.rev("HEAD")  # tips first
    assert p.files == (str(graph_file(git_dir)),)


def test_branches_merged_with_git_merge(repo: Repo) -> None:
    for name in ("topic", "fix"):
        repo.branch(name)
        repo.checkout(name)
        repo.commit()
        repo.commit()
        repo.checkout("master")
        repo.commit()
        repo.git("merge", "-q", "--no-ff", "-m", f"merge {name}", name)
    repo.branch("unmerged", "HEAD~2")
    git_dir = repo.path / ".git"
    commit_graph(git_dir)
    p = read(objects(git_dir), 20)
    assert p is not None
    assert history(p) == rev_list(git_dir)


def test_octopus_merge_keeps_git_parent_order(tmp_path: Path) -> None:
    git_dir = tmp_path / "o.git"
    # Parents in an order that is neither sorted by name nor by position.
    names = fast_import(git_dir, [[], [0], [0], [1], [2], [0], [4, 1, 5, 3, 2], [6]])
    commit_graph(git_dir)
    p = read(objects(git_dir), 20)
    assert p is not None
    got = history(p)
    assert got == rev_list(git_dir)
    assert got[names[6]] == tuple(names[i] for i in (4, 1, 5, 3, 2))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_histories_read_as_rev_list_lists_them(tmp_path: Path, seed: int) -> None:
    git_dir = tmp_path / "r.git"
    fast_import(git_dir, random_parents(seed, 400))
    commit_graph(git_dir)
    p = read(objects(git_dir), 20, checksum=True)
    assert p is not None and p.generations
    assert history(p) == rev_list(git_dir)


def test_split_chain_of_three_layers(tmp_path: Path) -> None:
    git_dir = tmp_path / "split.git"
    parents = random_parents(11, 400)
    # Later layers hold merges and octopus merges whose parents are in earlier ones.
    parents[250] = [249, 10, 120, 200]
    parents[330] = [329, 260, 5]
    for start, end, how in (
        (0, 200, "--split"),
        (200, 300, "--split=no-merge"),
        (300, 400, "--split=no-merge"),
    ):
        fast_import(git_dir, parents[:end], start)
        commit_graph(git_dir, how)
    graphs = git_dir / "objects" / "info" / "commit-graphs"
    chain = (graphs / "commit-graph-chain").read_text().split()
    assert len(chain) == 3 and not graph_file(git_dir).exists()
    p = read(objects(git_dir), 20, checksum=True)
    assert p is not None and p.generations
    assert history(p) == rev_list(git_dir)
    assert p.files == tuple(str(graphs / f"graph-{h}.graph") for h in chain)


def test_stale_graph_holds_only_the_commits_written(tmp_path: Path) -> None:
    git_dir = tmp_path / "stale.git"
    parents = random_parents(5, 200)
    fast_import(git_dir, parents[:150])
    commit_graph(git_dir)
    written = rev_list(git_dir)
    fast_import(git_dir, parents, 150)
    p = read(objects(git_dir), 20)
    assert p is not None
    assert history(p) == written and len(rev_list(git_dir)) == 200


def test_sha256_repository(tmp_path: Path) -> None:
    git_dir = tmp_path / "sha256.git"
    git(tmp_path, "init", "-q", "--bare", "--object-format=sha256", git_dir.name)
    fast_import(git_dir, random_parents(3, 100))
    commit_graph(git_dir)
    p = read(objects(git_dir), 32, checksum=True)
    assert p is not None and p.names.dtype == np.dtype("S32")
    assert history(p, 32) == rev_list(git_dir)
    with pytest.raises(CorruptGraph, match="hash version"):
        read(objects(git_dir), 20)


def test_sha1_graph_read_as_sha256_is_refused(octopus_repo: Path) -> None:
    with pytest.raises(CorruptGraph, match="hash version"):
        read(objects(octopus_repo), 32)


# Damage, each kind on its own: every one is refused with its own message.


def cdat_offset(data: bytes, i: int, field: int) -> int:
    """Where commit i's field is: 0 tree, 20 first parent, 24 second, 28 level."""
    return chunks(data)[b"CDAT"][0] + 36 * i + field


def test_truncated_file_is_refused(octopus_repo: Path) -> None:
    path = graph_file(octopus_repo)
    data = path.read_bytes()
    for size in (0, 10, 1100, len(data) // 2, len(data) - 1):
        path.chmod(0o644)
        path.write_bytes(data[:size])
        with pytest.raises(CorruptGraph):
            read(objects(octopus_repo), 20)


@pytest.mark.parametrize(
    ("at", "new", "message"),
    [
        (lambda d: 0, b"XGPH", "signature"),
        (lambda d: 4, b"\x02", "version"),
        (lambda d: 7, b"\x01", "base graphs"),
        (lambda d: 8, b"XIDF", "no OIDF chunk"),
        (lambda d: 8 + 12 + 4, struct.pack(">Q", 10**6), "offsets"),
        (lambda d: chunks(d)[b"OIDF"][0] + 4 * 100, b"\xff\xff\xff\xff", "fanout"),
        (lambda d: chunks(d)[b"OIDF"][0] + 4 * 100, b"\x00\x00\x00\x00", "fanout"),
        (lambda d: chunks(d)[b"OIDL"][0], b"\xff", "not sorted"),
        (lambda d: cdat_offset(d, 5, 20), struct.pack(">I", 300), "parent positions"),
        (lambda d: cdat_offset(d, 5, 24), struct.pack(">I", 0x6FFFFFFF), "parent positions"),
        (lambda d: cdat_offset(d, 0, 20), struct.pack(">II", 0x70000000, 1), "parent positions"),
        (lambda d: chunks(d)[b"EDGE"][0], struct.pack(">I", 0x80000000 | 400), "octopus parent"),
        (lambda d: chunks(d)[b"EDGE"][1] - 4, b"\x00", "run past"),
    ],
)
def test_damaged_file_is_refused(
    octopus_repo: Path, at: Callable[[bytes], int], new: bytes, message: str
) -> None:
    path = graph_file(octopus_repo)
    rewrite(path, {at(path.read_bytes()): new})
    with pytest.raises(CorruptGraph, match=message):
        read(objects(octopus_repo), 20)


def positions(data: bytes) -> dict[str, int]:
    start, end = chunks(data)[b"OIDL"]
    return {data[at : at + 20].hex(): i for i, at in enumerate(range(start, end, 20))}


def test_levels_that_do_not_fall_towards_parents_are_refused(octopus_repo: Path) -> None:
    path = graph_file(octopus_repo)
    data = path.read_bytes()
    parent = positions(data)[git(octopus_repo, "rev-parse", "tip299^")]
    rewrite(path, {cdat_offset(data, parent, 28): struct.pack(">I", 0x3FFF0000 << 2)})
    with pytest.raises(CorruptGraph, match="level"):
        read(objects(octopus_repo), 20)


def without_levels(path: Path, level: int = 0) -> None:
    """Every level zero, as git before 2.19 wrote graphs (or all `level`); dates kept."""
    data = path.read_bytes()
    rewrite(
        path,
        {
            cdat_offset(data, i, 28): struct.pack(
                ">I", level << 2 | data[cdat_offset(data, i, 31)] & 3
            )
            for i in range(len(positions(data)))
        },
    )


@pytest.mark.parametrize("level", [0, 0x3FFFFFFF])  # none, or all capped (2^30 deep)
def test_graph_without_usable_levels_is_ordered_here(octopus_repo: Path, level: int) -> None:
    without_levels(graph_file(octopus_repo), level)
    p = read(objects(octopus_repo), 20)
    assert p is not None and not p.generations
    assert history(p) == rev_list(octopus_repo)


def test_parents_forming_a_cycle_are_refused(octopus_repo: Path) -> None:
    path = graph_file(octopus_repo)
    without_levels(path)  # else the levels alone give the cycle away
    data = path.read_bytes()
    at = positions(data)
    tip = git(octopus_repo, "rev-parse", "tip299")
    parent = git(octopus_repo, "rev-parse", "tip299^")
    rewrite(path, {cdat_offset(data, at[parent], 20): struct.pack(">I", at[tip])})
    with pytest.raises(CorruptGraph, match="cycle"):
        read(objects(octopus_repo), 20)


def test_checksum_is_checked_only_on_request(octopus_repo: Path) -> None:
    path = graph_file(octopus_repo)
    rewrite(path, {cdat_offset(path.read_bytes(), 3, 0): b"\x00" * 20})  # a tree: unused
    p = read(objects(octopus_repo), 20)
    assert p is not None and history(p) == rev_list(octopus_repo)
    with pytest.raises(CorruptGraph, match="checksum"):
        read(objects(octopus_repo), 20, checksum=True)


@pytest.fixture
def chain_repo(tmp_path: Path) -> Path:
    """A random history in a commit-graph chain of two layers."""
    git_dir = tmp_path / "chain.git"
    parents = random_parents(13, 200)
    fast_import(git_dir, parents[:150])
    commit_graph(git_dir, "--split")
    fast_import(git_dir, parents, 150)
    commit_graph(git_dir, "--split=no-merge")
    return git_dir


def chain_files(git_dir: Path) -> tuple[Path, list[str]]:
    graphs = git_dir / "objects" / "info" / "commit-graphs"
    return graphs / "commit-graph-chain", (graphs / "commit-graph-chain").read_text().split()


def test_chain_missing_a_layer_is_refused(chain_repo: Path) -> None:
    chain, layers = chain_files(chain_repo)
    (chain.parent / f"graph-{layers[0]}.graph").unlink()
    with pytest.raises(CorruptGraph, match="missing"):
        read(objects(chain_repo), 20)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (lambda layers: "".join(f"{h}\n" for h in reversed(layers)), "base graphs"),
        (lambda layers: f"{layers[0]}\n{layers[0]}\n", "base graphs"),
        (lambda layers: f"{layers[0]}\nnot a hash\n", "not a hash"),
        (lambda layers: f"{layers[0]}\n{layers[1]}", "not a list"),
        (lambda layers: "", "not a list"),
    ],
)
def test_chain_not_matching_its_layers_is_refused(
    chain_repo: Path, text: Callable[[list[str]], str], message: str
) -> None:
    chain, layers = chain_files(chain_repo)
    chain.write_text(text(layers))
    with pytest.raises(CorruptGraph, match=message):
        read(objects(chain_repo), 20)


def test_commit_in_two_layers_is_refused(chain_repo: Path) -> None:
    # A top layer of one commit, renamed to one already in the base (fanout, checksum
    # and chain made to agree, so that only the repeat is wrong).
    chain, _ = chain_files(chain_repo)
    git(
        chain_repo,
        "commit-graph",
        "write",
        "--split=no-merge",
        "--stdin-commits",
        input=fast_import(chain_repo, [*random_parents(13, 200), [0]], 200)[200] + "\n",
    )
    _, layers = chain_files(chain_repo)
    assert len(layers) == 3
    base = (chain.parent / f"graph-{layers[0]}.graph").read_bytes()
    top_path = chain.parent / f"graph-{layers[2]}.graph"
    top = bytearray(top_path.read_bytes())
    again = next(iter(positions(base)))
    fanout, oidl = chunks(bytes(top))[b"OIDF"][0], chunks(bytes(top))[b"OIDL"][0]
    top[oidl : oidl + 20] = bytes.fromhex(again)
    top[fanout : fanout + 1024] = b"".join(
        struct.pack(">I", int(i >= int(again[:2], 16))) for i in range(256)
    )
    top[-20:] = hashlib.sha1(bytes(top[:-20])).digest()
    top_path.unlink()
    (chain.parent / f"graph-{top[-20:].hex()}.graph").write_bytes(bytes(top))
    chain.write_text(f"{layers[0]}\n{layers[1]}\n{top[-20:].hex()}\n")
    with pytest.raises(CorruptGraph, match="also in"):
        read(objects(chain_repo), 20)


# Random damage: refused, or read as well-formed data (and exactly the truth where only
# bytes the reader ignores or merely orders by were hit). Never another exception.


def ignored(data: bytes, at: int) -> bool:
    """Bytes that cannot change which commits and parents are read: trees, levels and
    dates, chunks the reader skips, the checksum."""
    cdat = chunks(data)[b"CDAT"]
    skipped = [
        span
        for cid, span in chunks(data).items()
        if cid not in (b"OIDF", b"OIDL", b"CDAT", b"EDGE", b"BASE")
    ]
    if cdat[0] <= at < cdat[1]:
        return (at - cdat[0]) % 36 not in range(20, 28)
    return at >= len(data) - 20 or any(start <= at < end for start, end in skipped)


@pytest.mark.parametrize("layout", ["single", "chain"])
def test_random_damage_is_refused_or_harmless(tmp_path: Path, layout: str) -> None:
    git_dir = tmp_path / "r.git"
    parents = random_parents(21, 150)
    if layout == "single":
        fast_import(git_dir, parents)
        commit_graph(git_dir)
        path = graph_file(git_dir)
    else:
        fast_import(git_dir, parents[:100])
        commit_graph(git_dir, "--split")
        fast_import(git_dir, parents, 100)
        commit_graph(git_dir, "--split=no-merge")
        chain, layers = chain_files(git_dir)
        path = chain.parent / f"graph-{layers[-1]}.graph"
    truth = rev_list(git_dir)
    data = path.read_bytes()
    path.chmod(0o644)
    assert b"EDGE" in chunks(data)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(
            st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), min_size=1, max_size=4
        )
    )
    def damage(changes: list[tuple[int, int]]) -> None:
        damaged = bytearray(data)
        for at, byte in changes:
            damaged[at] = byte
        path.write_bytes(bytes(damaged))
        if damaged != data:
            with pytest.raises(CorruptGraph):
                read(objects(git_dir), 20, checksum=True)
        try:
            p = read(objects(git_dir), 20)
        except CorruptGraph:
            return
        assert p is not None
        got = history(p)
        if all(ignored(data, at) for at, _ in changes):
            assert got == truth

    damage()
