"""Bugs the fuzzing found, each kept as the smallest request that showed it: they stay fixed."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from adapter.helpdesk import signature as helpdesk_signature
from adapter.meta import signature as meta_signature
from adapter.queue.jobs import Job
from tests import contracts
from tests.conftest import ADMIN_TOKEN, PNID, make_channel, sign_helpdesk, sign_meta
from tests.fuzz.strategies import assert_json_error, assert_success_or_error, reset, services_of

META_URL = "/webhooks/meta"
HELPDESK_URL = f"/webhooks/helpdesk/{PNID}"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
ORDER_UPDATE = {
    "name": "order_update", "category": "UTILITY", "language": "en_US",
    "components": [{"type": "BODY", "text": "Your order {{1}} ships today.", "example": {"body_text": [["#1"]]}}],
}


TEXT = contracts.load("meta_messages")["text"]
AGENT_TEXT = contracts.load("helpdesk_webhooks")["agent_text"]


# --- webhooks --------------------------------------------------------------------------------------

# Half an emoji, as a JSON escape or as the raw (CESU-8) bytes json.loads also accepts ("surrogatepass").
HALF_EMOJI = {"escaped": b"\\ud83d", "raw_bytes": "\ud83d".encode("utf-8", "surrogatepass")}


def _with_lone_surrogate(payload: dict[str, Any], key: str, spelling: str) -> bytes:
    """The payload with the first `key` string starting with half an emoji."""
    marker = f'"{key}": "'.encode()
    return json.dumps(payload).encode().replace(marker, marker + HALF_EMOJI[spelling], 1)


@pytest.mark.parametrize("spelling", sorted(HALF_EMOJI))
def test_meta_webhook_with_a_lone_surrogate_is_kept_or_refused(client: Any, store: redis.Redis, spelling: str) -> None:
    body = _with_lone_surrogate(TEXT, "body", spelling)
    response = client.post(META_URL, data=body, headers=sign_meta(body))
    assert_success_or_error(response, success={200}, errors={400})


@pytest.mark.parametrize("spelling", sorted(HALF_EMOJI))
def test_helpdesk_webhook_with_a_lone_surrogate_is_kept_or_refused(
    client: Any, store: redis.Redis, spelling: str
) -> None:
    services_of(client).channels.save(make_channel())
    body = _with_lone_surrogate(AGENT_TEXT, "content", spelling)
    response = client.post(HELPDESK_URL, data=body, headers=sign_helpdesk(body))
    assert_success_or_error(response, success={200}, errors={400})


@pytest.mark.parametrize("endpoint", ["meta", "helpdesk"])
def test_deeply_nested_json_is_a_400(client: Any, store: redis.Redis, endpoint: str) -> None:
    services_of(client).channels.save(make_channel())
    body = b"[" * 5000 + b"]" * 5000
    if endpoint == "meta":
        response = client.post(META_URL, data=body, headers=sign_meta(body))
    else:
        response = client.post(HELPDESK_URL, data=body, headers=sign_helpdesk(body))
    assert_json_error(response, 400)


@pytest.mark.parametrize("endpoint", ["meta", "helpdesk"])
def test_a_non_ascii_signature_header_is_a_401(client: Any, store: redis.Redis, endpoint: str) -> None:
    services_of(client).channels.save(make_channel())
    body = json.dumps(TEXT if endpoint == "meta" else AGENT_TEXT).encode()
    if endpoint == "meta":
        response = client.post(META_URL, data=body, headers={meta_signature.HEADER: "sha256=\u00e9"})
    else:
        headers = {**sign_helpdesk(body), helpdesk_signature.SIGNATURE_HEADER: "sha256=\u00e9"}
        response = client.post(HELPDESK_URL, data=body, headers=headers)
    assert_json_error(response, 401)


# --- admin API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e400"])
def test_a_template_with_nan_is_a_400(fuzz_client: Any, store: redis.Redis, literal: str) -> None:
    reset(fuzz_client)
    body = json.dumps(ORDER_UPDATE)[:-1] + f', "message_send_ttl_seconds": {literal}}}'
    response = fuzz_client.post(f"/admin/api/channels/{PNID}/templates", data=body, headers=AUTH)
    assert_json_error(response, 400)


@pytest.mark.parametrize("spelling", [b"\\ud800", b"\xed\xa0\x80"], ids=["escaped", "raw_bytes"])
@pytest.mark.parametrize("where", ["value", "unknown_field_name"])
def test_a_channel_with_a_lone_surrogate_is_a_400(
    fuzz_client: Any, store: redis.Redis, where: str, spelling: bytes
) -> None:
    reset(fuzz_client)
    channel: dict[str, Any] = {
        "phone_number_id": "1", "waba_id": "1", "graph_access_token": "g", "helpdesk_account_id": 1,
        "helpdesk_inbox_id": 1, "helpdesk_api_token": "h", "helpdesk_webhook_secret": "s",
    }
    if where == "value":
        channel["display_phone_number"] = "@@"
    else:
        channel["@@display_phone_number"] = "1"
    body = json.dumps(channel).encode().replace(b"@@", spelling)
    response = fuzz_client.post("/admin/api/channels", data=body, headers=AUTH)
    assert_json_error(response, 400)


def test_a_deeply_nested_admin_body_is_a_400(fuzz_client: Any, store: redis.Redis) -> None:
    response = fuzz_client.post("/admin/api/channels", data=b"[" * 5000 + b"]" * 5000, headers=AUTH)
    assert_json_error(response, 400)


@pytest.mark.parametrize("phone_number_id", ["106540352242922\n", "١٠٦٥٤٠", "１０６５４０"])
def test_channel_ids_must_be_ascii_digits(fuzz_client: Any, store: redis.Redis, phone_number_id: str) -> None:
    store.flushdb()
    channel = {
        "phone_number_id": phone_number_id, "waba_id": "1", "graph_access_token": "g", "helpdesk_account_id": 1,
        "helpdesk_inbox_id": 1, "helpdesk_api_token": "h", "helpdesk_webhook_secret": "s",
    }
    response = fuzz_client.post("/admin/api/channels", data=json.dumps(channel), headers=AUTH)
    assert_json_error(response, 400)


@pytest.mark.parametrize("body", [b'"3f2a"', b"[]", b"42"])
def test_replaying_dead_letters_with_a_body_that_is_not_an_object_is_a_400(
    fuzz_client: Any, store: redis.Redis, body: bytes
) -> None:
    store.flushdb()
    dead = Job("meta.message", f"{PNID}:16505551234", {"message": {"id": "wamid.A"}}, id="3f2a")
    record = {"job": json.loads(dead.to_json()), "error": "x", "failed_at": 0}
    store.lpush(services_of(fuzz_client).queue.dead_of(dead.chat), json.dumps(record))
    response = fuzz_client.post("/admin/api/dead-letters/replay", data=body, headers=AUTH)
    assert_json_error(response, 400)
