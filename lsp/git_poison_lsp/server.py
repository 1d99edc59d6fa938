"""The language server: short handlers that fetch the document, ask the core in a
worker thread, and convert the answer.

Copies: the first report of a repository may wait on a long scan for copies; meanwhile
documents get what ancestry alone says (marked provisional), and when the scan ends
(`copies_known`, from its thread) every open document of the repository is annotated
again. Hover and code actions answer from the last annotations, whichever they are.

Scheduling: each document has a generation number. Every request for new
annotations (open, change, save, HEAD or records moved) bumps it, cancels the
pending wait, and waits `delay` (debounce); a result whose generation was overtaken
while git ran is dropped. git never runs on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from git_poison_lsp import __version__, actions, lsp_utils
from git_poison_lsp.analysis import Analysis, analyse, relative_path
from git_poison_lsp.progress_utils import ClientProgress
from git_poison_lsp.repos import Repos, RepoState
from git_poison_lsp.settings import Settings
from poison_tools.ancestry_first import PENDING
from poison_tools.cherry_pick import cherry_pick_line
from poison_tools.errors import FatalError

log = logging.getLogger(__name__)
T = TypeVar("T")

CHANGE_DELAY = 0.4  # seconds of quiet typing before blaming again
POLL_INTERVAL = 1.0  # how often HEAD, refs and records are looked at
CONFIRM, CANCEL = "Cherry-pick", "Cancel"


class PoisonServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "git-poison-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.settings = Settings()
        self.repos = Repos(on_copies_known=self.copies_known)
        self.loop: asyncio.AbstractEventLoop | None = None  # the event loop, once serving
        # More than one worker: one slow blame must not hold up every other document.
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="git-poison")
        self.results: dict[str, Analysis] = {}
        self.generation: dict[str, int] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.poller: asyncio.Task[None] | None = None
        self.fetching: set[str] = set()

    # -- running things off the event loop --------------------------------------------

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def log(self, message: str, level: types.MessageType = types.MessageType.Log) -> None:
        log.info(message)
        self.window_log_message(
            types.LogMessageParams(type=level, message=f"git-poison: {message}")
        )

    def notify_user(self, ok: bool, message: str) -> None:
        self.log(message, types.MessageType.Info if ok else types.MessageType.Warning)
        if self.settings.shows(ok):
            kind = types.MessageType.Info if ok else types.MessageType.Error
            self.window_show_message(
                types.ShowMessageParams(type=kind, message=f"git-poison: {message}")
            )

    # -- annotations ------------------------------------------------------------------

    def schedule(self, uri: str, delay: float = 0.0, edit: bool = False) -> asyncio.Task[None]:
        """Annotate `uri` after `delay`; `edit`: follow the edit through the last
        blame instead of blaming again (open, save and HEAD moves blame afresh)."""
        gen = self.generation[uri] = self.generation.get(uri, 0) + 1
        old = self.pending.pop(uri, None)
        if old is not None and not old.done():
            old.cancel()
        task = asyncio.ensure_future(self._annotate(uri, gen, delay, edit))
        self.pending[uri] = task
        return task

    async def _annotate(self, uri: str, gen: int, delay: float, edit: bool) -> None:
        if delay:
            await asyncio.sleep(delay)
        path = to_fs_path(uri) if uri.startswith("file:") else None
        doc = self.workspace.text_documents.get(uri)
        if path is None or doc is None:
            return  # untitled buffers and other schemes have no blame
        self.loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            previous = self.results.get(uri) if edit else None
            progress = ClientProgress(self, asyncio.get_running_loop(), os.path.basename(path))
            result = await self.in_thread(
                analyse, self.repos, uri, path, doc.source, doc.version, previous, progress
            )
        except Exception:  # a bug must cost one annotation, not the server
            log.exception("annotating %s failed", uri)
            return
        if self.generation.get(uri) != gen or uri not in self.workspace.text_documents:
            log.debug("dropped overtaken annotations for %s", uri)
            return
        before = self.results.get(uri)
        self.results[uri] = result
        if before is None or {r.record_id for r in before.runs} != {
            r.record_id for r in result.runs
        }:
            self.refresh_code_lens()
        lines = doc.lines
        units = doc.position_codec.client_num_units
        diagnostics = [
            lsp_utils.diagnostic(run, lines, units, result.copies, result.error)
            for run in result.runs
        ]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=result.version)
        )
        if result.status is not None:
            self.protocol.notify(lsp_utils.STATUS, lsp_utils.status_params(result.status))
        log.debug("%s: %d diagnostics in %.3fs", uri, len(diagnostics), time.monotonic() - started)
        if (
            result.copies == PENDING
            and result.state is not None
            and result.fingerprint is not None
            and result.state.ready(result.fingerprint)
        ):
            self.schedule(uri)  # the scan ended while this was blamed: its call came too early

    def copies_known(self, state: RepoState) -> None:
        """From the copy scan's thread: its full report is ready where ancestry was shown."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.reannotate, state)

    def reannotate(self, state: RepoState) -> None:
        """Annotate the repository's open documents again from the report now at hand."""
        uris = self.uris_of(state)
        self.log(
            f"{state.toplevel}: copies known; refining the annotations of {len(uris)} documents"
        )
        for uri in uris:
            self.schedule(uri)

    def forget(self, uri: str) -> None:
        self.generation[uri] = self.generation.get(uri, 0) + 1
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.results.pop(uri, None)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def uris_of(self, state: RepoState) -> list[str]:
        return [u for u, a in self.results.items() if a.state is state]

    async def refresh(self, state: RepoState) -> None:
        """Annotate every open document of the repository again, and wait for it."""
        state.invalidate()
        tasks = [self.schedule(uri) for uri in self.uris_of(state)]
        await asyncio.gather(*tasks, return_exceptions=True)
        self.refresh_code_lens()

    def refresh_code_lens(self) -> None:
        caps = self.client_capabilities.workspace
        if self.settings.code_lens and caps and caps.code_lens and caps.code_lens.refresh_support:
            asyncio.ensure_future(self._code_lens_refresh())

    async def _code_lens_refresh(self) -> None:
        try:
            await self.workspace_code_lens_refresh_async(None)
        except Exception as e:  # a client that cannot refresh asks again by itself
            log.debug("codeLens/refresh: %s", e)

    # -- following HEAD, refs and records ---------------------------------------------

    def start_polling(self) -> None:
        if self.poller is None:
            self.poller = asyncio.ensure_future(self._poll_forever())

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            try:
                await self.poll_once()
            except Exception:  # keep following the repositories
                log.exception("polling failed")

    async def poll_once(self) -> None:
        states = {id(a.state): a.state for a in self.results.values() if a.state is not None}
        for state in states.values():
            if await self.in_thread(state.moved):
                self.log(f"{state.toplevel}: HEAD, refs or records changed; refreshing")
                await self.refresh(state)
            if state.fetch_due(time.time()) and state.toplevel not in self.fetching:
                asyncio.ensure_future(self._fetch(state))

    async def _fetch(self, state: RepoState) -> None:
        self.fetching.add(state.toplevel)
        try:
            error = await self.in_thread(state.fetch)
        finally:
            self.fetching.discard(state.toplevel)
        if error:
            self.log(
                f"poisons remote unreachable ({error}); using the records fetched last",
                types.MessageType.Warning,
            )

    # -- commands ---------------------------------------------------------------------

    async def run_command(
        self,
        args: tuple[Any, ...],
        run: Callable[[dict[str, Any], RepoState, str], Awaitable[actions.Result]],
    ) -> actions.Result:
        """Parse `{uri, ...}`, find the repository, run, turn any failure into ok=false."""
        arg = args[0] if args else None
        if not isinstance(arg, dict) or not isinstance(arg.get("uri"), str):
            return actions.fail('expected one argument object with a "uri"')
        path = to_fs_path(arg["uri"])
        state = await self.in_thread(self.repos.for_path, path) if path else None
        if state is None or path is None:
            result = actions.fail(f"{arg['uri']} is not in a git work tree")
        else:
            try:
                await self.in_thread(state.reload_config)
                result = await run(arg, state, path)
            except FatalError as e:
                result = actions.fail(str(e))
            except Exception as e:  # answer, and keep serving
                log.exception("command failed")
                result = actions.fail(f"internal error: {e.__class__.__name__}: {e}")
        # A cancelled pick is the user's own answer, not an error worth a pop-up.
        ok = bool(result.get("ok")) or result.get("status") == "cancelled"
        self.notify_user(ok, str(result.get("message", "")))
        return result

    async def confirm(self, message: str) -> bool:
        answer = await self.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Warning,
                message=message,
                actions=[
                    types.MessageActionItem(title=CONFIRM),
                    types.MessageActionItem(title=CANCEL),
                ],
            )
        )
        return answer is not None and answer.title == CONFIRM

    def text_of(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source


server_factory = PoisonServer


def build_server() -> PoisonServer:
    ls = PoisonServer()
    register(ls)
    return ls


def register(ls: PoisonServer) -> None:
    @ls.feature(types.INITIALIZE)
    def initialize(ls: PoisonServer, params: types.InitializeParams) -> None:
        ls.settings.update(params.initialization_options)

    @ls.feature(types.INITIALIZED)
    def initialized(ls: PoisonServer, params: types.InitializedParams) -> None:
        ls.start_polling()

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PoisonServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.start_polling()
        ls.schedule(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PoisonServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, CHANGE_DELAY, edit=True)

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PoisonServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PoisonServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched(ls: PoisonServer, params: types.DidChangeWatchedFilesParams) -> None:
        await ls.poll_once()

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def configuration(ls: PoisonServer, params: types.DidChangeConfigurationParams) -> None:
        if params.settings:
            ls.settings.update(params.settings)
        else:
            caps = ls.client_capabilities.workspace
            if caps and caps.configuration:
                got = await ls.workspace_configuration_async(
                    types.ConfigurationParams(items=[types.ConfigurationItem(section="gitPoison")])
                )
                ls.settings.update(got[0] if got else None)
        ls.refresh_code_lens()

    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: PoisonServer, params: types.HoverParams) -> types.Hover | None:
        result = ls.results.get(params.text_document.uri)
        runs = result.runs_at(params.position.line) if result else []
        if result is None or not runs:
            return None
        return types.Hover(
            contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown,
                value=lsp_utils.hover_markdown(runs, result.copies, result.error),
            )
        )

    @ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(ls: PoisonServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        result = ls.results.get(params.text_document.uri)
        if result is None:
            return []
        lo, hi = params.range.start.line, params.range.end.line
        runs = [r for r in result.runs if r.start <= hi and r.end >= lo]
        return lsp_utils.code_actions(params.text_document.uri, runs, params.context.diagnostics)

    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(ls: PoisonServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        result = ls.results.get(params.text_document.uri)
        if not ls.settings.code_lens or result is None:
            return []
        return lsp_utils.code_lens(params.text_document.uri, result.runs)

    @ls.command(lsp_utils.CHERRY_PICK)
    async def cherry_pick_cure(ls: PoisonServer, *args: Any) -> actions.Result:
        async def run(arg: dict[str, Any], state: RepoState, path: str) -> actions.Result:
            rid, cure = arg.get("recordId"), arg.get("cure")
            if not isinstance(rid, str) or not isinstance(cure, str):
                return actions.fail("recordId and cure are required")
            question = (
                f"Cherry-pick cure {cure[:12]} of poison {rid} onto "
                f"{(await ls.in_thread(state.branch)) or 'the detached HEAD'} "
                f"in {state.toplevel}? ({cherry_pick_line(cure)})"
            )
            if not await ls.confirm(question):
                return {"ok": False, "status": "cancelled", "message": "cherry-pick cancelled"}
            result = await ls.in_thread(actions.cherry_pick_cure, state, rid, cure)
            await ls.refresh(state)
            return result

        return await ls.run_command(args, run)

    @ls.command("gitPoison.sync")
    async def sync(ls: PoisonServer, *args: Any) -> actions.Result:
        async def run(arg: dict[str, Any], state: RepoState, path: str) -> actions.Result:
            result = await ls.in_thread(actions.sync, state)
            await ls.refresh(state)
            return result

        return await ls.run_command(args, run)

    @ls.command(lsp_utils.CHECK_BRANCH)
    async def check_branch(ls: PoisonServer, *args: Any) -> actions.Result:
        async def run(arg: dict[str, Any], state: RepoState, path: str) -> actions.Result:
            return await ls.in_thread(actions.check_branch, state)

        return await ls.run_command(args, run)

    @ls.command("gitPoison.poisonLine")
    async def poison_line(ls: PoisonServer, *args: Any) -> actions.Result:
        async def run(arg: dict[str, Any], state: RepoState, path: str) -> actions.Result:
            rel = relative_path(state, path)
            if rel is None:
                return actions.fail("the file is outside the work tree")
            text = await ls.in_thread(ls.text_of, arg["uri"])
            result = await ls.in_thread(
                actions.poison_line,
                state,
                rel,
                text,
                arg.get("line"),
                arg.get("comment"),
                arg.get("bug"),
                arg.get("severity"),
            )
            await ls.refresh(state)
            return result

        return await ls.run_command(args, run)

    @ls.command("gitPoison.recordCure")
    async def record_cure(ls: PoisonServer, *args: Any) -> actions.Result:
        async def run(arg: dict[str, Any], state: RepoState, path: str) -> actions.Result:
            rid = arg.get("recordId")
            if not isinstance(rid, str):
                return actions.fail("recordId is required")
            result = await ls.in_thread(actions.record_cure, state, rid, arg.get("revs"))
            await ls.refresh(state)
            return result

        return await ls.run_command(args, run)

    @ls.command("gitPoison.listRecords")
    async def list_records(ls: PoisonServer, *args: Any) -> actions.Result:
        async def run(arg: dict[str, Any], state: RepoState, path: str) -> actions.Result:
            return await ls.in_thread(actions.list_records, state)

        return await ls.run_command(args, run)
