"""`poison_tools.progress.Progress` for the editor: the first scan of a repository's
history for copies (patch-ids) can take seconds, so it is logged and, when the client
supports it, shown as work-done progress, in the words of the terminal's progress
(`poison_tools.progress.describe`: the total and the time left).

The core calls it from a worker thread; everything that talks to the client is handed
to the event loop (`call_soon_threadsafe`) and sent in order by one task per scan,
after the client has accepted the progress token, as the protocol requires.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from poison_tools.progress import describe, percentage

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)
_END = object()


class ClientProgress:
    def __init__(self, server: LanguageServer, loop: asyncio.AbstractEventLoop, where: str) -> None:
        self.server, self.loop, self.where = server, loop, where
        window = server.client_capabilities.window
        self.enabled = bool(window and window.work_done_progress)
        self.queue: asyncio.Queue[Any] | None = None
        self.label, self.done = "", 0
        self.total: int | None = None
        self.started = self.last = 0.0

    # -- called from the core, in a worker thread --------------------------------------

    def start(self, label: str, total: int | None = None) -> None:
        self.label, self.total, self.done = label, total, 0
        self.started = self.last = time.monotonic()
        log.info("%s: %s", self.where, label)
        if self.enabled:
            self.loop.call_soon_threadsafe(self._open)

    def advance(self, n: int = 1) -> None:
        first = not self.done
        self.done += n
        now = time.monotonic()
        # A few updates a second is plenty; the first and the last are always sent, so
        # that even a short scan shows its total.
        ended = self.total is not None and self.done - n < self.total <= self.done
        if self.enabled and (first or ended or now - self.last >= 0.2):
            self.last = now
            self._put(
                types.WorkDoneProgressReport(
                    message=describe(self.label, self.done, self.total, now - self.started),
                    percentage=percentage(self.done, self.total),
                )
            )

    def finish(self) -> None:
        log.info("%s: %s done in %.1fs", self.where, self.label, time.monotonic() - self.started)
        self._put(_END)

    # -- on the event loop -----------------------------------------------------------

    def _put(self, item: Any) -> None:
        if self.enabled:
            self.loop.call_soon_threadsafe(self._enqueue, item)

    def _enqueue(self, item: Any) -> None:
        if self.queue is not None:
            self.queue.put_nowait(item)

    def _open(self) -> None:
        self.queue = asyncio.Queue()
        asyncio.ensure_future(self._send(self.queue, f"git-poison-{uuid.uuid4()}"))

    async def _send(self, queue: asyncio.Queue[Any], token: str) -> None:
        progress = self.server.work_done_progress
        try:
            await progress.create_async(token)
        except Exception as e:  # the client said no: the log line is enough
            log.debug("work done progress refused: %s", e)
            return
        progress.begin(
            token,
            types.WorkDoneProgressBegin(title="git-poison", message=f"{self.label} ({self.where})"),
        )
        while (item := await queue.get()) is not _END:
            progress.report(token, item)
        progress.end(token, types.WorkDoneProgressEnd(message="done"))
