"""The dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by playwright): the slate table, the
status grid and every chart render, sorting and filtering work, and the console stays clean. A full-page
screenshot is saved in the test's tmp dir and in pytest's cache (`.pytest_cache/d/observe-artifacts/`)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.observe.conftest import DATES, RERUN_DATE, Observed, chromium_path, cli

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed (/usr/bin/chromium; `.ci/run` installs it with `apt-get install "
                    "chromium`): the dashboard cannot be opened in a browser here")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the `playwright` package is not installed "
                                   "(pip install playwright; it drives the system Chromium, no browser download)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_api.sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 900}, offline=True)
            problems: list[str] = []
            page = context.new_page()
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            yield page, problems
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("html[data-ready='1']", timeout=10_000)


def test_dashboard_renders_in_chromium_without_console_errors(observed: Observed, browser_page: tuple[Any, list[str]],
                                                              tmp_path: Path, request: pytest.FixtureRequest):
    page, problems = browser_page
    result = cli(observed.home, observed.code, "report")
    assert result.returncode == 0, result.stderr
    report = observed.home / "report"
    _open(page, (report / f"slate-{RERUN_DATE}.html").as_uri())

    rows = page.locator("#slate tbody tr")
    assert rows.count() > 300 and page.locator("#slate thead th").count() >= 8
    for chart in ("#plot-actual svg", "#plot-ownership svg", "#plot-bands svg", "#plot-runs svg"):
        box = page.locator(chart).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150, chart
    assert page.locator("#plot-actual circle.pt:not(.key)").count() > 200
    assert page.locator("#plot-bands rect.band-outer:not(.key)").count() == 40
    assert page.locator("#status tbody tr").count() == 1  # its own: the index has every date's

    salary = page.locator("#slate thead th", has_text="salary")
    salary.click()  # ascending
    salary.click()  # descending
    values = [float(v) for v in page.locator("#slate tbody tr td:nth-child(5)").evaluate_all(
        "cells => cells.slice(0, 20).map(c => c.dataset.v)")]
    assert values == sorted(values, reverse=True) and salary.get_attribute("aria-sort") == "descending"
    page.fill("#slate-filter", "giannis antetokounmpo")
    assert page.locator("#slate tbody tr:not([hidden])").count() == 1
    assert page.locator("#slate-count").inner_text() == "1 players"
    page.fill("#slate-filter", "")

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    artifacts = cache.mkdir("observe-artifacts") if cache is not None else tmp_path / "artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copy(shot, artifacts / "dashboard.png")
    print(f"dashboard screenshot: {shot} (copy: {artifacts / 'dashboard.png'})")

    _open(page, (report / "index.html").as_uri())
    assert page.locator("#slate tbody tr").count() > 50
    assert page.locator("#status tbody tr").count() == len(DATES) + 1
    assert page.locator("#status td.st-F").count() >= 1  # the failed date
    assert problems == [], problems


def test_the_console_check_catches_a_broken_page(browser_page: tuple[Any, list[str]]):
    """Control for the test above: a page whose script throws is reported."""
    page, problems = browser_page
    seen = len(problems)
    page.set_content("<html><body><script>undefinedFunction()</script></body></html>")
    page.wait_for_timeout(100)
    assert any("undefinedFunction" in p for p in problems[seen:]), problems
    del problems[seen:]
