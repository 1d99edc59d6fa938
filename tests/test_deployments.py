from __future__ import annotations

from pathlib import Path

import pytest

from poison_tools.deployments import deployment_targets, parse
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo
from tests.gitrepo import Repo


def test_nested_yaml_names_join_with_slashes_in_file_order() -> None:
    text = "production:\n  eu: {api: v2.3.1, worker: 'v2.3.0'}\n  us: {api: 1a2b3c4d}\nstaging: master\n"
    assert parse(text, "d.yaml") == [("production/eu/api", "v2.3.1"), ("production/eu/worker", "v2.3.0"),
                                     ("production/us/api", "1a2b3c4d"), ("staging", "master")]


def test_json_inventory_under_a_deployments_key() -> None:
    assert parse('{"deployments": {"prod": {"api": "v1"}}}', "d.json") == [("prod/api", "v1")]


@pytest.mark.parametrize("text, message", [
    ("prod: 1234567\n", "reads as a number; quote the revision"),
    ("prod: 0123456\n", "reads as a number"),  # YAML 1.1 octal: the SHA would be lost
    ("prod: [v1, v2]\n", "must be a string"),
    ("- v1\n", "expected a mapping"),
    ("prod: {api: ''}\n", "empty revision"),
    ("prod: [unclosed\n", "not valid YAML"),
])
def test_bad_inventories_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FatalError, match=message.replace("[", r"\[")):
        parse(text, "d.yaml")


def test_unknown_revisions_are_kept_not_skipped(repo: Repo, tmp_path: Path) -> None:
    repo.git("tag", "v1")
    inv = tmp_path / "d.yaml"
    inv.write_text("a: v1\nb: v404\n")
    targets = deployment_targets(SourceRepo.discover(str(repo.path)), str(inv))
    assert [(t.name, t.ref, t.commit) for t in targets] == [("a", "v1", repo.rev("v1")), ("b", "v404", None)]
