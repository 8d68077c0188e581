"""A Redis Cluster master killed with SIGKILL while messages flow, one during the customers' messages and
another during the agents' replies: each one's replica takes over, and every message a webhook accepted
(answered 200) arrives: in the helpdesk, or at Graph."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from adapter.queue.queue import JobQueue
from adapter.store import keys
from adapter.store.connection import connect
from tests.conftest import PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, build_world
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

SCRIPT = str(Path(__file__).resolve().parents[2] / "scripts" / "redis-cluster")
FIRST_PORT, MASTERS, NODE_TIMEOUT_MS = 7101, 3, 1000  # a replica for each master: 7101-7106
CUSTOMERS = [f"1650556{n:04d}" for n in range(10)]
PER_CUSTOMER = 12
KILL_AFTER = 40  # messages accepted before the master goes

pytestmark = pytest.mark.own_redis


@pytest.fixture(scope="module")
def replicated_cluster() -> Iterator[Path]:
    """Three masters with a replica each, failing over within about NODE_TIMEOUT_MS; yields the nodes' folder."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    nodes = str(MASTERS * 2)
    subprocess.run([SCRIPT, "stop", str(FIRST_PORT), nodes], check=True)
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "REDIS_CLUSTER_DIR": folder}
        subprocess.run([SCRIPT, str(FIRST_PORT), str(MASTERS), "1", str(NODE_TIMEOUT_MS)], check=True, env=env)
        yield Path(folder)
        subprocess.run([SCRIPT, "stop", str(FIRST_PORT), nodes], check=True)


def post_until_accepted(graph: GraphSimulator, payload: dict[str, Any], seconds: float = 30) -> None:
    """As Meta does: post again while the answer is not 200 (a 503 while the cluster fails over)."""
    deadline = time.monotonic() + seconds
    while (status := graph.post_webhook(payload).status_code) != 200:
        assert status == 503 and time.monotonic() < deadline, f"answered {status}"
        time.sleep(0.2)


def kill(folder: Path, port: int) -> None:
    os.kill(int((folder / str(port) / "redis.pid").read_text()), signal.SIGKILL)


def test_killing_a_master_mid_stream_loses_no_accepted_message_either_way(
    replicated_cluster: Path, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator
) -> None:
    store = connect(f"redis://127.0.0.1:{FIRST_PORT}/0")
    assert isinstance(store, redis.RedisCluster)
    store.flushdb()
    world = build_world(store, graph_server, helpdesk_server, threads=2, QUEUE_LEASE_SECONDS="3")
    graph, helpdesk = world.graph, world.helpdesk
    queue = JobQueue(store, partitions=world.adapter.services.settings.queue_partitions, dedupe_ttl_seconds=60,
                     clock=world.adapter.services.clock)  # fmt: skip
    # The master of the first customer's partition: it holds that partition's stream, leases and marks.
    victim = store.get_node_from_key(keys.stream(queue.partition_of(f"{PNID}:{CUSTOMERS[0]}")))
    assert victim is not None and victim.server_type == "primary"
    accepted: list[str] = []
    try:
        for n in range(PER_CUSTOMER):
            for wa_id in CUSTOMERS:
                if len(accepted) == KILL_AFTER:
                    kill(replicated_cluster, victim.port)
                payload = mp.inbound(PNID, wa_id=wa_id, name=f"C{wa_id}", message=mp.text(f"{wa_id} #{n}"),
                                     waba_id=WABA)  # fmt: skip
                post_until_accepted(graph, payload)
                accepted.append(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
        promoted = store.get_node_from_key(keys.stream(queue.partition_of(f"{PNID}:{CUSTOMERS[0]}")))
        assert promoted is not None and promoted.port != victim.port  # the replica took the slots over

        def delivered() -> Counter[str]:
            return Counter(m["source_id"] for m in helpdesk.messages.values() if m.get("source_id"))

        wait_for(lambda: set(accepted) <= set(delivered()), timeout=120, message="every accepted message")

        # Then the agents answer, and another master (one that still has a replica) goes.
        second = next(node for node in store.get_primaries() if node.port not in (victim.port, promoted.port))
        conversations = sorted(display for (_, display) in helpdesk.conversations)
        replied: list[str] = []
        for n, display in enumerate(conversations * 3):
            if n == len(conversations):
                kill(replicated_cluster, second.port)
            message, status = helpdesk.agent_reply(ACCOUNT, display, f"reply {n}")
            if status == 200:  # the helpdesk does not retry a webhook: what was answered 503 failed there
                replied.append(f"{PNID}:{message['id']}:0")
        assert len(replied) >= len(conversations), "replies were accepted before and after the kill"
        wait_for(lambda: set(replied) <= set(graph.sends_by_key()), timeout=120, message="every accepted reply sent")
    finally:
        world.adapter.close()
        store.close()
    assert set(delivered()) == set(accepted)
    assert set(replied) <= set(graph.sends_by_key())
