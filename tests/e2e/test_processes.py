"""The adapter as it is deployed: separate web and worker processes against one Redis; and `make run`'s
embedded mode with nothing configured."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from tests.conftest import (
    ADMIN_TOKEN,
    APP_SECRET,
    ENCRYPTION_KEY,
    GRAPH_TOKEN,
    HELPDESK_TOKEN,
    INBOX_SECRET,
    PNID,
    TEST_REDIS_URL,
    WABA,
    wait_for,
)
from tests.e2e.conftest import ACCOUNT
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_embedded_mode_serves_healthz_with_nothing_configured() -> None:
    port = free_port()
    env = {"PORT": str(port), "REDIS_URL": "", "META_APP_SECRET": "", "ADMIN_TOKEN": "", "HELPDESK_BASE_URL": ""}
    process = spawn([sys.executable, "-m", "adapter.serve"], env)
    try:
        wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), timeout=20, message="healthz")
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()
        assert ready["workers"] >= 1  # the worker runs inside the same process
    finally:
        stop([process])
    output = process.stdout.read().decode() if process.stdout else ""
    assert "REDIS_URL is not set: running on an embedded in-process store" in output


@pytest.fixture
def processes(store: redis.Redis) -> Iterator[tuple[str, GraphSimulator, HelpdeskSimulator]]:
    graph = GraphSimulator(app_secret=APP_SECRET).start()
    helpdesk = HelpdeskSimulator().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "PORT": str(port), "REDIS_URL": TEST_REDIS_URL, "META_APP_SECRET": APP_SECRET, "ADMIN_TOKEN": ADMIN_TOKEN,
        "GRAPH_API_BASE_URL": graph.base_url, "HELPDESK_BASE_URL": helpdesk.base_url, "WEB_CONCURRENCY": "2",
        "WORKER_THREADS": "2", "QUEUE_PARTITIONS": "4", "LOG_LEVEL": "WARNING", "ENCRYPTION_KEY": ENCRYPTION_KEY,
    }
    started = [
        spawn([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "wsgi:app"], env),
        spawn([sys.executable, "-m", "adapter.worker"], env),
        spawn([sys.executable, "-m", "adapter.worker"], env),
    ]
    try:
        wait_for(lambda: healthy(url), timeout=20, message="web process")
        yield url, graph, helpdesk
    finally:
        stop(started)
        graph.stop()
        helpdesk.stop()


def ten_customers_and_a_reply(url: str, graph: GraphSimulator, helpdesk: HelpdeskSimulator) -> None:
    """Connect a number through the admin API; 10 customers write, an agent answers one: all of it arrives."""
    graph.add_phone_number(PNID, display_phone_number="15550783881", waba_id=WABA, access_token=GRAPH_TOKEN)
    helpdesk.add_account(ACCOUNT)
    helpdesk.add_user(ACCOUNT, token=HELPDESK_TOKEN)
    inbox = helpdesk.add_inbox(ACCOUNT, name="WA", webhook_url=f"{url}/webhooks/helpdesk/{PNID}", secret=INBOX_SECRET)
    channel = {
        "phone_number_id": PNID, "waba_id": WABA, "graph_access_token": GRAPH_TOKEN, "helpdesk_account_id": ACCOUNT,
        "helpdesk_inbox_id": inbox["id"], "helpdesk_api_token": HELPDESK_TOKEN, "helpdesk_webhook_secret": INBOX_SECRET,
    }
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    created = requests.post(f"{url}/admin/api/channels", json=channel, headers=auth, timeout=5)
    assert created.status_code == 201, created.text
    graph.webhook_url = f"{url}/webhooks/meta"
    customers = [f"1650555{n:04d}" for n in range(10)]
    for wa_id in customers:
        message = mp.text(f"hi from {wa_id}")
        payload = mp.inbound(PNID, wa_id=wa_id, name=f"Customer {wa_id}", message=message, waba_id=WABA)
        assert graph.post_webhook(payload).status_code == 200
    wait_for(lambda: len(helpdesk.messages) >= 10, timeout=30, message="10 inbound messages")
    assert len(helpdesk.contacts) == 10
    helpdesk.agent_reply(ACCOUNT, 1, "Hello!")
    sent = wait_for(lambda: graph.sent_messages, timeout=30, message="the reply sent to WhatsApp")
    assert sent[0]["body"]["text"]["body"] == "Hello!"


def test_web_and_two_workers_as_separate_processes_share_one_redis(
    processes: tuple[str, GraphSimulator, HelpdeskSimulator],
) -> None:
    url, graph, helpdesk = processes
    ten_customers_and_a_reply(url, graph, helpdesk)
    ready = requests.get(f"{url}/readyz", timeout=2).json()
    assert ready["workers"] == 4  # two processes x two consumer threads


def test_embedded_mode_carries_messages_both_ways() -> None:
    """`make run` without REDIS_URL: every Lua script and stream command runs on the embedded store too."""
    graph = GraphSimulator(app_secret=APP_SECRET).start()
    helpdesk = HelpdeskSimulator().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "PORT": str(port), "REDIS_URL": "", "META_APP_SECRET": APP_SECRET, "ADMIN_TOKEN": ADMIN_TOKEN,
        "GRAPH_API_BASE_URL": graph.base_url, "HELPDESK_BASE_URL": helpdesk.base_url, "LOG_LEVEL": "WARNING",
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
    }  # fmt: skip
    process = spawn([sys.executable, "-m", "adapter.serve"], env)
    try:
        wait_for(lambda: healthy(url), timeout=20, message="healthz")
        ten_customers_and_a_reply(url, graph, helpdesk)
    finally:
        stop([process])
        graph.stop()
        helpdesk.stop()
