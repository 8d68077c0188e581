"""Redis restarted during a flow: the web answers 503 (so Meta retries) while it is away, never 200 for
something it did not store; once Redis is back every message arrives, once."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import redis
import requests

from tests.conftest import (
    PNID,
    WABA,
    wait_for,
)
from tests.e2e.conftest import build_world
from tests.faults.conftest import RestartableRedis
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

pytestmark = pytest.mark.own_redis
MESSAGES = 60


def test_a_redis_restart_mid_flow_loses_nothing(
    own_redis: RestartableRedis, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator
) -> None:
    store = redis.Redis.from_url(own_redis.url, decode_responses=True, socket_timeout=2, socket_connect_timeout=0.5)
    world = build_world(
        store, graph_server, helpdesk_server,
        REDIS_URL=own_redis.url, RETRY_BASE_SECONDS="0.2", RETRY_MAX_SECONDS="1", JOB_MAX_ATTEMPTS="100",
    )
    graph, helpdesk = world.graph, world.helpdesk
    try:
        answers: Counter[int] = Counter()
        wamids: list[str] = []

        def meta_delivers(index: int) -> None:
            """Like Meta: POST until answered 200."""
            payload = mp.inbound(PNID, wa_id="16505551234", name="Sheena", message=mp.text(f"m{index}"), waba_id=WABA)
            wamids.append(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
            while True:
                try:
                    status = graph.post_webhook(payload).status_code
                except requests.RequestException:
                    status = 0
                answers[status] += 1
                if status == 200:
                    return
                time.sleep(0.1)

        restarted = threading.Event()

        def restart_redis() -> None:
            time.sleep(0.3)
            own_redis.stop()
            time.sleep(1.5)
            own_redis.start()
            restarted.set()

        threading.Thread(target=restart_redis, daemon=True).start()
        for index in range(MESSAGES):
            meta_delivers(index)
            time.sleep(0.03)
        wait_for(restarted.is_set, timeout=30, message="redis restarted")
        wait_for(lambda: len(helpdesk.messages) >= MESSAGES, timeout=90, message="every message delivered")
        time.sleep(1)
        delivered = Counter(m["source_id"] for m in helpdesk.messages.values())
        assert sorted(delivered) == sorted(wamids) and set(delivered.values()) == {1}
        assert answers[503] > 0, "the web must have answered 503 while Redis was down"
        assert set(answers) <= {200, 503}
        conversation = next(iter(helpdesk.conversations))
        texts = [m["content"] for m in helpdesk.messages_in(*conversation)]
        assert texts == [f"m{i}" for i in range(MESSAGES)], "still in order"
    finally:
        world.adapter.close()
