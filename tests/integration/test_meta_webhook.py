"""POST/GET /webhooks/meta on a real Redis: verify, validate, dedupe, enqueue, answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from adapter.monitoring import payload_log
from adapter.store import keys
from adapter.webhooks.answer import Answer
from adapter.webhooks.meta import handle_meta_webhook
from tests import contracts
from tests.conftest import ADMIN_TOKEN, APP_SECRET, VERIFY_TOKEN, make_settings, sign_meta

MESSAGES = contracts.load("meta_messages")
NOT_WEBHOOKS = contracts.load("meta_not_webhooks")


def post(client: Any, payload: Any, **kw: Any) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post("/webhooks/meta", data=body, headers=kw.get("headers") or sign_meta(body))


def waiting(store: redis.Redis) -> int:
    return sum(store.xlen(keys.stream(p)) for p in range(4))


def test_handshake_echoes_the_challenge_only_for_our_token(client: Any) -> None:
    ok = client.get(f"/webhooks/meta?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444")
    assert ok.status_code == 200 and ok.data == b"1158201444"
    assert client.get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1").status_code == 403
    assert client.get(f"/webhooks/meta?hub.mode=other&hub.verify_token={VERIFY_TOKEN}").status_code == 403


def test_unsigned_or_wrongly_signed_posts_are_refused(client: Any, store: redis.Redis) -> None:
    body = json.dumps(MESSAGES["text"]).encode()
    assert client.post("/webhooks/meta", data=body).status_code == 401
    bad = client.post("/webhooks/meta", data=body, headers=sign_meta(body, "wrong-secret"))
    assert bad.status_code == 401 and bad.json["error"] == "unauthorized"
    assert waiting(store) == 0


def test_without_an_app_secret_every_post_is_refused(store: redis.Redis) -> None:
    from adapter import create_app

    app = create_app(make_settings(META_APP_SECRET=""), store=store)
    body = json.dumps(MESSAGES["text"]).encode()
    response = app.test_client().post("/webhooks/meta", data=body, headers=sign_meta(body, ""))
    assert response.status_code == 401 and "META_APP_SECRET" in response.json["message"]


@pytest.mark.parametrize("variant", sorted(NOT_WEBHOOKS))
def test_json_that_is_not_a_webhook_is_a_400_with_a_json_error(client: Any, variant: str) -> None:
    response = post(client, NOT_WEBHOOKS[variant])
    assert response.status_code == 400 and response.json["error"] == "bad_request"


def test_bad_json_is_a_400(client: Any) -> None:
    response = post(client, b'{"object": ')
    assert response.status_code == 400 and "not valid JSON" in response.json["message"]


def test_a_body_over_the_limit_is_a_413(store: redis.Redis) -> None:
    from adapter import create_app

    app = create_app(make_settings(MAX_BODY_BYTES="1000"), store=store)
    body = json.dumps({"object": "whatsapp_business_account", "entry": [], "pad": "x" * 2000}).encode()
    response = app.test_client().post("/webhooks/meta", data=body, headers=sign_meta(body))
    assert response.status_code == 413 and response.is_json


def test_every_item_of_a_batch_is_enqueued_once_even_when_redelivered(client: Any, store: redis.Redis) -> None:
    first = post(client, MESSAGES["batch_two_messages"])
    assert first.status_code == 200 and first.json == {"received": 2, "enqueued": 2}
    again = post(client, MESSAGES["batch_two_messages"])
    assert again.status_code == 200 and again.json == {"received": 2, "enqueued": 0}
    assert waiting(store) == 2


def test_a_number_we_do_not_know_is_still_answered_200_and_kept(client: Any, store: redis.Redis) -> None:
    response = post(client, MESSAGES["text"])
    assert response.status_code == 200 and response.json["enqueued"] == 1


def test_redis_down_answers_503_so_meta_retries(store: redis.Redis) -> None:
    from adapter import create_app

    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True, socket_connect_timeout=0.2)
    app = create_app(make_settings(), store=dead)
    body = json.dumps(MESSAGES["text"]).encode()
    response = app.test_client().post("/webhooks/meta", data=body, headers=sign_meta(body, APP_SECRET))
    assert response.status_code == 503 and response.json["error"] == "store_unavailable"


def test_redis_down_is_a_503_wherever_a_request_reads_it(store: redis.Redis) -> None:
    from adapter import create_app

    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True, socket_connect_timeout=0.2)
    client = create_app(make_settings(), store=dead).test_client()
    response = client.get("/admin/api/queue", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 503 and response.json["error"] == "store_unavailable"


def test_the_handler_answers_without_flask_and_keeps_each_refusal_for_troubleshooting(
    app: Any, store: redis.Redis
) -> None:
    services = app.extensions["adapter"]
    body = json.dumps(MESSAGES["text"]).encode()
    accepted = handle_meta_webhook(services, body, sign_meta(body, APP_SECRET))
    assert accepted == Answer(200, {"received": 1, "enqueued": 1}) and waiting(store) == 1
    wrong = handle_meta_webhook(services, body, {"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert wrong.status == 401 and wrong.body["error"] == "unauthorized"
    bad = b'{"object": "whatsapp_business_account"'
    assert handle_meta_webhook(services, bad, sign_meta(bad, APP_SECRET)).status == 400
    services.deferred.flush()  # the accepted webhook's record is written behind, within a second
    kept = payload_log.recent(store, "meta")
    assert sorted(record.status for record in kept) == [200, 400, 401]
    assert kept[1].verification == "refused: missing or wrong X-Hub-Signature-256"
    assert waiting(store) == 1
