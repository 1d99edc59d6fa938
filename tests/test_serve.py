"""`git poison serve`: the real command, real HTTP requests, and the page in chromium."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import BIN, Repo
from tests.test_environments import Releases


class Served:
    def __init__(self, repo: Repo, *args: str, direct: bool = False) -> None:
        self.repo = repo
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        # `git poison` is git running `git-poison`: git dies of a signal it passes on, so a
        # supervisor runs `git-poison serve` itself (`direct`) to see our exit code.
        cmd = [str(BIN / "git-poison")] if direct else ["git", "poison"]
        self.proc = subprocess.Popen(
            [*cmd, "serve", "--port", "0", *args],
            cwd=repo.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("serving http://"), line + self.proc.stderr.read()
        self.url = line.split()[1]
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))

    def get(self, path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as r:
                body = r.read()
                status = r.status
                kind = r.headers["Content-Type"]
        except urllib.error.HTTPError as e:
            body, status, kind = e.read(), e.code, e.headers["Content-Type"]
        return status, json.loads(body) if kind.startswith("application/json") else body.decode()

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"{}")
        finally:
            conn.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)


@pytest.fixture
def releases(tmp_path: Path) -> Releases:
    return Releases(Repo(tmp_path / "svc"), tmp_path)


@pytest.fixture
def served(releases: Releases) -> Iterator[Served]:
    s = Served(releases.repo, "--timeout", "1", "--max-connections", "3")
    yield s
    s.stop()


def test_serve_answers_the_api_and_the_page_over_real_http(
    releases: Releases, served: Served
) -> None:
    status, records = served.get("/api/v1/records")
    assert status == 200
    assert {r["id"] for r in records["records"]} == {releases.a, releases.c}
    assert records["project"] and records["stale"] is None
    status, scope = served.get("/api/v1/scope")
    assert status == 200 and scope["version"] == 2
    kinds = {t["kind"] for t in scope["targets"]}
    assert kinds == {"branch", "tag", "deployment"}
    # By default the release lines and the main line, not every branch.
    assert {t["ref"] for t in scope["targets"] if t["kind"] == "branch"} == {
        "refs/heads/master",
        "refs/heads/release/4.1",
    }
    prod = scope["environments"][0]
    assert prod["name"] == "production" and prod["severities"] == {"critical": 1, "high": 1}
    # The same judgement as the command line.
    cli = json.loads(releases.repo.poison("scope", "--summary", "--json").out)
    status, summary = served.get("/api/v1/summary")
    assert status == 200 and summary["environments"] == cli["environments"]
    status, page = served.get("/")
    assert status == 200 and page.startswith("<!DOCTYPE html>") and 'data-live="1"' in page
    status, version = served.get("/api/v1/version")
    assert status == 200 and version["key"] == scope["key"] and version["tool"] == "git-poison"


def test_a_new_record_or_cure_is_served_on_the_next_request(
    releases: Releases, served: Served
) -> None:
    _, before = served.get("/api/v1/version")
    _, summary = served.get("/api/v1/summary")
    assert summary["environments"][0]["uncured"] == 2
    _, again = served.get("/api/v1/version")
    assert again["key"] == before["key"]  # nothing changed: the same answers
    late = releases.repo.add_poison(
        releases.bug_a, "another bug there", "--severity", "medium", "--no-deployments"
    )
    _, after = served.get("/api/v1/version")
    assert after["key"] != before["key"]
    _, records = served.get("/api/v1/records")
    assert late in {r["id"] for r in records["records"]}
    _, summary = served.get("/api/v1/summary")
    assert summary["environments"][0]["uncured"] == 3
    assert summary["environments"][0]["severities"] == {"critical": 1, "high": 1, "medium": 1}
    # A new release tag changes the answers too (the refs are part of the key).
    releases.repo.git("tag", "v5.0.10")
    _, tagged = served.get("/api/v1/version")
    assert tagged["key"] != after["key"]


def test_serve_is_read_only_and_refuses_what_it_does_not_serve(served: Served) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        status, data = served.request(method, "/api/v1/records", body=b"{}")
        assert status == 405 and "no write endpoint" in data["error"], method
    status, data = served.request(
        "GET", "/api/v1/records", body=b"x" * 10, headers={"Content-Length": "10"}
    )
    assert status == 413
    status, data = served.request("GET", "/api/v1/records", headers={"Host": "evil.example:80"})
    assert status == 403 and "evil.example" in data["error"]
    status, data = served.request("GET", "/api/v1/nothing")
    assert status == 404 and "/api/v1/scope" in data["endpoints"]
    status, _ = served.request("GET", "/" + "a" * 2000)
    assert status == 414
    status, _ = served.request(
        "GET", "/api/v1/version", headers={"Host": f"localhost:{served.port}"}
    )
    assert status == 200


def test_serve_bounds_its_connections_and_lets_idle_ones_go(served: Served) -> None:
    idle = [socket.create_connection(("127.0.0.1", served.port), timeout=5) for _ in range(3)]
    time.sleep(0.3)  # accepted: the three slots are taken by clients that say nothing
    extra = socket.create_connection(("127.0.0.1", served.port), timeout=5)
    started = time.monotonic()
    assert extra.recv(1) == b""  # closed at once, not queued behind them
    assert time.monotonic() - started < 0.9
    extra.close()
    # The idle ones are let go after --timeout (1 s); then requests are answered again.
    for s in idle:
        s.settimeout(5)
        assert s.recv(1) == b""
        s.close()
    status, version = served.get("/api/v1/version")
    assert status == 200 and version["key"]


def test_sigterm_stops_it_cleanly(releases: Releases) -> None:
    s = Served(releases.repo, direct=True)
    assert s.get("/api/v1/version")[0] == 200
    assert s.stop() == 0
    assert s.proc.stderr is not None and "Traceback" not in s.proc.stderr.read()


def test_a_busy_port_is_a_one_line_error(releases: Releases) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = releases.repo.poison("serve", "--port", str(port))
    assert (
        r.rc == 2 and "cannot listen on 127.0.0.1" in r.err and len(r.err.strip().splitlines()) == 1
    )


def test_served_page_reloads_itself_when_a_record_is_added(
    releases: Releases, served: Served
) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_html_browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(served.url)
            assert page.locator("#matrix tbody tr").count() == 2
            heads = [h.split("\n")[0] for h in page.locator("#matrix thead th").all_inner_texts()]
            assert heads[1] == "production/eu/api" and heads[-1] == "tags"
            late = releases.repo.add_poison(releases.bug_a, "seen live", "--no-deployments")
            # The page asks /api/v1/version every 5 s and reloads when the key changes.
            page.wait_for_selector(f"code:text-is('{late}')", timeout=20_000)
            assert page.locator("#matrix tbody tr").count() == 3
        finally:
            browser.close()


def test_serve_on_ipv6_loopback(releases: Releases) -> None:
    s = Served(releases.repo, "--host", "::1")
    try:
        assert s.url.startswith("http://[::1]:")
        status, version = s.get("/api/v1/version")
        assert status == 200 and version["project"]
    finally:
        s.stop()
