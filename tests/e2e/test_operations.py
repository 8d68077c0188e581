"""What operators see: /metrics for the whole deployment, /readyz, and log lines that name their job."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from adapter.logs import JsonFormatter
from tests.conftest import PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World
from tests.simulators import meta_payloads as mp


def scrape(world: World) -> str:
    response = requests.get(f"{world.adapter.url}/metrics", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    return response.text


def test_metrics_count_webhooks_jobs_api_calls_and_window_decisions(world: World) -> None:
    payload = mp.inbound(PNID, wa_id="16505551234", name="S", message=mp.text("hi"), waba_id=WABA)
    world.graph.post_webhook(payload)
    world.graph.post_webhook(payload)  # a duplicate
    world.graph.post_webhook(payload, signature="sha256=" + "0" * 64)  # refused
    wait_for(lambda: world.conversations(), message="the conversation")
    world.helpdesk.agent_reply(ACCOUNT, world.only_conversation_id(), "hello")
    wait_for(lambda: world.graph.sent_messages, message="the reply")

    expected = [
        'whatsapp_adapter_webhooks_received_total{result="accepted",source="meta"} 2.0',
        'whatsapp_adapter_webhooks_received_total{result="401",source="meta"} 1.0',
        'whatsapp_adapter_webhook_items_total{result="duplicate",source="meta"} 1.0',
        'whatsapp_adapter_jobs_total{kind="meta.message",outcome="done"} 1.0',
        'whatsapp_adapter_jobs_total{kind="helpdesk.reply",outcome="done"} 1.0',
        'whatsapp_adapter_window_decisions_total{decision="sent",message="free_text"} 1.0',
        'whatsapp_adapter_api_latency_seconds_count{service="graph"}',
        "whatsapp_adapter_queue_waiting 0.0",
    ]
    # The web process and the worker each write their counts behind, within a second of their own.
    missing: list[str] = []

    def all_flushed() -> bool:
        text = scrape(world)
        missing[:] = [line for line in expected if line not in text]
        return not missing

    try:
        wait_for(all_flushed, message="every process's metrics flushed")
    except AssertionError:
        pytest.fail(f"/metrics never showed {missing}")

def test_readyz_reports_workers_and_backlog(world: World) -> None:
    ready = requests.get(f"{world.adapter.url}/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["workers"] >= 1
    assert set(ready.json()["queue"]) >= {"waiting", "oldest_age_seconds", "retrying_chats", "dead_letters"}


def test_job_log_lines_carry_the_job_id_kind_and_chat(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="adapter")
    world.graph.post_webhook(mp.inbound(PNID, wa_id="16505551234", name="S", message=mp.text("x"), waba_id=WABA))
    wait_for(lambda: world.conversations())
    wait_for(lambda: any("delivered as helpdesk message" in r.getMessage() for r in caplog.records))
    record = next(r for r in caplog.records if "delivered as helpdesk message" in r.getMessage())
    line = json.loads(JsonFormatter().format(record))
    assert line["kind"] == "meta.message" and line["chat"] == f"{PNID}:16505551234" and len(line["job"]) == 32
    assert "wamid." in line["message"]
