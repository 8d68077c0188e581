"""Fault-injection fixtures: worker processes we can kill, a Redis we can restart, a Meta that confirms sends."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.e2e.conftest import graph_server, helpdesk_server  # noqa: F401 - the simulators, shared
from tests.simulators.graph import GraphSimulator

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcesses:
    """`python -m adapter.worker` processes, killed with SIGKILL and restarted on demand."""

    def __init__(self, env: dict[str, str], count: int) -> None:
        self.env = {**os.environ, **env}
        self.processes = [self._spawn() for _ in range(count)]
        self.kills = 0

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "adapter.worker"], cwd=ROOT, env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def kill_and_restart(self, index: int) -> None:
        victim = self.processes[index]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        self.kills += 1
        self.processes[index] = self._spawn()

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


class StatusPump:
    """Meta sends a `sent` status (with the part's biz_opaque_callback_data) shortly after accepting a
    message; this plays that part for every message the Graph simulator accepted."""

    def __init__(self, graph: GraphSimulator) -> None:
        self.graph = graph
        self.done: set[str] = set()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop_event.wait(0.05):
            for sent in list(self.graph.sent_messages):
                if sent["wamid"] not in self.done:
                    self.done.add(sent["wamid"])
                    try:
                        self.graph.deliver_status(sent["wamid"], "sent")
                    except Exception:  # the web may be restarting; Meta would retry, so do we
                        self.done.discard(sent["wamid"])

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RestartableRedis:
    """A Redis on its own port with an append-only file fsynced on every write: a restart loses nothing."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="adapter-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError("redis did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: Redis flushes its append-only file and exits
            self.process.wait(timeout=15)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[RestartableRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RestartableRedis()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)
