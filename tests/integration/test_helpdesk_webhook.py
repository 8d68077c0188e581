"""POST /webhooks/helpdesk/<channel>: signature, staleness, which events become sends."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis

from adapter.monitoring import payload_log
from adapter.queue.jobs import Job
from adapter.store import keys
from adapter.webhooks.answer import Answer
from adapter.webhooks.helpdesk import handle_helpdesk_webhook
from adapter.work.kinds import JobKind
from tests import contracts
from tests.conftest import PNID, RoundTrips, make_channel, sign_helpdesk, wait_for

WEBHOOKS = contracts.load("helpdesk_webhooks")
SENT = {"agent_text", "agent_text_with_two_attachments", "agent_quote", "bot_reply", "captain_reply",
        "template_message", "chatwoot_template_type"}


@pytest.fixture
def channel_app(app: Any) -> Any:
    app.extensions["adapter"].channels.save(make_channel())
    return app.test_client()


def post(client: Any, payload: Any, **kw: Any) -> Any:
    body = json.dumps(payload).encode()
    url = f"/webhooks/helpdesk/{kw.get('pnid', PNID)}"
    return client.post(url, data=body, headers=kw.get("headers") or sign_helpdesk(body))


def queued_jobs(store: redis.Redis) -> list[Job]:
    jobs = []
    for partition in range(4):
        for _, fields in store.xrange(keys.stream(partition)):
            jobs.append(Job.from_json(fields["job"]))
    return jobs


@pytest.mark.parametrize("variant", sorted(WEBHOOKS))
def test_every_event_is_answered_2xx_and_only_outgoing_public_messages_are_sent(
    channel_app: Any, store: redis.Redis, variant: str
) -> None:
    response = post(channel_app, WEBHOOKS[variant])
    assert response.status_code == 200
    replies = [job for job in queued_jobs(store) if job.kind == JobKind.AGENT_REPLY]
    assert len(replies) == (1 if variant in SENT else 0)


def test_the_same_message_delivered_twice_is_sent_once(channel_app: Any, store: redis.Redis) -> None:
    post(channel_app, WEBHOOKS["agent_text"])
    post(channel_app, WEBHOOKS["agent_text"])
    assert len(queued_jobs(store)) == 1


def test_wrong_signature_body_only_signature_and_stale_timestamps_are_refused(channel_app: Any) -> None:
    body = json.dumps(WEBHOOKS["agent_text"]).encode()
    url = f"/webhooks/helpdesk/{PNID}"
    assert channel_app.post(url, data=body, headers=sign_helpdesk(body, "wrong")).status_code == 401
    stale = sign_helpdesk(body, timestamp=int(time.time()) - 301)
    assert channel_app.post(url, data=body, headers=stale).status_code == 401
    assert channel_app.post(url, data=body).status_code == 401


def test_unknown_channel_is_a_404(channel_app: Any) -> None:
    assert post(channel_app, WEBHOOKS["agent_text"], pnid="999").status_code == 404


def test_resolving_a_conversation_enqueues_the_cache_reset(channel_app: Any, store: redis.Redis) -> None:
    post(channel_app, WEBHOOKS["conversation_status_changed_resolved"])
    assert [job.kind for job in queued_jobs(store)] == ["helpdesk.conversation"]


def test_a_message_without_its_conversation_is_a_400(channel_app: Any) -> None:
    payload = {k: v for k, v in WEBHOOKS["agent_text"].items() if k != "conversation"}
    response = post(channel_app, payload)
    assert response.status_code == 400 and "conversation" in json.dumps(response.json["details"])


def test_an_ignored_event_is_answered_without_waiting_on_redis_and_kept_for_troubleshooting_within_a_second(
    channel_app: Any, store: redis.Redis, round_trips: RoundTrips
) -> None:
    def send(payload: Any, delivery: str) -> int:
        body = json.dumps(payload).encode()
        response = channel_app.post(f"/webhooks/helpdesk/{PNID}", data=body,
                                    headers={**sign_helpdesk(body), "X-Chatwoot-Delivery": delivery})  # fmt: skip
        response.close()  # what is kept after the answer is written once it has gone out
        return int(response.status_code)

    round_trips.count = 0
    assert send(WEBHOOKS["incoming_echo"], "d-1") == 200
    assert round_trips.count == 1  # the channel's secret, read once for this process's copy
    assert send({**WEBHOOKS["conversation_typing_on"], "is_private": True}, "d-2") == 200  # typing a private note
    assert send(WEBHOOKS["incoming_echo"], "d-1") == 200  # a replay of an event that changes nothing changes nothing
    assert round_trips.count == 1
    assert send(WEBHOOKS["agent_text"], "d-3") == 200
    assert send(WEBHOOKS["agent_text"], "d-3") == 409  # a replay of one that acts is refused
    wait_for(lambda: len(payload_log.recent(store, "helpdesk")) == 5, timeout=3, message="the ignored events kept")
    records = payload_log.recent(store, "helpdesk")
    assert [r.outcome for r in records[:2]] == [
        "refused with 409: this delivery was received already (replayed)", "queued 1 job"]
    assert all(r.outcome.startswith("ignored: ") for r in records[2:])
    assert sorted(r.items[0]["kind"] for r in records[2:]) == [
        "conversation_typing_on", "message_created (incoming)", "message_created (incoming)"]
    received = wait_for(lambda: store.hget(keys.metric("webhooks_received"), "result=verified,source=helpdesk"),
                        timeout=3, message="the count")  # fmt: skip
    assert received == "5"  # every request whose signature verified, the refused replay included


def test_a_secret_rotated_through_another_process_verifies_at_once_and_the_old_one_stops_within_seconds(
    channel_app: Any, settings: Any, store: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapter import create_app
    from adapter.store import channels as channel_store

    monkeypatch.setattr(channel_store, "SECRET_CACHE_SECONDS", 0.5)
    body = json.dumps(WEBHOOKS["incoming_echo"]).encode()
    url = f"/webhooks/helpdesk/{PNID}"
    assert channel_app.post(url, data=body, headers=sign_helpdesk(body)).status_code == 200  # now held here
    other_process = create_app(settings, store=store).extensions["adapter"].channels
    other_process.save(make_channel(helpdesk_webhook_secret="rotated"))
    assert channel_app.post(url, data=body, headers=sign_helpdesk(body, "rotated")).status_code == 200
    assert channel_app.post(url, data=body, headers=sign_helpdesk(body, "wrong")).status_code == 401
    time.sleep(0.6)
    assert channel_app.post(url, data=body, headers=sign_helpdesk(body)).status_code == 401  # the replaced one
    assert channel_app.post(url, data=body, headers=sign_helpdesk(body, "rotated")).status_code == 200
    other_process.remove(PNID)
    time.sleep(0.6)
    assert channel_app.post(url, data=body, headers=sign_helpdesk(body, "rotated")).status_code == 404


def test_the_handler_answers_without_flask_and_keeps_each_refusal_for_troubleshooting(
    app: Any, channel_app: Any, store: redis.Redis
) -> None:
    services = app.extensions["adapter"]

    def handle(payload: Any, pnid: str = PNID, secret: str | None = None) -> Answer:
        body = json.dumps(payload).encode()
        headers = sign_helpdesk(body, secret) if secret else sign_helpdesk(body)
        return handle_helpdesk_webhook(services, pnid, body, headers)

    assert handle(WEBHOOKS["incoming_echo"]) == Answer(200, {"ignored": "not a new outgoing public message"})
    assert handle(WEBHOOKS["agent_text"]) == Answer(200, {"enqueued": 1})
    assert handle(WEBHOOKS["agent_text"], secret="wrong").status == 401
    assert handle(WEBHOOKS["agent_text"], pnid="999").status == 404
    assert len(queued_jobs(store)) == 1
    refused = [record for record in payload_log.recent(store, "helpdesk") if record.status >= 400]
    assert [record.status for record in refused] == [404, 401]
    assert refused[0].verification == "refused: no channel for this number"
