"""A real browser for the widget tests: Playwright driving Debian's Chromium (never `playwright install`).

Pages are opened from disk (or from a loopback JupyterLab server); every other request is recorded,
and a test fails if a page asked for anything. Screenshots go to tests/browser/artifacts/ (git-ignored) to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `apt-get install -y chromium` (.ci/run does this).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _local(url: str) -> bool:
    """file:, data: and blob: URLs, and the loopback JupyterLab server: nothing else may be asked for."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    return parsed.scheme in ("file", "data", "blob") or parsed.hostname in ("127.0.0.1", "localhost", "::1")


class Page:
    """A browser page that records outside requests and console errors."""

    def __init__(self, browser, color_scheme: str = "light"):
        self.context = browser.new_context(color_scheme=color_scheme, viewport={"width": 1000, "height": 700})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: None if _local(r.url) else self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def open(self, path: Path):
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_selector("body[data-saew-ready='1']", timeout=15_000)
        return self.page

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        out = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(out), full_page=True)
        return out

    def close(self):
        self.context.close()


@pytest.fixture
def page(browser):
    opened = []

    def make(color_scheme: str = "light") -> Page:
        p = Page(browser, color_scheme)
        opened.append(p)
        return p

    yield make
    for p in opened:
        assert p.requests == [], f"the page reached for the network: {p.requests}"
        assert p.errors == [], f"the page logged errors: {p.errors}"
        p.close()
