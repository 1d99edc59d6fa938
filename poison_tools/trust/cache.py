"""The trust policy's verdict on the records at given tips, kept between runs.

Replaying the records' history costs a `git log --raw` and a `cat-file` of every version
(0.2 s for 1,000 records in 301 commits); its outcome depends only on the tips replayed,
the records read from them and the policy, so it is kept in
`<poisons repository>/git-poison-trust.json` under a key made of those. Any mismatch,
damage or surprise means "replay again". Safe to delete.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from typing import Any

from poison_tools import cachefile
from poison_tools.records.record import Record, parse_record, record_path

CACHE_FILE = "git-poison-trust.json"
FORMAT = 2

# id -> (trusted cures, poisons counted beyond the recorded ones, withdrawal vouched for)
Verdicts = dict[str, tuple[list[str], list[str], bool]]


def key(
    tips: list[str],
    snapshot_tip: str | None,
    policy_commit: str,
    signers: str,
    records: dict[str, Record],
) -> str:
    from poison_tools import __version__

    h = hashlib.sha256()
    h.update(f"{FORMAT}|{__version__}|{','.join(tips)}|{snapshot_tip}|{policy_commit}|".encode())
    h.update(signers.encode("utf-8", "surrogateescape"))
    if snapshot_tip is None:
        # Diverged local and remote records, merged while reading: no commit names them.
        for rid in sorted(records):
            h.update(records[rid].dumps())
    return h.hexdigest()


def read(
    poisons_dir: str, cache_key: str
) -> tuple[Verdicts, list[dict[str, Any]], list[Record]] | None:
    data = cachefile.read_json(os.path.join(poisons_dir, CACHE_FILE), key=cache_key)
    if data is None:
        return None
    try:
        verdicts: Verdicts = {}
        for rid, v in data["records"].items():
            cures, extra, withdrawal = v
            if not (
                isinstance(cures, list)
                and isinstance(extra, list)
                and isinstance(withdrawal, bool)
                and all(isinstance(x, str) for x in [*cures, *extra])
            ):
                return None
            verdicts[rid] = (cures, extra, withdrawal)
        untrusted = data["untrusted"]
        if not isinstance(untrusted, list) or not all(isinstance(u, dict) for u in untrusted):
            return None
        deleted = []
        for d in data["deleted"]:
            # Read back by the reader itself: a damaged entry is no record.
            rec = parse_record(record_path(d["record"]["id"]), json.dumps(d["record"]).encode())
            if not isinstance(rec, Record) or not isinstance(d["path"], str):
                return None
            deleted.append(replace(rec, path=d["path"]))
        return verdicts, untrusted, deleted
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write(
    poisons_dir: str,
    cache_key: str,
    verdicts: Verdicts,
    untrusted: list[dict[str, Any]],
    deleted: list[Record],
) -> None:
    blob = json.dumps(
        {
            "key": cache_key,
            "records": verdicts,
            "untrusted": untrusted,
            "deleted": [{"path": r.path, "record": r.to_json()} for r in deleted],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8", "surrogateescape")
    cachefile.keep(os.path.join(poisons_dir, CACHE_FILE), blob, ".trust-")
