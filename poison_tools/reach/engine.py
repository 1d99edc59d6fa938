"""The reachability engine every command uses: the index, or plain git."""

from __future__ import annotations

import os
import threading

from poison_tools.git import SourceRepo
from poison_tools.progress import Progress
from poison_tools.reach.answer import Reachability
from poison_tools.reach.walk import GitWalk


def warm_index_imports() -> None:
    """Start importing numpy (0.1-0.2 s) on another thread, for the index to use.

    A check first waits for git (the repository, the records, a fetch, the copy
    cache); the import runs on the other core meanwhile. Only numpy, which imports
    nothing of ours, so the two threads never wait on each other's imports.
    """
    if os.environ.get("GIT_POISON_INDEX") == "0" or os.environ.get("GIT_POISON_NO_WARM") == "1":
        return

    def run() -> None:
        try:
            import numpy  # noqa: F401
        except Exception:  # the index reports it, if it is used at all
            pass

    threading.Thread(target=run, name="warm-numpy", daemon=True).start()


def reachability(repo: SourceRepo, progress: Progress | None = None) -> Reachability:
    """The engine every command uses: the index (`poison_tools.reach.index`), or plain git
    with `GIT_POISON_INDEX=0` (the reference the index is tested against)."""
    if os.environ.get("GIT_POISON_INDEX") == "0":
        return GitWalk(repo)
    # Imported here, and numpy only at the first question (`index._OnFirstUse`):
    # it costs a tenth of a second that commands without such questions should not pay.
    from poison_tools.reach.index import IndexedReach

    return IndexedReach(repo, progress, prefetch_refs=True)
