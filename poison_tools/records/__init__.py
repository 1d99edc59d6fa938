"""Records: what a poisons repository holds, read and written safely.

`record` (the format, parsed as untrusted input), `store` (the poisons repository:
snapshot, fetch, append), `store_cache` (the parsed-records cache), `tree_edit`
(writing a record into a tree), `seen_ids` (records that vanished), `project` (which
branch a source repository's records live on), `signing`, `remote_answers`, and the
importers (`osv`, `importers`). Knows nothing of reachability or verdicts.
"""
