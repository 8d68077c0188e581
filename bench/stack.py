"""The whole adapter on loopback: both simulators, gunicorn web, N worker processes, one registered channel."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from adapter.clock import SystemClock
from adapter.queue.queue import JobQueue
from adapter.settings import read_defaults
from adapter.store import keys
from adapter.store.connection import Store, connect
from bench import payloads
from bench.procs import PYTHON, Procs, clean_env, free_port, gunicorn_adapter, wait_http

ADMIN_TOKEN = "bench-admin-token"
GRAPH_TOKEN = "bench-graph-token"
HELPDESK_TOKEN = "bench-helpdesk-token"
INBOX_SECRET = "bench-inbox-secret"


@dataclass
class Stack:
    redis_url: str
    adapter: str  # http://127.0.0.1:PORT
    graph: str
    helpdesk: str
    inbox_id: int
    web: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    sims: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _client: Store | None = None

    @property
    def meta_webhook(self) -> str:
        return f"{self.adapter}/webhooks/meta"

    def store(self) -> Store:
        """The bench's own client of the adapter's Redis (one, kept: a cluster client maps the slots first)."""
        if self._client is None:
            self._client = connect(self.redis_url)
        return self._client

    def queue(self) -> JobQueue:
        """The adapter's queue as the bench reads it (backlog, dead letters)."""
        partitions = int(read_defaults()["QUEUE_PARTITIONS"])
        return JobQueue(self.store(), partitions=partitions, dedupe_ttl_seconds=1, clock=SystemClock())

    def streams(self) -> list[str]:
        """The queue's partition streams (named by the adapter's key module, not scanned for: SCAN is O(keys))."""
        return [keys.stream(p) for p in range(int(read_defaults()["QUEUE_PARTITIONS"]))]

    def backlog(self) -> int:
        """Jobs still on the queue streams (entries are deleted once acked)."""
        pipe = self.store().pipeline(transaction=False)
        for stream in self.streams():
            pipe.xlen(stream)
        return sum(int(n) for n in pipe.execute())

    def helpdesk_info(self) -> dict[str, Any]:
        return dict(get_json(f"{self.helpdesk}/_bench/info"))

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the queue is empty and the helpdesk has delivered its webhooks, so phases do not overlap."""
        self._until(lambda: self.backlog() == 0 and self.webhooks_pending() == 0, timeout)
        time.sleep(1.0)  # in-flight jobs (read, not yet acked) and the last echoes

    def wait_for_webhooks(self, timeout: float = 60.0) -> None:
        """Wait until the helpdesk has delivered its webhooks (the queue may stay full: nobody need consume)."""
        self._until(lambda: self.webhooks_pending() == 0, timeout)

    def webhooks_pending(self) -> int:
        return int(self.helpdesk_info()["webhooks_pending"])

    @staticmethod
    def _until(done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            time.sleep(0.2)

    def conversations(self) -> list[int]:
        """The helpdesk simulator's conversation ids; an error when there are none (no inbound phase delivered)."""
        found = list(get_json(f"{self.helpdesk}/_bench/conversations"))
        if not found:
            raise RuntimeError("no conversation in the helpdesk simulator: the inbound phases delivered nothing")
        return found

    def helpdesk_messages(self, after: int = 0) -> list[list[Any]]:
        return list(get_json(f"{self.helpdesk}/_bench/messages?after={after}"))

    def graph_sends(self, after: int = 0) -> list[list[Any]]:
        return list(get_json(f"{self.graph}/_bench/sends?after={after}")["sends"])


def flush(db: int) -> None:
    """Empty a bench database without blocking other users of this Redis."""
    with redis.Redis(db=db) as store:
        store.flushdb(asynchronous=True)


def get_json(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        answer = exc.read(500).decode(errors="replace")
        raise RuntimeError(f"{request.method} {url} answered {exc.code}: {answer}") from None


def start(
    procs: Procs,
    *,
    db: int = 0,
    redis_url: str = "",
    workers: int = 2,
    web_workers: int = 2,
    web_threads: int = 4,
    env: dict[str, str] | None = None,
) -> Stack:
    """Start everything, register the channel, and return once a worker is up (none is started with `workers`
    0: the caller consumes). `env`: adapter settings added to, or replacing, the stack's own. The adapter's
    Redis is database `db` of the local Redis, or `redis_url` (a single Redis or a cluster's node)."""
    redis_url = redis_url or f"redis://127.0.0.1:6379/{db}"
    with connect(redis_url) as store:
        store.flushdb()
    adapter_port, graph_port, helpdesk_port = free_port(), free_port(), free_port()
    adapter = f"http://127.0.0.1:{adapter_port}"
    graph = f"http://127.0.0.1:{graph_port}"
    helpdesk = f"http://127.0.0.1:{helpdesk_port}"
    graph_sim = procs.start("graph-sim", [
        PYTHON, "-m", "bench.sims", "graph", "--port", str(graph_port), "--app-secret", payloads.APP_SECRET,
        "--phone-number-id", payloads.PNID, "--display-phone-number", payloads.DISPLAY,
        "--waba-id", payloads.WABA, "--access-token", GRAPH_TOKEN,
    ], env=clean_env())  # fmt: skip
    helpdesk_sim = procs.start("helpdesk-sim", [
        PYTHON, "-m", "bench.sims", "helpdesk", "--port", str(helpdesk_port), "--token", HELPDESK_TOKEN,
        "--webhook-url", f"{adapter}/webhooks/helpdesk/{payloads.PNID}", "--secret", INBOX_SECRET,
    ], env=clean_env())  # fmt: skip
    adapter_env = clean_env(**{
        "REDIS_URL": redis_url, "META_APP_SECRET": payloads.APP_SECRET,
        "ADMIN_TOKEN": ADMIN_TOKEN, "GRAPH_API_BASE_URL": graph, "HELPDESK_BASE_URL": helpdesk,
        "PUBLIC_BASE_URL": adapter, "PORT": str(adapter_port), "WEB_CONCURRENCY": str(web_workers),
        "WEB_THREADS": str(web_threads), "LOG_LEVEL": "WARNING",
        "ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),  # channels are only stored encrypted
        **(env or {}),
    })  # fmt: skip
    web = gunicorn_adapter(procs, "web", adapter_port, adapter_env)
    started = [procs.start(f"worker-{n}", [PYTHON, "-m", "adapter.worker"], env=adapter_env) for n in range(workers)]
    wait_http(f"{graph}/_bench/ping", procs, ok=(200,))
    wait_http(f"{helpdesk}/_bench/ping", procs, ok=(200,))
    wait_http(f"{adapter}/healthz", procs, ok=(200,))
    inbox_id = int(get_json(f"{helpdesk}/_bench/info")["inbox_id"])
    channel = {
        "phone_number_id": payloads.PNID,
        "display_phone_number": payloads.DISPLAY,
        "waba_id": payloads.WABA,
        "graph_access_token": GRAPH_TOKEN,
        "helpdesk_account_id": 1,
        "helpdesk_inbox_id": inbox_id,
        "helpdesk_api_token": HELPDESK_TOKEN,
        "helpdesk_webhook_secret": INBOX_SECRET,
    }
    get_json(f"{adapter}/admin/api/channels", channel, {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    if workers:
        wait_http(f"{adapter}/readyz", procs, ok=(200,))  # 200 once a worker heartbeats
    sims = {"graph": graph_sim, "helpdesk": helpdesk_sim}
    return Stack(redis_url, adapter, graph, helpdesk, inbox_id, web=web, workers=started, sims=sims)
