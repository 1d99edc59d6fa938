from __future__ import annotations

from pathlib import Path

import pytest

from poison_tools.deployments import deployment_targets, parse
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from tests.gitrepo import Repo


def test_nested_yaml_names_join_with_slashes_in_file_order() -> None:
    text = "production:\n  eu: {api: v2.3.1, worker: 'v2.3.0'}\n  us: {api: 1a2b3c4d}\nstaging: master\n"
    assert parse(text, "d.yaml") == [
        ("production/eu/api", "v2.3.1"),
        ("production/eu/worker", "v2.3.0"),
        ("production/us/api", "1a2b3c4d"),
        ("staging", "master"),
    ]


def test_json_inventory_under_a_deployments_key() -> None:
    assert parse('{"deployments": {"prod": {"api": "v1"}}}', "d.json") == [("prod/api", "v1")]


@pytest.mark.parametrize(
    "text, message",
    [
        ("prod: 1234567\n", "reads as a number; quote the revision"),
        ("prod: 0123456\n", "reads as a number"),  # YAML 1.1 octal: the SHA would be lost
        ("prod: [v1, v2]\n", "must be a string"),
        ("- v1\n", "expected a mapping"),
        ("prod: {api: ''}\n", "empty revision"),
        ("prod: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_inventories_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FatalError, match=message.replace("[", r"\[")):
        parse(text, "d.yaml")


def test_unknown_revisions_are_kept_not_skipped(repo: Repo, tmp_path: Path) -> None:
    repo.git("tag", "v1")
    inv = tmp_path / "d.yaml"
    inv.write_text("a: v1\nb: v404\n")
    targets = deployment_targets(SourceRepo.discover(str(repo.path)), str(inv))
    assert [(t.name, t.ref, t.commit) for t in targets] == [
        ("a", "v1", repo.rev("v1")),
        ("b", "v404", None),
    ]


# -- the default inventory, and `add` / `cure` naming the deployments (issue 13) ------------

from tests.test_scope import History  # noqa: E402


def _shared_file(
    repo: Repo, name: str, text: str | None = None, *, symlink: str | None = None
) -> None:
    """Commit `name` at the root of this project's branch in the (embedded) poisons
    repository, as a teammate with push access would."""
    import json

    store = repo.path / ".git" / "poison"
    branch = json.loads(repo.poison("list", "--json").out)["project"]
    work = Repo(repo.path.parent / "poisons-edit")
    work.git("fetch", "-q", str(store), f"refs/heads/{branch}:refs/heads/x")
    work.checkout("x")
    if symlink:
        (work.path / name).symlink_to(symlink)
    else:
        (work.path / name).write_text(text or "")
    work.git("add", name)
    work.git("commit", "-q", "-m", "inventory")
    work.git("push", "-q", str(store), f"x:refs/heads/{branch}")


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(Repo(tmp_path / "svc"))


def test_add_names_the_deployments_carrying_the_new_poison_on_stderr_only(
    history: History, tmp_path: Path
) -> None:
    repo = history.repo
    history.inventory(repo.path)  # deploy.yaml in the work tree: a relative config path
    repo.git("config", "poison.deployments", "deploy.yaml")
    r = repo.poison("add", history.poison, "-m", "same parser bug, seen again")
    assert r.rc == 0, r.err
    (rid,) = r.out.split()  # stdout stays the id alone: `rid=$(git poison add …)` works
    lines = r.err.splitlines()
    assert lines[0] == f"warning: the same commit is already recorded in {history.id}"
    assert lines[1].startswith(f"deployments carrying {rid}: 3 of 4 (inventory ")
    assert lines[1].endswith("deploy.yaml)")
    # The new record has no cure yet: every deployment with the poison carries it.
    assert [" ".join(ln.split()) for ln in lines[2:]] == [
        "affected production/eu-west/api = v1.0.1",
        "affected production/us-east/api = v3.0.0",
        "affected staging/api = master",
        "unknown legacy = v9.9.9 revision not known here (fetch it, or fix the inventory)",
    ]


def test_cure_names_the_deployments_still_carrying_it(history: History, tmp_path: Path) -> None:
    repo = history.repo
    repo.git("config", "poison.deployments", str(history.inventory(tmp_path)))
    rid = repo.add_poison(history.poison, "again")
    r = repo.poison("cure", rid, history.cure)
    assert r.rc == 0, r.err
    assert r.out.strip() == f"{rid}: cured by {history.cure[:12]}"
    assert f"deployments carrying {rid}: 1 of 4" in r.err
    assert "affected  production/us-east/api = v3.0.0" in r.err
    assert "production/eu-west/api" not in r.err  # v1.0.1 holds the cherry-picked cure
    assert "(2 cured)" in r.err
    quiet = repo.poison("cure", rid, history.hand, "--no-deployments")
    assert quiet.rc == 0 and "deployments" not in quiet.err


def test_without_an_inventory_add_prints_only_the_id(history: History) -> None:
    r = history.repo.poison("add", history.repo.commit("another bug"), "-m", "another")
    assert r.rc == 0 and len(r.out.split()) == 1 and r.err == ""


def test_shared_inventory_in_the_poisons_repository_is_the_default(
    history: History, tmp_path: Path
) -> None:
    import json

    repo = history.repo
    _shared_file(repo, "deployments.yaml", "production:\n  api: v3.0.0\n  worker: v1.0.1\n")
    r = repo.poison("scope", "--deployments-only", "--json")
    assert r.rc == 1, r.err
    data = json.loads(r.out)
    assert [t.get("name") for t in data["targets"]] == ["production/api", "production/worker"]
    (rec,) = data["records"]
    assert rec["refs"] == []
    assert {c["name"]: c["status"] for c in rec["deployments"]} == {
        "production/api": "affected",
        "production/worker": "cured",
    }
    # The whole matrix takes it too; --no-deployments leaves it out.
    full = json.loads(repo.poison("scope", "--json").out)
    assert {t["kind"] for t in full["targets"]} == {"branch", "deployment"}
    bare = json.loads(repo.poison("scope", "--json", "--no-deployments").out)
    assert {t["kind"] for t in bare["targets"]} == {"branch"}
    # The file a person names (config) wins over the shared one.
    repo.git("config", "poison.deployments", str(history.inventory(tmp_path)))
    mine = json.loads(repo.poison("scope", "--deployments-only", "--json").out)
    assert len(mine["targets"]) == 4
    added = repo.poison("add", history.poison, "-m", "again")
    assert "deploy.yaml)" in added.err.splitlines()[1]


def test_deployments_only_without_an_inventory_is_a_one_line_error(history: History) -> None:
    r = history.repo.poison("scope", "--deployments-only")
    assert (
        r.rc == 2 and "no deployments inventory" in r.err and len(r.err.strip().splitlines()) == 1
    )
    r = history.repo.poison("scope", "--deployments-only", "--tags")
    assert r.rc == 2 and "--deployments-only" in r.err


@pytest.mark.parametrize(
    "text, symlink, message",
    [
        ('prod: {api: "v1\\e[2J"}\n', None, "control characters"),
        ("a: &a [1]\n", None, "must be a string"),
        (
            "".join(
                f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9 if i else ["x"]) + "]\n"
                for i in range(9)
            ),
            None,
            "must be a string",
        ),
        (None, "/etc/passwd", "not a regular file"),
    ],
)
def test_hostile_shared_inventory_never_fails_a_write_and_fails_scope_in_one_line(
    history: History, text: str | None, symlink: str | None, message: str
) -> None:
    repo = history.repo
    _shared_file(repo, "deployments.yaml", text, symlink=symlink)
    added = repo.poison("add", history.poison, "-m", "again")
    assert added.rc == 0 and len(added.out.split()) == 1  # recorded all the same
    assert "recorded, but the deployments could not be listed" in added.err and message in added.err
    assert "\033" not in added.err
    r = repo.poison("scope", "--deployments-only")
    assert r.rc == 2 and message in r.err and len(r.err.strip().splitlines()) == 1


def test_yaml_aliases_cannot_make_a_small_inventory_walk_forever() -> None:
    # Nine levels of nine aliases: 9^9 empty mappings (no deployment to count) from
    # a few hundred bytes.
    text = "".join(
        f"l{i}: &l{i} {{" + ", ".join(f"k{j}: *l{i - 1}" for j in range(9)) + "}\n"
        if i
        else "l0: &l0 {a: {}}\n"
        for i in range(9)
    )
    with pytest.raises(FatalError, match="too deep or too large"):
        parse(text, "d.yaml")
