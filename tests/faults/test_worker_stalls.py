"""Workers frozen (SIGSTOP) past their lease mid-job and resumed (SIGCONT) while another takes their partitions
over: the fencing tokens stop the stale one, so every message arrives once, in order, and nothing is sent twice."""

from __future__ import annotations

import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import APP_SECRET, ENCRYPTION_KEY, PNID, TEST_REDIS_URL, WABA, RunningAdapter, wait_for
from tests.e2e.conftest import ACCOUNT, build_world
from tests.faults.conftest import StatusPump, WorkerProcesses
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

CUSTOMERS = [f"1650556{n:04d}" for n in range(3)]  # a few chats, so stalls land on busy ones
PER_CUSTOMER = 12
STALLS = 20
LEASE_SECONDS = 1.0
WORKER_ENV = {
    "QUEUE_LEASE_SECONDS": str(LEASE_SECONDS), "UNKNOWN_OUTCOME_WAIT_SECONDS": "4", "WORKER_THREADS": "1",
    "RETRY_BASE_SECONDS": "0.2", "RETRY_MAX_SECONDS": "1", "JOB_MAX_ATTEMPTS": "100", "QUEUE_PARTITIONS": "2",
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
    graph_server.set_delay(0.15)  # every send takes a while: a stall lands in the middle of one
    workers = WorkerProcesses(env, count=2)
    yield world.adapter, world.graph, world.helpdesk, workers
    workers.stop()
    graph_server.set_delay(0.0)
    world.adapter.close()


def staller(workers: WorkerProcesses, stop: threading.Event, rng: random.Random, done: list[int]) -> None:
    """Freeze a worker for longer than its lease (the other takes its partitions over), then let it go on."""
    while len(done) < STALLS and not stop.is_set():
        stop.wait(rng.uniform(0.1, 0.5))
        victim = workers.processes[rng.randrange(len(workers.processes))]
        victim.send_signal(signal.SIGSTOP)
        time.sleep(LEASE_SECONDS * 2.5)
        victim.send_signal(signal.SIGCONT)
        done.append(victim.pid)


def test_twenty_stalls_past_the_lease_break_no_chats_order_and_send_nothing_twice(
    flow: tuple[RunningAdapter, GraphSimulator, HelpdeskSimulator, WorkerProcesses],
) -> None:
    web, graph, helpdesk, workers = flow
    rng = random.Random(20261206)
    stop, stalls = threading.Event(), list[int]()
    pump = StatusPump(graph)
    chaos = threading.Thread(target=staller, args=(workers, stop, rng, stalls), daemon=True)
    chaos.start()
    try:
        sent_wamids: list[str] = []
        for n in range(PER_CUSTOMER):
            for wa_id in CUSTOMERS:
                payload = mp.inbound(PNID, wa_id=wa_id, name=f"C{wa_id}", message=mp.text(f"{wa_id} #{n}"),
                                     waba_id=WABA)  # fmt: skip
                sent_wamids.append(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
                assert graph.post_webhook(payload).status_code == 200
        wait_for(lambda: len(helpdesk.conversations) == len(CUSTOMERS), timeout=120, message="every conversation")
        conversations = sorted(display for (_, display) in helpdesk.conversations)
        for n in range(PER_CUSTOMER):
            for display in conversations:
                assert helpdesk.agent_reply(ACCOUNT, display, f"reply {n} to {display}")[1] == 200
                time.sleep(0.05)
        total = PER_CUSTOMER * len(CUSTOMERS)
        wait_for(lambda: len(stalls) >= STALLS, timeout=240, message="20 stalls")
        wait_for(lambda: len(graph.sends_by_key()) == total, timeout=180, message="every reply sent")
        wait_for(lambda: sum(1 for m in helpdesk.messages.values() if m.get("source_id")) >= total, timeout=180)
        time.sleep(LEASE_SECONDS * 3)  # a stale worker's late write or send would show up now
    finally:
        stop.set()
        chaos.join(timeout=60)
        pump.stop()
    inbound = Counter(m["source_id"] for m in helpdesk.messages.values() if m.get("source_id"))
    assert sorted(inbound) == sorted(sent_wamids) and set(inbound.values()) == {1}, "each inbound once"
    for wa_id in CUSTOMERS:
        (conversation,) = [c for c in helpdesk.conversations.values() if c["contact_inbox_id"] and
                           helpdesk.contacts[c["contact_id"]]["phone_number"] == "+" + wa_id]
        texts = [m["content"] for m in helpdesk.messages_in(ACCOUNT, conversation["id"]) if m["message_type"] == 0]
        assert texts == [f"{wa_id} #{n}" for n in range(PER_CUSTOMER)], "inbound order per customer"
    sends = graph.sends_by_key()
    assert len(sends) == PER_CUSTOMER * len(CUSTOMERS) and set(sends.values()) == {1}, "each reply sent once"
    for display in sorted(d for (_, d) in helpdesk.conversations):
        order = [m["body"]["text"]["body"] for m in graph.sent_messages
                 if m["body"]["text"]["body"].endswith(f" to {display}")]  # fmt: skip
        firsts = list(dict.fromkeys(order))
        assert firsts == [f"reply {n} to {display}" for n in range(PER_CUSTOMER)], "outbound order per chat"
