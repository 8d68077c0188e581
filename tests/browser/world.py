"""The console's test world: settings, both simulators seeded with a helpdesk account and WhatsApp numbers,
and helpers that sign in, install and connect through the console. Used by the browser tests and by
tests/integration/test_console_*.py."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
from werkzeug.serving import make_server

from adapter import create_app
from adapter.clock import Clock, SystemClock
from adapter.services import Services
from adapter.settings import Settings
from tests.conftest import APP_SECRET, make_settings
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

ACCOUNT = 1
ADMIN_PASSWORD = "correct horse battery staple"
SESSION_SECRET = "console-session-secret"
HELPDESK_ADMIN_TOKEN = "helpdesk-admin-token"
HELPDESK_AGENT_TOKEN = "helpdesk-agent-token"
# The Graph simulator names its single app "app" in GET /{waba}/subscribed_apps: that is our META_APP_ID there.
META_APP_ID = "app"
META_CONFIG_ID = "config-123"

# A registered number (the manual path) and an unregistered one (Embedded Signup, then verification).
WABA = "102290129340398"
PNID = "106540352242922"
DISPLAY = "15550783881"
TOKEN = "system-user-token-1"
SIGNUP_WABA = "203300140450409"
SIGNUP_PNID = "207650463353033"
SIGNUP_DISPLAY = "15550199999"
SIGNUP_TOKEN = "business-token-2"
SECRETS = (ADMIN_PASSWORD, SESSION_SECRET, HELPDESK_ADMIN_TOKEN, TOKEN, SIGNUP_TOKEN, APP_SECRET)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def console_settings(graph: GraphSimulator | None, helpdesk: HelpdeskSimulator | None, **overrides: str) -> Settings:
    values = {
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SESSION_SECRET": SESSION_SECRET,
        "META_APP_ID": META_APP_ID,
        "META_CONFIG_ID": META_CONFIG_ID,
    }
    if graph is not None:
        values["GRAPH_API_BASE_URL"] = graph.base_url
    if helpdesk is not None:
        values["HELPDESK_BASE_URL"] = helpdesk.base_url
    values.update(overrides)
    return make_settings(**values)


def seed(graph: GraphSimulator, helpdesk: HelpdeskSimulator) -> dict[str, Any]:
    """A helpdesk account with an administrator, an agent and an AI agent bot; two WhatsApp numbers on Graph."""
    graph.reset()
    helpdesk.reset()
    graph.subscribed_apps.clear()
    graph.add_phone_number(PNID, display_phone_number=DISPLAY, waba_id=WABA, access_token=TOKEN,
                           name_status="APPROVED")  # fmt: skip
    graph.add_phone_number(SIGNUP_PNID, display_phone_number=SIGNUP_DISPLAY, waba_id=SIGNUP_WABA,
                           access_token=SIGNUP_TOKEN, verified_name="Acme Sales", registered=False)  # fmt: skip
    helpdesk.add_account(ACCOUNT)
    helpdesk.add_user(ACCOUNT, token=HELPDESK_ADMIN_TOKEN, name="Ada Admin", email="ada@acme.test")
    helpdesk.add_user(ACCOUNT, token=HELPDESK_AGENT_TOKEN, name="Al Agent", email="al@acme.test", admin=False)
    return helpdesk.add_agent_bot(ACCOUNT, name="Keloa AI")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'data-csrf="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: Any) -> str:
    """Sign the Flask test client in; returns the session's CSRF token."""
    page = client.get("/admin/login")
    response = client.post("/admin/login", data={"username": "admin", "password": ADMIN_PASSWORD,
                                                 "csrf_token": csrf_of(page.get_data(as_text=True))})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_of(client.get("/admin/install").get_data(as_text=True))


def install(client: Any, csrf: str, helpdesk: HelpdeskSimulator) -> Any:
    return client.post("/admin/install", data={"helpdesk_url": helpdesk.base_url, "account_id": str(ACCOUNT),
                                               "token": HELPDESK_ADMIN_TOKEN, "csrf_token": csrf})  # fmt: skip


def connect_manually(client: Any, csrf: str, *, bot: int | None = None, token: str = TOKEN) -> Any:
    return client.post("/admin/connect/manual", data={"waba_id": WABA, "phone_number_id": PNID, "token": token,
                                                      "agent_bot_id": "" if bot is None else str(bot),
                                                      "csrf_token": csrf})  # fmt: skip


@dataclass
class LiveAdapter:
    """The adapter (web + worker threads) on a chosen loopback port, so PUBLIC_BASE_URL can be its real URL."""

    services: Services
    url: str
    _server: Any
    _stop: threading.Event
    _threads: list[threading.Thread]

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server.shutdown()


@contextmanager
def live_adapter(store: redis.Redis, graph: GraphSimulator, helpdesk: HelpdeskSimulator,
                 clock: Clock | None = None, **overrides: str) -> Iterator[LiveAdapter]:  # fmt: skip
    from adapter.worker import start_worker

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = console_settings(graph, helpdesk, PUBLIC_BASE_URL=url, **overrides)
    app = create_app(settings, store=store, clock=clock or SystemClock())
    server = make_server("127.0.0.1", port, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    stop = threading.Event()
    services: Services = app.extensions["adapter"]
    live = LiveAdapter(services, url, server, stop, start_worker(services, stop, 2))
    graph.webhook_url = f"{url}/webhooks/meta"
    try:
        yield live
    finally:
        live.close()
