"""Trust: who may write records, and whether a snapshot's records are theirs.

`policy` (the `poison-policy` branch), `signatures` (verifying a record's commit),
`verify` (a snapshot's records against the policy, with `cache`), `audit` (the
record's history, for `git poison log`). Stands on `records` and on `check`.
"""
