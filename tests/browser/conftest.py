"""Browser fixtures: Debian's Chromium driven by Playwright, the stand-in Meta SDK on loopback, both simulators
and the adapter (web + workers) on a real loopback port. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.browser.world import LiveAdapter, free_port, live_adapter, seed
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent / "artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium (apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def sdk_url() -> Iterator[str]:
    """The stand-in SDK at http://127.0.0.1:<port>/en_US/sdk.js (another origin than the console, like Meta's)."""
    script = (HERE / "fake_fb_sdk.js").read_bytes()

    @Request.application  # type: ignore[misc]
    def serve(request: Request) -> Response:
        if request.path != "/en_US/sdk.js":
            return Response("not found", status=404)
        return Response(script, mimetype="application/javascript", headers={"Access-Control-Allow-Origin": "*"})

    port = free_port()
    server = make_server("127.0.0.1", port, serve, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/en_US/sdk.js"
    server.shutdown()


@pytest.fixture
def bot(graph: GraphSimulator, helpdesk: HelpdeskSimulator) -> dict[str, Any]:
    return seed(graph, helpdesk)


@pytest.fixture
def live(store: redis.Redis, graph: GraphSimulator, helpdesk: HelpdeskSimulator, sdk_url: str,
         bot: dict[str, Any]) -> Iterator[LiveAdapter]:  # fmt: skip
    with live_adapter(store, graph, helpdesk, META_SDK_URL=sdk_url) as adapter:
        yield adapter


class Shots:
    """Full-page screenshots named <test>-<n>-<what>.png in tests/artifacts/."""

    def __init__(self, page: Any, test: str) -> None:
        self.page, self.test, self.count = page, test, 0
        ARTIFACTS.mkdir(exist_ok=True)

    def __call__(self, what: str) -> Path:
        self.count += 1
        path = ARTIFACTS / f"{self.test}-{self.count:02d}-{what}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.errors = errors
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shot(page: Any, request: pytest.FixtureRequest) -> Shots:
    return Shots(page, request.node.name.removeprefix("test_")[:40])
