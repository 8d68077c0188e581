"""The APIs misbehave: the helpdesk down, then slower than our timeout, then back; Graph throttling and
failing in bursts. Everything arrives, in order, once; sends respect the pair rate by waiting."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World, build_world
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

CUSTOMER = "16505551234"


@pytest.fixture
def shaky(store: redis.Redis, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator) -> Iterator[World]:
    world = build_world(
        store, graph_server, helpdesk_server,
        JOB_MAX_ATTEMPTS="20", HTTP_TIMEOUT_SECONDS="2", UNKNOWN_OUTCOME_WAIT_SECONDS="4",
        PAIR_BURST="10", PAIR_INTERVAL_SECONDS="1",
    )
    yield world
    world.helpdesk.set_delay(0)
    world.helpdesk.set_down(False)
    world.adapter.close()


def customer_says(world: World, text: str) -> str:
    payload = mp.inbound(PNID, wa_id=CUSTOMER, name="Sheena", message=mp.text(text), waba_id=WABA)
    assert world.graph.post_webhook(payload).status_code == 200
    return str(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])


def contents(world: World) -> list[str]:
    return [m["content"] for m in world.helpdesk.messages.values() if m.get("source_id")]


def test_helpdesk_down_then_slow_then_back_delivers_everything_in_order_once(shaky: World) -> None:
    customer_says(shaky, "m0")
    wait_for(lambda: contents(shaky) == ["m0"], message="the first message")
    shaky.helpdesk.set_down(True)
    for n in (1, 2, 3):
        customer_says(shaky, f"m{n}")
    wait_for(lambda: shaky.adapter.services.queue.backlog()["retrying_chats"] >= 1, message="retrying")
    shaky.helpdesk.set_down(False)
    shaky.helpdesk.set_delay(2.5)  # slower than our 2 s timeout: the helpdesk still creates the message
    customer_says(shaky, "m4")
    time.sleep(3)
    shaky.helpdesk.set_delay(0)
    customer_says(shaky, "m5")
    wait_for(lambda: len(contents(shaky)) >= 6, timeout=60, message="all six messages")
    time.sleep(1)
    assert contents(shaky) == [f"m{n}" for n in range(6)]
    assert set(Counter(m["source_id"] for m in shaky.helpdesk.messages.values() if m.get("source_id")).values()) == {1}


@pytest.mark.parametrize(
    ("status", "code", "count"),
    [(400, 130429, 3), (500, 131000, 2), (400, 131056, 2), (503, 2, 2)],
    ids=["throughput-130429", "unknown-131000", "pair-rate-131056", "service-2"],
)
def test_graph_failing_in_bursts_is_retried_with_backoff_and_sends_once(
    shaky: World, status: int, code: int, count: int
) -> None:
    customer_says(shaky, "hi")
    wait_for(lambda: contents(shaky) == ["hi"])
    conversation = shaky.only_conversation_id()
    shaky.graph.fail_next(count, http_status=status, code=code, title="burst")
    started = time.monotonic()
    shaky.helpdesk.agent_reply(ACCOUNT, conversation, "answer")
    wait_for(lambda: len(shaky.graph.sends_by_key()) == 1, timeout=60, message="the reply sent")
    assert time.monotonic() - started >= 0.5, "it backed off before succeeding"
    time.sleep(1.5)
    assert list(shaky.graph.sends_by_key().values()) == [1]


def test_a_burst_of_replies_to_one_customer_is_paced_not_failed(shaky: World) -> None:
    customer_says(shaky, "hi")
    wait_for(lambda: contents(shaky) == ["hi"])
    conversation = shaky.only_conversation_id()
    started = time.monotonic()
    for n in range(14):
        shaky.helpdesk.agent_reply(ACCOUNT, conversation, f"r{n}")
    wait_for(lambda: len(shaky.graph.sent_messages) == 14, timeout=60, message="14 replies")
    elapsed = time.monotonic() - started
    assert elapsed >= 3.0, f"10 may go at once, then one per second: took {elapsed:.1f}s"
    assert [s["body"]["text"]["body"] for s in shaky.graph.sent_messages] == [f"r{n}" for n in range(14)]
    failed = [m for m in shaky.helpdesk.messages.values() if m.get("status") == "failed"]
    assert failed == []
