"""Reachability: which recorded commits are ancestors of a target.

`answer` (the question and its three-part answer), `walk` (plain git, the reference),
`index` with `index_file`/`index_graph`/`index_query` (the on-disk index that answers
in milliseconds), `commit_graph` (a reader of git's commit-graph file, for building it),
`refs` (the ref listing), `engine` (which of the two a command gets). Nothing here knows
about records, copies or verdicts.
"""
