"""`git poison serve`: the risk view over HTTP, for an ops platform that would rather
fetch JSON than run a command (and for people, the same page as `scope --format html`,
live).

Read-only by construction: only GET and HEAD are answered, and no endpoint writes;
there is no write endpoint at all, so there is nothing to authenticate. Bounded: at
most `max_connections` connections at once (more are closed at once), a socket
timeout for idle or slow clients, no request body, a short request line (the standard
library's limits on header lines and count apply too). Bound to 127.0.0.1 unless told
otherwise, and answering only requests whose Host header names the server (a web page
elsewhere cannot read it through DNS rebinding).

Fresh without polling git in the background: each request works out a key (the poisons
commit, the source repository's refs, the inventory's content) and answers from the
last answer made with that key; a new record, a push or a new tag changes the key and
the next request judges again. The remote is fetched at most every `fetch_interval`
seconds. The served page asks `/api/v1/version` every few seconds and reloads itself
when the key changes.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from poison_tools import __version__
from poison_tools.errors import FatalError
from poison_tools.git import SourceRepo

API = "/api/v1"
MAX_PATH = 1024


@dataclass
class Options:
    """What the served scope covers, as `scope`'s options would say it."""

    patterns: Sequence[str] = ()  # --branches; empty: the release branches and main line
    tags: bool = True  # tags are folded into one column of the page, and give the advice
    inventory: str | None = None  # --deployments FILE; None: the default inventory
    fetch_interval: float = 30.0
    allowed_hosts: Sequence[str] = ()


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"


@dataclass
class _Cached:
    key: str
    answers: dict[str, Answer] = field(default_factory=dict)


class RiskView:
    """The answers, made on demand and kept while their key holds."""

    def __init__(self, cwd: str, options: Options) -> None:
        self.cwd = cwd
        self.options = options
        self._lock = threading.Lock()
        self._cached: _Cached | None = None
        self._last_fetch = 0.0

    # -- the key ------------------------------------------------------------------------

    def _state(self) -> tuple[SourceRepo, Any, Any, str]:
        """(repo, store, snapshot, key) as of now; fetches when it is time to."""
        from poison_tools.records.store import PoisonStore

        repo = SourceRepo.discover(self.cwd)  # config too may have changed
        now = time.monotonic()
        fetch = now - self._last_fetch >= self.options.fetch_interval
        store = PoisonStore(repo, fetch=fetch)
        snapshot = store.load()
        if fetch and store.remote:
            self._last_fetch = now
        refs = repo.git_out(["for-each-ref", "--format=%(objectname) %(refname)"])
        h = hashlib.sha256()
        h.update(f"{snapshot.tip}\0{len(snapshot.records)}\0{len(snapshot.problems)}\0".encode())
        h.update(str(snapshot.stale is not None).encode())
        for rid in sorted(snapshot.records):  # a merged offline+remote view has no one tip
            h.update(rid.encode())
            h.update(repr(snapshot.records[rid]).encode())
        h.update(refs.encode())
        h.update(self._inventory_digest(repo, store, snapshot.tip).encode())
        return repo, store, snapshot, h.hexdigest()[:20]

    def _inventory_digest(self, repo: SourceRepo, store: Any, tip: str | None) -> str:
        from poison_tools.deployments import config_path

        path = self.options.inventory or config_path(repo)
        if path is None:
            return "shared"  # in the poisons commit, which the key holds already
        try:
            with open(path, "rb") as f:
                return hashlib.sha256(f.read(8 * 1024 * 1024)).hexdigest()
        except OSError:
            return "unreadable"

    # -- the answers ----------------------------------------------------------------------

    def answer(self, path: str) -> Answer:
        makers: dict[str, Callable[[SourceRepo, Any, Any, str], Answer]] = {
            "/": self._page,
            "/index.html": self._page,
            f"{API}/scope": self._scope,
            f"{API}/summary": self._summary,
            f"{API}/records": self._records,
            f"{API}/version": self._version,
        }
        make = makers.get(path)
        if make is None:
            return _json(
                404,
                {
                    "error": f"no such endpoint: {path}",
                    "endpoints": sorted(p for p in makers if p != "/index.html"),
                },
            )
        with self._lock:  # one judgement at a time: two requests never judge twice
            try:
                repo, store, snapshot, key = self._state()
            except FatalError as e:
                return _json(503, {"error": str(e)})
            if self._cached is None or self._cached.key != key:
                self._cached = _Cached(key)
            found = self._cached.answers.get(path)
            if found is None:
                try:
                    found = make(repo, store, snapshot, key)
                except FatalError as e:
                    return _json(503, {"error": str(e)})
                self._cached.answers[path] = found
            return found

    def _version(self, repo: SourceRepo, store: Any, snapshot: Any, key: str) -> Answer:
        return _json(
            200,
            {
                "key": key,
                "poisons_tip": snapshot.tip,
                "project": store.project,
                "tool": "git-poison",
                "tool_version": __version__,
                "stale": None if snapshot.stale is None else snapshot.stale.describe(),
            },
        )

    def _records(self, repo: SourceRepo, store: Any, snapshot: Any, key: str) -> Answer:
        records = sorted(snapshot.active, key=lambda r: (r.created, r.id))
        return _json(
            200,
            {
                "project": store.project,
                "key": key,
                "records": [r.to_json() for r in records],
                "problems": [p.to_json() for p in snapshot.problems],
                "stale": None if snapshot.stale is None else snapshot.stale.describe(),
            },
        )

    def _run(
        self, repo: SourceRepo, store: Any, snapshot: Any, deployments_only: bool = False
    ) -> Any:
        """A scope run over the served targets, and its per-environment summary."""
        from poison_tools.check import open_checker
        from poison_tools.deployments import default_inventory, load, resolve
        from poison_tools.environments import watch
        from poison_tools.reach.engine import reachability
        from poison_tools.release_refs import MAIN_LINES, release_patterns
        from poison_tools.scope import Scope, ref_targets, release_branch_targets, select_records

        reach = reachability(repo)
        o = self.options
        tags = ref_targets(reach, branches=False, tags=True)
        if deployments_only:
            targets = []
        elif o.patterns:
            targets = ref_targets(reach, o.patterns, tags=o.tags)
        else:
            targets = release_branch_targets(reach, [*release_patterns(repo), *MAIN_LINES])
            targets += tags if o.tags else []
        if o.inventory:
            targets += resolve(repo, load(o.inventory))
        else:
            found = default_inventory(repo, store, snapshot.tip)
            targets += resolve(repo, found.pairs) if found else []
        checker = open_checker(repo, snapshot, reach=reach)  # no progress: nobody to show it to
        judge = Scope(repo, checker, hints=checker.equivalence.probable)
        run = judge.stream(select_records(snapshot, ()), targets)
        environments = watch(run, judge, targets, tags) or (lambda: [])
        return run, environments

    def _scope(self, repo: SourceRepo, store: Any, snapshot: Any, key: str) -> Answer:
        from poison_tools.scope import json_chunks

        run, environments = self._run(repo, store, snapshot)
        text = "".join(
            json_chunks(
                run, lambda: {"environments": [e.to_json() for e in environments()], "key": key}
            )
        )
        return Answer(200, text.encode())

    def _summary(self, repo: SourceRepo, store: Any, snapshot: Any, key: str) -> Answer:
        from poison_tools.records.record import now_iso
        from poison_tools.scope import JSON_VERSION

        run, environments = self._run(repo, store, snapshot, deployments_only=True)
        for _row in run:
            pass
        return _json(
            200,
            {
                "version": JSON_VERSION,
                "project": store.project,
                "generated": now_iso(),
                "key": key,
                "environments": [e.to_json() for e in environments()],
                "problems": [p.to_json() for p in run.problems],
                "stale": None if run.stale is None else run.stale.describe(),
            },
        )

    def _page(self, repo: SourceRepo, store: Any, snapshot: Any, key: str) -> Answer:
        from poison_tools.html_report import PageInfo, html_chunks, records_note
        from poison_tools.records.record import now_iso

        run, environments = self._run(repo, store, snapshot)
        info = PageInfo(
            now_iso(),
            records_note(snapshot.tip, bool(store.remote), store.last_fetch(), time.time()),
            live=True,
        )
        page = "".join(html_chunks(run, store.project, environments=environments, info=info))
        return Answer(200, page.encode(), "text/html; charset=utf-8")


def _json(status: int, data: Any) -> Answer:
    return Answer(status, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # Refuse rather than queue without end: the listen backlog.
    request_queue_size = 16

    def __init__(
        self,
        address: tuple[str, int],
        view: RiskView,
        *,
        max_connections: int = 8,
        timeout: float = 10.0,
    ) -> None:
        self.view = view
        self.slots = threading.BoundedSemaphore(max_connections)
        self.client_timeout = timeout
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # At most `max_connections` threads: one more connection is closed at once.
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class Server6(Server):
    address_family = socket.AF_INET6


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = f"git-poison/{__version__}"
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.request.settimeout(self.server.client_timeout)  # idle and slow clients let go
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature
        pass  # an embedded service logs nothing on its own; the platform logs requests

    def _send(self, answer: Answer, body: bool = True) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if body:
            self.wfile.write(answer.body)

    def _refusal(self) -> Answer | None:
        if len(self.path) > MAX_PATH:
            return _json(414, {"error": "request line too long"})
        length = self.headers.get("Content-Length")
        if (length and length.strip() != "0") or self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # the body was not read: this connection is done
            return _json(413, {"error": "this server takes no request body"})
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in self.server_hosts():
            return _json(
                403, {"error": f"unknown Host {host!r} (see `git poison serve --allow-host`)"}
            )
        return None

    def server_hosts(self) -> set[str]:
        port = self.server.server_address[1]
        bound = str(self.server.server_address[0])
        names = {bound, "localhost", "127.0.0.1", "[::1]", *self.server.view.options.allowed_hosts}
        return {n.lower() for n in names} | {f"{n.lower()}:{port}" for n in names}

    def _get(self, body: bool) -> None:
        refused = self._refusal()
        if refused is not None:
            self._send(refused, body)
            return
        path = urlsplit(self.path).path
        self._send(self.server.view.answer(path), body)

    def do_GET(self) -> None:
        self._get(True)

    def do_HEAD(self) -> None:
        self._get(False)

    def _read_only(self) -> None:
        self.close_connection = True
        answer = _json(405, {"error": "read-only: this server has no write endpoint"})
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _read_only


def make_server(
    cwd: str,
    host: str,
    port: int,
    options: Options,
    *,
    max_connections: int = 8,
    timeout: float = 10.0,
) -> Server:
    cls: type[Server] = Server6 if ":" in host else Server  # ::1 is an IPv6 address
    try:
        return cls(
            (host, port), RiskView(cwd, options), max_connections=max_connections, timeout=timeout
        )
    except OSError as e:
        raise FatalError(f"cannot listen on {host}:{port}: {e.strerror}") from None
