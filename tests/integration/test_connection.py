"""connect(): a single Redis or any node of a cluster, found by INFO cluster; a password in the URL and rediss://
(TLS) for both."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from adapter.store.connection import connect, is_cluster
from tests.conftest import TEST_REDIS_URL
from tests.faults.conftest import free_port

PASSWORD = "s3cret-pass"


def _self_signed(folder: str) -> Path:
    """A certificate for 127.0.0.1 and its key, in `folder`; the certificate is its own authority."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", f"{folder}/key.pem", "-out", f"{folder}/cert.pem"],
        check=True, capture_output=True,
    )  # fmt: skip
    return Path(folder) / "cert.pem"


@contextmanager
def _redis_server(tls: bool, *options: str) -> Iterator[tuple[str, redis.Redis]]:
    """A redis-server of this test's own behind a password, plain or TLS only, up and answering: its REDIS_URL
    and a client of it."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    while port > 55535:  # a cluster node's bus listens 10,000 ports higher
        port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        argv = ["redis-server", "--bind", "127.0.0.1", "--dir", folder, "--save", "", "--appendonly", "no",
                "--requirepass", PASSWORD, *options]  # fmt: skip
        client: dict[str, Any] = {}
        url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
        if tls:
            cert = _self_signed(folder)
            argv += ["--port", "0", "--tls-port", str(port), "--tls-auth-clients", "no", "--tls-cert-file", str(cert),
                     "--tls-key-file", f"{folder}/key.pem", "--tls-ca-cert-file", str(cert)]  # fmt: skip
            client = {"ssl": True, "ssl_ca_certs": str(cert)}
            url = f"rediss://:{PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={cert}"
        else:
            argv += ["--port", str(port)]
        server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            node = redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, decode_responses=True, **client)
            deadline = time.monotonic() + 30  # a loaded machine starts it slowly
            while True:
                try:
                    node.ping()
                    break
                except redis.ConnectionError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        server.kill()
                        output = server.communicate()[0].decode(errors="replace")
                        pytest.fail(f"redis-server did not start: {output[-2000:]}")
                    time.sleep(0.05)
            yield url, node
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture(params=["plain", "tls"])
def guarded_cluster(request: pytest.FixtureRequest) -> Iterator[str]:
    """A one-node cluster holding every slot, behind a password, plain or TLS only; yields its REDIS_URL."""
    tls = request.param == "tls"
    with _redis_server(tls, "--cluster-enabled", "yes", *(["--tls-cluster", "yes"] if tls else [])) as (url, node):
        node.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        while node.cluster("info")["cluster_state"] != "ok":
            time.sleep(0.05)
        yield url


@pytest.fixture
def tls_redis() -> Iterator[str]:
    """A single Redis that takes TLS connections only, behind a password; yields its rediss:// REDIS_URL."""
    with _redis_server(True) as (url, _):
        yield url


def test_a_node_in_cluster_mode_gets_a_cluster_client_and_its_password_is_used(guarded_cluster: str) -> None:
    store = connect(guarded_cluster)
    assert is_cluster(store) and isinstance(store, redis.RedisCluster)
    store.set("wa:probe:{p1}", "1")
    assert store.get("wa:probe:{p1}") == "1"
    with pytest.raises(redis.AuthenticationError):
        connect(guarded_cluster.replace(PASSWORD, "wrong")).get("wa:probe:{p1}")


def test_a_single_redis_gets_a_plain_client() -> None:
    if is_cluster(connect(TEST_REDIS_URL)):
        pytest.skip("TEST_REDIS_URL names a cluster")
    assert type(connect(TEST_REDIS_URL)) is redis.Redis


def test_a_single_redis_over_tls_gets_a_plain_client_that_works(tls_redis: str) -> None:
    store = connect(tls_redis)
    assert type(store) is redis.Redis
    store.set("wa:probe", "1")
    assert store.get("wa:probe") == "1"
    with pytest.raises(redis.ConnectionError):  # TLS only: a plain connection gets no answer
        redis.Redis.from_url(tls_redis.replace("rediss://", "redis://").split("?")[0], socket_timeout=1).ping()
