"""Shared fixtures: settings, a real flushed Redis, the app, signing helpers, simulators, a running adapter."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from hypothesis import settings as hypothesis_settings
from werkzeug.serving import make_server

from adapter import create_app
from adapter.clock import Clock, SystemClock
from adapter.helpdesk import signature as helpdesk_signature
from adapter.meta import signature as meta_signature
from adapter.services import Services
from adapter.settings import Settings, load_settings
from adapter.store import keys
from adapter.store.channels import Channel
from adapter.store.connection import connect, is_cluster
from adapter.store.deferred import DeferredWrites
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

# Property tests run the same examples on every run and have no time limit per example: on a loaded CI machine a
# slow example is not a failure, and a failure found once is found again.
hypothesis_settings.register_profile("repeatable", deadline=None, derandomize=True, database=None)
hypothesis_settings.load_profile("repeatable")

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ADMIN_TOKEN = "test-admin-token"
PNID = "106540352242922"
WABA = "102290129340398"
GRAPH_TOKEN = "graph-token-1"
HELPDESK_TOKEN = "helpdesk-token-1"
INBOX_SECRET = "inbox-secret-1"
ENCRYPTION_KEY = "kN8hM6bqk3z2Qm8k5Ck3Yq1aB0cD9eF8gH7iJ6kL5mA="


@pytest.fixture(autouse=True)
def _deferred_writes_end_with_their_test(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every app's flusher of deferred writes stops with its test, so none writes into a later test's Redis."""
    made: list[DeferredWrites] = []
    init = DeferredWrites.__init__

    def tracked(self: DeferredWrites, *args: Any, **kw: Any) -> None:
        init(self, *args, **kw)
        made.append(self)

    monkeypatch.setattr(DeferredWrites, "__init__", tracked)
    yield
    for deferred in made:
        deferred.close()


def open_test_store() -> Any:
    """A client for TEST_REDIS_URL as the adapter opens it: a Redis, or a RedisCluster when it names a cluster's
    node (then FLUSHDB goes to every primary)."""
    return connect(TEST_REDIS_URL)


ON_CLUSTER = is_cluster(open_test_store())


@pytest.fixture
def store() -> Iterator[redis.Redis]:
    client = open_test_store()
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphSimulator]:
    """A Graph API simulator of the module's own (the console tests seed it with tests.browser.world)."""
    sim = GraphSimulator(app_secret=APP_SECRET).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def helpdesk() -> Iterator[HelpdeskSimulator]:
    sim = HelpdeskSimulator().start()
    yield sim
    sim.stop()


def make_settings(**overrides: str) -> Settings:
    environ = {
        "REDIS_URL": TEST_REDIS_URL,
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": VERIFY_TOKEN,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "HELPDESK_BASE_URL": "http://127.0.0.1:9",
        "GRAPH_API_BASE_URL": "http://127.0.0.1:9",
        "PUBLIC_BASE_URL": "https://adapter.test",
        "QUEUE_PARTITIONS": "4",
        "RETRY_BASE_SECONDS": "0.05",
        "RETRY_MAX_SECONDS": "0.2",
        "JOB_MAX_ATTEMPTS": "4",
        "HTTP_TIMEOUT_SECONDS": "5",
        "UNKNOWN_OUTCOME_WAIT_SECONDS": "1",
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "LOG_FORMAT": "text",
    }
    environ.update(overrides)
    return load_settings(environ)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings, store: redis.Redis) -> Any:
    return create_app(settings, store=store)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class RoundTrips:
    """Counts round trips to Redis: the commands of one client (a script's EVALSHA among them), and pipelines as
    one each."""

    def __init__(self, store: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        command: Callable[..., Any] = store.execute_command
        pipeline_class = redis.cluster.ClusterPipeline if ON_CLUSTER else redis.client.Pipeline
        pipeline: Callable[..., Any] = pipeline_class.execute

        def count_command(*args: Any, **kw: Any) -> Any:
            self.count += 1
            return command(*args, **kw)

        def count_pipeline(pipe: redis.client.Pipeline, *args: Any, **kw: Any) -> Any:
            self.count += 1
            return pipeline(pipe, *args, **kw)

        monkeypatch.setattr(store, "execute_command", count_command)
        monkeypatch.setattr(pipeline_class, "execute", count_pipeline)


@pytest.fixture
def round_trips(store: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    return RoundTrips(store, monkeypatch)


def sign_meta(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {meta_signature.HEADER: meta_signature.generate_signature(secret, body), "Content-Type": "application/json"}


def sign_helpdesk(body: bytes, secret: str = INBOX_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        helpdesk_signature.SIGNATURE_HEADER: helpdesk_signature.generate_signature(secret, ts, body),
        helpdesk_signature.TIMESTAMP_HEADER: ts,
        "Content-Type": "application/json",
    }


def make_channel(**overrides: Any) -> Channel:
    values: dict[str, Any] = {
        "phone_number_id": PNID,
        "display_phone_number": "15550783881",
        "waba_id": WABA,
        "helpdesk_account_id": 1,
        "helpdesk_inbox_id": 12,
        "graph_access_token": GRAPH_TOKEN,
        "helpdesk_api_token": HELPDESK_TOKEN,
        "helpdesk_webhook_secret": INBOX_SECRET,
    }
    values.update(overrides)
    return Channel(**values)


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, message: str = "condition") -> Any:
    """Poll until condition() is truthy (end-to-end work is asynchronous)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {message}")


class RunningAdapter:
    """The adapter's web app on a real loopback port, with worker threads beside it."""

    def __init__(self, settings: Settings, store: redis.Redis, clock: Clock | None = None, threads: int = 2) -> None:
        from adapter.worker import start_worker

        self.app = create_app(settings, store=store, clock=clock or SystemClock())
        self.services: Services = self.app.extensions["adapter"]
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._serving = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._serving.start()
        self.stop_event = threading.Event()
        self.threads = start_worker(self.services, self.stop_event, threads) if threads else []
        if threads:  # running means its consumers have announced themselves (as /readyz counts them)
            wait_for(lambda: store.zcard(keys.WORKERS) >= threads, timeout=10, message="the worker threads' heartbeats")

    def close(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.server.shutdown()
