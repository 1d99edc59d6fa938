"""Copies: which commits stand for a recorded one (cherry-picks, backports, reverts).

`protocol` (the `Equivalence` a checker asks, and `Identity`, which finds none),
`trailers` (the "cherry picked from" and "This reverts" lines), `diffs` and `patchid`
(patch-ids of the whole history, cached), `equivalence` (the default: trailers, then
patch-ids), `pair_facts` (per poison/cure pair facts, cached), `sqlite_file` (the cache
file). Stands on `reach`; knows nothing of records or verdicts.
"""
