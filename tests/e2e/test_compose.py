"""`docker compose up` as the README describes it: Redis with its append-only file, the web and two workers,
built from the Dockerfile and run from compose.yaml.

It needs a Docker engine, Compose (the `docker compose` plugin, or `docker-compose` with `--compatibility`,
which honours `deploy.replicas`) and the base images; where any of them is missing it is skipped, saying
which.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import ADMIN_TOKEN, APP_SECRET, ENCRYPTION_KEY, sign_meta, wait_for
from tests.e2e.test_processes import free_port
from tests.simulators import meta_payloads as mp

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGES = ("python:3.11-slim", "redis:7")  # the Dockerfile's FROM and compose.yaml's redis image
UNKNOWN_NUMBER = "109999999999999"  # no channel has it: its message is kept in the unrouted list

pytestmark = pytest.mark.own_redis


def _ok(*command: str) -> bool:
    return subprocess.run(command, capture_output=True, timeout=120).returncode == 0


def _compose_command() -> list[str] | None:
    if shutil.which("docker") and _ok("docker", "compose", "version"):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose", "--compatibility"]
    return None


def _why_not(compose: list[str] | None) -> str | None:
    if not shutil.which("docker") or not _ok("docker", "info"):
        return "no Docker engine answers here"
    if compose is None:
        return "neither `docker compose` nor `docker-compose` is installed"
    for image in BASE_IMAGES:
        if not _ok("docker", "image", "inspect", image) and not _ok("docker", "pull", "-q", image):
            return f"the base image {image} is neither here nor pullable"
    return None


class Compose:
    def __init__(self, command: list[str], project: str, env: dict[str, str]) -> None:
        self.base = [*command, "-p", project, "-f", str(ROOT / "compose.yaml")]
        self.env = {**os.environ, **env}

    def __call__(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run([*self.base, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip
        assert done.returncode == 0, f"compose {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def compose() -> Iterator[tuple[Compose, str]]:
    command = _compose_command()
    reason = _why_not(command)
    if reason is not None or command is None:
        pytest.skip(reason or "no Compose")
    port = free_port()
    env = {
        "WEB_PORT": str(port), "META_APP_SECRET": APP_SECRET, "META_VERIFY_TOKEN": "compose-verify",
        "ADMIN_TOKEN": ADMIN_TOKEN, "ENCRYPTION_KEY": ENCRYPTION_KEY, "HELPDESK_BASE_URL": "http://helpdesk.invalid",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }  # fmt: skip
    run = Compose(command, f"wa-adapter-test-{os.getpid()}", env)
    try:
        run("build", timeout=900)
        run("up", "-d")
        yield run, f"http://127.0.0.1:{port}"
    finally:
        run("down", "-v", "--remove-orphans")


def _get(url: str, **kw: str) -> requests.Response | None:
    try:
        return requests.get(url, headers=kw, timeout=3)
    except requests.RequestException:
        return None


def _ready(base: str) -> dict[str, object] | None:
    answer = _get(f"{base}/readyz")
    return answer.json() if answer is not None and answer.status_code == 200 else None


def test_compose_up_runs_redis_the_web_and_two_workers_that_carry_a_webhook_and_survive_a_redis_restart(
    compose: tuple[Compose, str],
) -> None:
    run, base = compose
    ready = wait_for(lambda: _ready(base), timeout=120, message="/readyz to answer 200 from the web container")
    per_worker = int(json.loads(run("exec", "-T", "worker", "python", "-c",
                                    "from adapter.settings import read_defaults; import json; "
                                    "print(json.dumps(read_defaults()['WORKER_THREADS']))")))  # fmt: skip
    assert wait_for(lambda: (_ready(base) or {}).get("workers") == 2 * per_worker, timeout=60,
                    message="both worker containers' consumers to heartbeat")  # fmt: skip
    assert ready["redis"] == "ok"
    assert "whatsapp_adapter_queue_waiting" in requests.get(f"{base}/metrics", timeout=3).text

    payload = mp.inbound(UNKNOWN_NUMBER, wa_id="16505551234", name="Ana", message=mp.text("hello from compose"))
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    body = json.dumps(payload).encode()
    answer = requests.post(f"{base}/webhooks/meta", data=body, headers=sign_meta(body), timeout=5)
    assert answer.status_code == 200 and answer.json() == {"received": 1, "enqueued": 1}

    def unrouted() -> list[str]:
        listed = _get(f"{base}/admin/api/unrouted", Authorization=f"Bearer {ADMIN_TOKEN}")
        items = listed.json()["unrouted"] if listed is not None and listed.status_code == 200 else []
        return [item["payload"]["message"]["id"] for item in items]

    assert wait_for(lambda: wamid in unrouted(), timeout=30, message="a worker to keep the unrouted message")

    run("restart", "redis")  # the append-only file keeps what Redis held
    wait_for(lambda: _ready(base), timeout=60, message="the stack to be ready after Redis restarted")
    assert wamid in unrouted()

    run("stop", "worker")
    assert wait_for(lambda: (a := _get(f"{base}/readyz")) is not None and a.status_code == 503, timeout=60,
                    message="/readyz to answer 503 once no worker is alive")  # fmt: skip
