"""Workers killed with SIGKILL at random points while messages flow both ways: nothing lost, nothing twice."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import (
    APP_SECRET,
    ENCRYPTION_KEY,
    PNID,
    TEST_REDIS_URL,
    WABA,
    RunningAdapter,
    wait_for,
)
from tests.e2e.conftest import ACCOUNT, build_world
from tests.faults.conftest import StatusPump, WorkerProcesses
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

CUSTOMERS = [f"1650555{n:04d}" for n in range(10)]
PER_CUSTOMER = 10  # 100 inbound messages, and 100 agent replies
KILLS = 20
WORKER_ENV = {
    "QUEUE_LEASE_SECONDS": "1.5", "UNKNOWN_OUTCOME_WAIT_SECONDS": "5", "WORKER_THREADS": "2",
    "RETRY_BASE_SECONDS": "0.2", "RETRY_MAX_SECONDS": "1", "JOB_MAX_ATTEMPTS": "100", "QUEUE_PARTITIONS": "4",
    "LOG_LEVEL": "ERROR",
}


@pytest.fixture
def flow(
    store: redis.Redis, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator
) -> Iterator[tuple[RunningAdapter, GraphSimulator, HelpdeskSimulator, WorkerProcesses]]:
    world = build_world(store, graph_server, helpdesk_server, threads=0, **WORKER_ENV)  # workers: processes
    env = {
        **WORKER_ENV, "REDIS_URL": TEST_REDIS_URL, "META_APP_SECRET": APP_SECRET, "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "GRAPH_API_BASE_URL": graph_server.base_url, "HELPDESK_BASE_URL": helpdesk_server.base_url,
    }
    workers = WorkerProcesses(env, count=2)
    yield world.adapter, world.graph, world.helpdesk, workers
    workers.stop()
    world.adapter.close()


def killer(workers: WorkerProcesses, stop: threading.Event, rng: random.Random) -> None:
    while workers.kills < KILLS and not stop.is_set():
        stop.wait(rng.uniform(0.2, 0.8))
        workers.kill_and_restart(rng.randrange(len(workers.processes)))


def test_twenty_sigkills_during_200_messages_lose_and_duplicate_nothing(
    flow: tuple[RunningAdapter, GraphSimulator, HelpdeskSimulator, WorkerProcesses],
) -> None:
    web, graph, helpdesk, workers = flow
    rng = random.Random(20261124)
    stop = threading.Event()
    pump = StatusPump(graph)
    chaos = threading.Thread(target=killer, args=(workers, stop, rng), daemon=True)
    chaos.start()
    try:
        sent_wamids: list[str] = []
        for n in range(PER_CUSTOMER):
            for wa_id in CUSTOMERS:
                message = mp.text(f"{wa_id} #{n}")
                payload = mp.inbound(PNID, wa_id=wa_id, name=f"C{wa_id}", message=message, waba_id=WABA)
                sent_wamids.append(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
                assert graph.post_webhook(payload).status_code == 200
        wait_for(lambda: len(helpdesk.conversations) == len(CUSTOMERS), timeout=120, message="every conversation")
        conversations = sorted(display for (_, display) in helpdesk.conversations)
        for n in range(PER_CUSTOMER):
            for display in conversations:
                _, status = helpdesk.agent_reply(ACCOUNT, display, f"reply {n} to {display}")
                assert status == 200
        wait_for(lambda: workers.kills >= KILLS, timeout=120, message="20 kills")
        wait_for(lambda: len(graph.sends_by_key()) == 100, timeout=180, message="100 replies sent")
        wait_for(lambda: sum(1 for m in helpdesk.messages.values() if m.get("source_id")) >= 100, timeout=180)
        time.sleep(2)  # anything sent twice would show up now
    finally:
        stop.set()
        chaos.join(timeout=30)
        pump.stop()
    inbound = Counter(m["source_id"] for m in helpdesk.messages.values() if m.get("source_id"))
    assert sorted(inbound) == sorted(sent_wamids) and set(inbound.values()) == {1}
    for wa_id in CUSTOMERS:
        (conversation,) = [c for c in helpdesk.conversations.values() if c["contact_inbox_id"] and
                           helpdesk.contacts[c["contact_id"]]["phone_number"] == "+" + wa_id]
        texts = [m["content"] for m in helpdesk.messages_in(ACCOUNT, conversation["id"]) if m["message_type"] == 0]
        assert texts == [f"{wa_id} #{n}" for n in range(PER_CUSTOMER)], "inbound order per customer"
    sends = graph.sends_by_key()
    assert len(sends) == 100 and set(sends.values()) == {1}, "each reply sent exactly once"
    assert workers.kills >= KILLS
