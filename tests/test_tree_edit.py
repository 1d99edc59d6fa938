"""records.tree_edit: a tree of the poisons repository is rebuilt along the paths written
only, every other entry carried over byte for byte (hostile names that stop `git
read-tree` included); an edit that meets a file where a folder is needed, a folder
where a file is, or two entries of one name is refused, naming the entry escaped."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from poison_tools import git as gitrun
from poison_tools.errors import FatalError
from poison_tools.records.tree_edit import edit_tree
from tests.gitrepo import bare, git

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class Poisons:
    """A bare poisons repository, with helpers to build the trees an edit starts from."""

    def __init__(self, path: Path) -> None:
        self.path = bare(path)

    def __call__(self, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        """The `git` that edit_tree is handed: the real git, checked, on this repository."""
        return gitrun.run(["--git-dir", str(self.path), *args], **kwargs)  # type: ignore[arg-type]

    def blob(self, text: str) -> str:
        return self(["hash-object", "-w", "--stdin"], input=text.encode()).stdout.decode().strip()

    def tree(self, *entries: tuple[str, str, bytes]) -> str:
        """A tree of (mode, oid, name) entries, as they are: duplicates and `..` too."""
        kind = {"040000": "tree", "160000": "commit"}
        text = b"".join(
            f"{mode} {kind.get(mode, 'blob')} {oid}\t".encode() + name + b"\0"
            for mode, oid, name in entries
        )
        return self(["mktree", "-z", "--missing"], input=text).stdout.decode().strip()

    def entries(self, tree: str) -> list[tuple[str, str, str, bytes]]:
        out = self(["ls-tree", "-z", tree]).stdout
        rows = []
        for line in out.split(b"\0"):
            if line:
                meta, _, name = line.partition(b"\t")
                mode, kind, oid = meta.decode().split()
                rows.append((mode, kind, oid, name))
        return rows

    def files(self, tree: str) -> dict[str, str]:
        """path -> content of every blob in `tree`, recursively."""
        out = self(["ls-tree", "-r", "-z", "--name-only", tree]).stdout.decode()
        return {p: git(self.path, "cat-file", "-p", f"{tree}:{p}") for p in out.split("\0") if p}


@pytest.fixture
def poisons(tmp_path: Path) -> Poisons:
    return Poisons(tmp_path / "poisons.git")


def test_the_first_record_makes_the_records_folder(poisons: Poisons) -> None:
    rec = poisons.blob("record a")
    tree = edit_tree(poisons, None, {(b"records", b"a.json"): rec}, top=True)
    assert tree is not None
    assert poisons.files(tree) == {"records/a.json": "record a"}
    assert poisons.entries(tree)[0][:2] == ("040000", "tree")


def test_a_record_written_next_to_others_leaves_them_as_they_are(poisons: Poisons) -> None:
    a, b = poisons.blob("a"), poisons.blob("b")
    base = poisons.tree(
        ("040000", poisons.tree(("100644", a, b"a.json")), b"records"),
        ("100644", poisons.blob("readme"), b"README"),
    )
    tree = edit_tree(poisons, base, {(b"records", b"b.json"): b}, top=True)
    assert tree is not None
    assert poisons.files(tree) == {"README": "readme", "records/a.json": "a", "records/b.json": "b"}


def test_hostile_entries_elsewhere_are_carried_over_byte_for_byte(poisons: Poisons) -> None:
    # `x/../e.json` and `x/.git/e.json` stop `git read-tree`, so any index: anyone with
    # push access could plant them to stop every write. Odd modes and names ride along.
    e = poisons.blob("planted")
    planted = poisons.tree(("100644", e, b"e.json"))
    hostile = poisons.tree(("040000", planted, b".."), ("040000", planted, b".git"))
    others = [
        ("040000", hostile, b"x"),
        ("100755", poisons.blob("#!/bin/sh\n"), b"run.sh"),
        ("120000", poisons.blob("/etc/passwd"), b"link"),
        ("160000", "1" * 40, b"submodule"),
        ("100644", poisons.blob("odd"), b"na\xffme\x1b[2J"),
    ]
    base = poisons.tree(*others)
    index = subprocess.run(
        ["git", "--git-dir", str(poisons.path), "read-tree", base], capture_output=True
    )
    assert index.returncode != 0  # what an index-based write would have met

    tree = edit_tree(poisons, base, {(b"records", b"a.json"): poisons.blob("a")}, top=True)
    assert tree is not None
    kept = [(m, o, n) for m, _, o, n in poisons.entries(tree) if n != b"records"]
    assert sorted(kept) == sorted(others)


def test_a_record_written_again_replaces_the_old_blob(poisons: Poisons) -> None:
    old, new = poisons.blob("old"), poisons.blob("new")
    base = poisons.tree(("040000", poisons.tree(("100644", old, b"a.json")), b"records"))
    tree = edit_tree(poisons, base, {(b"records", b"a.json"): new}, top=True)
    assert tree is not None and poisons.files(tree) == {"records/a.json": "new"}


def test_an_edit_that_changes_nothing_gives_the_same_tree(poisons: Poisons) -> None:
    a = poisons.blob("a")
    base = poisons.tree(("040000", poisons.tree(("100644", a, b"a.json")), b"records"))
    assert edit_tree(poisons, base, {(b"records", b"a.json"): a}, top=True) == base
    assert edit_tree(poisons, base, {(b"records", b"gone.json"): None}, top=True) == base
    assert edit_tree(poisons, base, {(b"nowhere", b"gone.json"): None}, top=True) == base


def test_removing_the_last_file_of_a_folder_removes_the_folder(poisons: Poisons) -> None:
    a = poisons.blob("a")
    base = poisons.tree(
        ("040000", poisons.tree(("100644", a, b"a.json")), b"records"),
        ("100644", poisons.blob("readme"), b"README"),
    )
    tree = edit_tree(poisons, base, {(b"records", b"a.json"): None}, top=True)
    assert tree is not None and poisons.files(tree) == {"README": "readme"}


def test_the_top_tree_exists_even_when_empty(poisons: Poisons) -> None:
    a = poisons.blob("a")
    base = poisons.tree(("040000", poisons.tree(("100644", a, b"a.json")), b"records"))
    assert edit_tree(poisons, base, {(b"records", b"a.json"): None}, top=True) == EMPTY_TREE
    assert edit_tree(poisons, base, {(b"records", b"a.json"): None}) is None


def test_several_paths_in_one_edit(poisons: Poisons) -> None:
    a, b, c = poisons.blob("a"), poisons.blob("b"), poisons.blob("c")
    base = poisons.tree(("040000", poisons.tree(("100644", a, b"a.json")), b"records"))
    tree = edit_tree(
        poisons,
        base,
        {
            (b"records", b"a.json"): None,
            (b"records", b"b.json"): b,
            (b"seen", b"deep", b"c.json"): c,
        },
        top=True,
    )
    assert tree is not None
    assert poisons.files(tree) == {"records/b.json": "b", "seen/deep/c.json": "c"}


def test_a_file_where_the_folder_belongs_is_refused(poisons: Poisons) -> None:
    base = poisons.tree(("100644", poisons.blob("not a folder"), b"records"))
    with pytest.raises(
        FatalError,
        match=r"cannot write into records/: .* has a file there, "
        r"not a folder; nothing was recorded",
    ):
        edit_tree(poisons, base, {(b"records", b"a.json"): poisons.blob("a")}, top=True)


def test_removing_below_a_file_leaves_the_file(poisons: Poisons) -> None:
    base = poisons.tree(("100644", poisons.blob("not a folder"), b"records"))
    assert edit_tree(poisons, base, {(b"records", b"a.json"): None}, top=True) == base


@pytest.mark.parametrize("mode", ["040000", "160000"], ids=["folder", "gitlink"])
def test_a_folder_or_link_where_the_file_belongs_is_refused(poisons: Poisons, mode: str) -> None:
    there = EMPTY_TREE if mode == "040000" else "1" * 40
    records = poisons.tree((mode, there, b"a.json"))
    base = poisons.tree(("040000", records, b"records"))
    with pytest.raises(FatalError, match=r"cannot write a\.json: .* has a folder or link there"):
        edit_tree(poisons, base, {(b"records", b"a.json"): poisons.blob("a")}, top=True)


def test_two_entries_of_one_name_are_refused(poisons: Poisons) -> None:
    a, b = poisons.blob("a"), poisons.blob("b")
    records = poisons.tree(("100644", a, b"a.json"), ("100644", b, b"a.json"))
    assert len(poisons.entries(records)) == 2  # git stores what it is given
    base = poisons.tree(("040000", records, b"records"))
    with pytest.raises(FatalError, match="holds two entries named 'a.json' in one folder"):
        edit_tree(poisons, base, {(b"records", b"a.json"): poisons.blob("new")}, top=True)


def test_a_refusal_names_the_entry_escaped(poisons: Poisons) -> None:
    name = b"rec\x1b]0;pwned\x07\xff"
    base = poisons.tree(("100644", poisons.blob("file"), name))
    with pytest.raises(FatalError) as refused:
        edit_tree(poisons, base, {(name, b"a.json"): poisons.blob("a")}, top=True)
    assert "rec\\x1b]0;pwned\\x07\\xff/" in str(refused.value)
    assert "\x1b" not in str(refused.value)
