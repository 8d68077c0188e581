"""connect(): a single Redis or any node of a cluster, found by INFO cluster; a password in the URL for both."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
import redis

from adapter.store.connection import connect, is_cluster
from tests.conftest import TEST_REDIS_URL
from tests.faults.conftest import free_port

PASSWORD = "s3cret-pass"


@pytest.fixture
def guarded_cluster() -> Iterator[int]:
    """A one-node cluster holding every slot, behind a password; yields its port."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", folder, "--save", "",
             "--appendonly", "no", "--cluster-enabled", "yes", "--requirepass", PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            node = redis.Redis(port=port, password=PASSWORD, decode_responses=True)
            for _ in range(100):
                try:
                    node.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            while node.cluster("info")["cluster_state"] != "ok":
                time.sleep(0.05)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_a_node_in_cluster_mode_gets_a_cluster_client_and_its_password_is_used(guarded_cluster: int) -> None:
    store = connect(f"redis://:{PASSWORD}@127.0.0.1:{guarded_cluster}/0")
    assert is_cluster(store) and isinstance(store, redis.RedisCluster)
    store.set("wa:probe:{p1}", "1")
    assert store.get("wa:probe:{p1}") == "1"
    with pytest.raises(redis.AuthenticationError):
        connect(f"redis://:wrong@127.0.0.1:{guarded_cluster}/0").get("wa:probe:{p1}")


def test_a_single_redis_gets_a_plain_client() -> None:
    if is_cluster(connect(TEST_REDIS_URL)):
        pytest.skip("TEST_REDIS_URL names a cluster")
    assert type(connect(TEST_REDIS_URL)) is redis.Redis
