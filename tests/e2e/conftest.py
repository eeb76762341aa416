"""Browser tests: Debian's Chromium driven by Playwright against the live server.

Chromium is the ``chromium`` found on PATH (``playwright install`` cannot
download here). Without it these tests are skipped with one clear line.
Every page visited is watched: console errors, CSP violations, failed requests
and HTTP errors on sub-resources fail the test; a screenshot of the failing
step is saved under ``tests/e2e/artifacts/``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent / "artifacts"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}

if CHROMIUM is None:
    collect_ignore_glob = ["test_*.py"]
    print("e2e: no chromium on PATH; browser tests skipped (apt-get install chromium)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class Watcher:
    """Collects what a person would notice as broken on every page."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.problems: list[str] = []

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.text.startswith("Failed to load resource"):
            return  # sub-resources are checked in _response; a page's own 4xx is the test's business
        if message.type in ("error", "warning") and (
                message.type == "error" or "Content Security Policy" in message.text):
            self.problems.append(f"console {message.type}: {message.text}")

    def _failed(self, request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure:
            return  # cancelled by the browser because the page moved on (a click, a 303), not broken
        self.problems.append(f"request failed: {request.url} {failure}")

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"HTTP {response.status} for {response.url}")


def _new_page(browser, base_url, request, **context_args):
    context = browser.new_context(base_url=base_url, **context_args)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watcher = Watcher(base_url)
    watcher.attach(page)
    page.watcher = watcher
    return context, page


def _finish(context, page, request) -> None:
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    problems = page.watcher.problems
    context.close()
    assert not problems, "the browser noticed: " + "; ".join(problems)


@pytest.fixture
def page(browser, base_url, request):
    """A desktop-sized page; fails the test on console errors, CSP violations, failed requests."""
    context, page = _new_page(browser, base_url, request, viewport={"width": 1280, "height": 900})
    yield page
    _finish(context, page, request)


@pytest.fixture
def phone_page(browser, base_url, request):
    """The same, phone-sized (390 × 844, touch)."""
    context, page = _new_page(browser, base_url, request, **PHONE)
    yield page
    _finish(context, page, request)


@pytest.fixture
def step(request):
    """``step(page, "name")``: a screenshot per step, kept when the test fails."""
    shots: list[Path] = []

    def take(page, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{len(shots):02d}-{name}.png"
        page.screenshot(path=str(path))
        shots.append(path)

    yield take
    failed = getattr(request.node, "rep_call", None)
    if failed is None or not failed.failed:
        for path in shots:
            path.unlink(missing_ok=True)
