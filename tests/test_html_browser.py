"""The `scope --format html` page in a real browser: Debian's chromium, driven by
Playwright's Python package pointed at it (no browser download; `scripts/test.sh`
installs chromium with apt). Screenshots are decoded and their pixels checked."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from tests.gitrepo import Repo
from tests.test_environments import Releases

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AFFECTED_RGB = (0xF8, 0xC9, 0xC4)
CURED_RGB = (0xC8, 0xEB, 0xC5)
HOSTILE = "<img src=x onerror=alert(1)> leak"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Site:
    """Releases (two records on deployed tags) plus 30 feature branches, and a third
    record, poisoned and cured on master after every release, whose comment is HTML."""

    def __init__(self, tmp: Path) -> None:
        self.r = Releases(Repo(tmp / "svc"), tmp)
        repo = self.r.repo
        for i in range(30):
            repo.branch(f"feature/f{i:02d}", self.r.bug_a)
        leak = repo.commit("leak", {"leak.c": "malloc\n"})
        self.e = repo.add_poison(leak, HOSTILE, "--severity", "low", "--bug", "OPS-9")
        repo.add_cure(self.e, repo.commit("free", {"leak.c": "free\n"}))
        self.page = tmp / "scope.html"
        r = repo.poison("scope", "--tags", "--format", "html", "-o", str(self.page))
        assert r.rc == 1, r.err
        self.url = self.page.as_uri()
        listed = json.loads(repo.poison("list", "--no-where", "--json").out)["records"]
        self.recorded = [r["id"] for r in listed]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return Site(tmp_path_factory.mktemp("site"))


def _open(browser: Browser, site: Site, **context: Any) -> tuple[Page, list[str], list[str]]:
    page = browser.new_page(**context)
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(site.url)
    return page, requests, dialogs


def _png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _near(rgb: tuple[int, ...], want: tuple[int, int, int], tol: int = 4) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=False))


def _share(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 2) -> float:
    """The share of `pixels` (n x 3) within `tol` of `rgb`."""
    return float((np.abs(pixels - np.array(rgb)) <= tol).all(axis=1).mean())


def _row(page: Page, record_id: str) -> Any:
    return page.locator("#matrix tbody tr", has=page.locator(f"code:text-is('{record_id}')"))


def _cell(page: Page, record_id: str, column: str) -> Any:
    heads = page.locator("#matrix thead th").all_inner_texts()
    index = [h.split("\n")[0] for h in heads].index(column)
    return _row(page, record_id).locator("> *").nth(index)


def test_deployments_and_release_lines_come_first_and_the_rest_folds(
    browser: Browser, site: Site
) -> None:
    page, requests, dialogs = _open(browser, site, viewport={"width": 1280, "height": 900})
    heads = [h.split("\n")[0] for h in page.locator("#matrix thead th").all_inner_texts()]
    assert heads == [
        "record",
        "production/eu/api",
        "production/us/api",
        "production/canary/api",
        "staging/api",
        "staging/old",
        "legacy",
        "master",
        "release/4.1",
        "tags",
        "other branches",
    ]
    assert _cell(page, site.r.a, "other branches").inner_text() == "30 of 30 affected"
    assert _cell(page, site.r.a, "tags").inner_text() == "3 of 5 affected"
    # The page asked for nothing but itself, and the hostile comment stayed text.
    assert requests == [site.url] and dialogs == []
    assert HOSTILE in _row(page, site.e).inner_text()
    page.close()


def test_summary_on_top_with_generation_time_and_record_freshness(
    browser: Browser, site: Site
) -> None:
    page, _, _ = _open(browser, site, viewport={"width": 1280, "height": 900})
    top = page.locator("#top").bounding_box()
    summary = page.locator("#summary").bounding_box()
    records = page.locator("#records").bounding_box()
    assert top and summary and records
    assert top["y"] < summary["y"] < records["y"]
    meta = page.locator("#generated").inner_text()
    assert re.search(r"Generated 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\.", meta), meta
    assert "poisons commit " in meta and "local records (no poison.remote)" in meta
    prod = page.locator("section.env[data-env='production']")
    assert prod.locator("h3").inner_text() == "production: 2 uncured (1 critical, 1 high) in 2 of 3"
    assert "upgrade to v4.1.1, the first 4.1 release with the fix" in prod.inner_text()
    assert "doubt" in (page.locator("section.env[data-env='legacy']").get_attribute("class") or "")

    shot = _png(page.screenshot())
    assert shot.size == (1280, 900)
    # The summary is drawn, not blank: its cards' tints and text cover part of it.
    box = page.locator("#summary").bounding_box()
    assert box
    region = shot.crop(
        (
            int(box["x"]),
            int(box["y"]),
            int(box["x"] + box["width"]),
            int(min(900, box["y"] + box["height"])),
        )
    )
    pixels = np.asarray(region).reshape(-1, 3).astype(int)
    assert (pixels != 255).any(axis=1).mean() > 0.2
    assert _share(pixels, (0xFD, 0xF0, 0xEF)) > 0.05  # the affected environment's tint
    page.close()


def test_status_cells_have_their_colour_in_the_screenshot(browser: Browser, site: Site) -> None:
    page, _, _ = _open(browser, site, viewport={"width": 1280, "height": 900})
    shot = _png(page.screenshot(full_page=True))
    for record, column, rgb in (
        (site.r.a, "production/eu/api", AFFECTED_RGB),
        (site.r.a, "production/canary/api", CURED_RGB),
        (site.r.c, "release/4.1", CURED_RGB),
        (site.r.a, "release/4.1", AFFECTED_RGB),
    ):
        box = _cell(page, record, column).bounding_box()
        assert box, (record, column)
        corner = shot.getpixel((int(box["x"] + 3), int(box["y"] + 3)))
        assert _near(corner, rgb), (record, column, corner)
    page.close()


def test_filter_and_sort_by_severity_status_and_bug_without_a_server(
    browser: Browser, site: Site
) -> None:
    page, _, _ = _open(browser, site, viewport={"width": 1280, "height": 900})

    def shown() -> list[str]:
        return [
            r.locator("code").first.inner_text()
            for r in page.locator("#matrix tbody tr:not([hidden])").all()
        ]

    recorded = site.recorded  # the order records were made in (ties: by id)
    assert shown() == recorded
    assert page.locator("#shown").inner_text() == "3 of 3 records shown"
    page.fill("#q", "cache")
    assert shown() == [site.r.a]
    page.fill("#q", "ops-9")  # the bug reference, any case
    assert shown() == [site.e]
    page.fill("#q", "")
    page.select_option("#sev", "4")
    assert shown() == [site.r.c]
    page.select_option("#sev", "0")
    # The third record is cured wherever it is known, but one deployment's revision is
    # unknown: doubt, never "cured".
    page.select_option("#status", "cured")
    assert shown() == []
    page.select_option("#status", "undecided")
    assert shown() == [site.e]
    page.select_option("#status", "affected")
    assert shown() == [i for i in recorded if i != site.e]
    page.select_option("#status", "")
    page.select_option("#sort", "severity")
    assert shown() == [site.r.c, site.r.a, site.e]
    page.select_option("#sort", "bug")
    assert shown()[0] == site.e  # the only one with a bug reference
    page.select_option("#sort", "pos")
    assert shown() == recorded
    page.close()


def test_evidence_opens_by_click_and_by_keyboard(browser: Browser, site: Site) -> None:
    page, _, _ = _open(browser, site, viewport={"width": 1280, "height": 900})
    deployed = _cell(page, site.r.a, "production/eu/api")
    evidence = deployed.locator(".ev")
    assert not evidence.is_visible()
    deployed.locator("summary").click()
    assert evidence.is_visible()
    text = evidence.inner_text()
    assert "production/eu/api: affected" in text and "revision v4.1.0" in text
    assert f"needs a release with cure {site.r.fix_a[:12]}" in text

    branch = _cell(page, site.r.a, "release/4.1")
    branch.locator("summary").focus()
    page.keyboard.press("Enter")
    assert branch.locator(".ev").is_visible()
    assert f"git cherry-pick -x {site.r.fix_a}" in branch.locator(".ev").inner_text()
    page.keyboard.press("Enter")
    assert not branch.locator(".ev").is_visible()
    # Tab reaches the cells: from the last control, the next stops are cells' summaries.
    page.focus("#sort")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.close()


def test_usable_on_a_phone(browser: Browser, site: Site) -> None:
    page, _, _ = _open(
        browser,
        site,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=1,
    )
    # No sideways scrolling of the page: the wide table scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate(
        "(() => { const w = document.querySelector('.wrap');"
        " return w.scrollWidth > w.clientWidth; })()"
    )
    cards = page.locator("section.env").all()
    assert len(cards) == 3
    first = cards[0].bounding_box()
    assert first and first["width"] <= 390 and first["x"] >= 0
    shot = _png(page.screenshot())
    assert shot.size == (390, 844)
    # The summary fills the top of the phone's screen (the production card's tint).
    top = np.asarray(shot.crop((0, 0, 390, 400))).reshape(-1, 3).astype(int)
    assert _share(top, (0xFD, 0xF0, 0xEF)) > 0.1
    cell = _cell(page, site.r.a, "production/eu/api")
    cell.locator("summary").tap()
    assert cell.locator(".ev").is_visible()
    page.close()


def test_at_real_scale_the_table_stays_narrow(browser: Browser, tmp_path: Path) -> None:
    """680 feature branches and 300 tags (the issue's repository had 1,011 columns, the
    deployments at columns 1,005-1,010): the deployments and release lines keep their
    columns, everything else folds into two."""
    r = Releases(Repo(tmp_path / "svc"), tmp_path)
    repo = r.repo
    lines = [f"create refs/heads/feature/f{i:03d} {r.bug_a}" for i in range(680)]
    lines += [f"create refs/heads/release/3.{i} {r.bug_a}" for i in range(8)]
    lines += [f"create refs/tags/build-{i:03d} {r.bug_c}" for i in range(300)]
    repo.git("update-ref", "--stdin", input="\n".join(lines) + "\n")
    out = tmp_path / "scope.html"
    res = repo.poison("scope", "--tags", "--format", "html", "-o", str(out))
    assert res.rc == 1, res.err
    size = out.stat().st_size
    assert size < 60_000, size  # two records: a few KB of page, not one cell per ref
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(out.as_uri())
    heads = [h.split("\n")[0] for h in page.locator("#matrix thead th").all_inner_texts()]
    assert heads[1:7] == [
        "production/eu/api",
        "production/us/api",
        "production/canary/api",
        "staging/api",
        "staging/old",
        "legacy",
    ]
    assert heads[-2:] == ["tags", "other branches"]
    assert len(heads) == 1 + 6 + 1 + 9 + 2  # record, deployments, master, 9 release/*, folded
    assert _cell(page, r.a, "other branches").inner_text() == "680 of 680 affected"
    folded = _cell(page, r.a, "other branches")
    folded.locator("summary").click()
    listed = folded.locator(".ev").inner_text().splitlines()
    heads = [ln for ln in listed if not ln.startswith(" ")]
    assert len(heads) == 51 and heads[-1] == "and 630 more"  # listed, but bounded
    assert heads[0] == "feature/f000: affected"
    assert f"    poison {r.bug_a[:12]}" in listed  # with the evidence
    # The deployments are on the first screen, not 1,000 columns to the right.
    box = _cell(page, r.a, "production/eu/api").bounding_box()
    assert box and box["x"] + box["width"] < 1280
    page.close()
