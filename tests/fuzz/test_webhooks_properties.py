"""Both webhook endpoints under hypothesis: whatever arrives, signed or not, the answer is a precise JSON 4xx or a
200, never a 5xx or a traceback; and a 200 from /webhooks/meta means every item of the payload was kept."""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from hypothesis import event, given
from hypothesis import strategies as st

from adapter.helpdesk import signature as helpdesk_signature
from adapter.meta import signature as meta_signature
from adapter.store import keys
from tests import contracts
from tests.conftest import (
    APP_SECRET,
    INBOX_SECRET,
    PNID,
    VERIFY_TOKEN,
    make_settings,
    sign_helpdesk,
    sign_meta,
)
from tests.fuzz.strategies import (
    MAX_BODY_BYTES,
    UNKNOWN_TYPES,
    assert_json_error,
    assert_success_or_error,
    canonical,
    encode,
    fuzz_settings,
    json_values,
    malformed_bytes,
    mutated,
    odd_text,
    oversized,
    queued_jobs,
    reset,
)

META_SAMPLES = [
    payload
    for name in ("meta_messages", "meta_statuses", "meta_other_fields", "meta_not_webhooks")
    for payload in contracts.load(name).values()
]
HELPDESK_SAMPLES = list(contracts.load("helpdesk_webhooks").values())
TEXT = contracts.load("meta_messages")["text"]
META_URL = "/webhooks/meta"
HELPDESK_URL = f"/webhooks/helpdesk/{PNID}"


# --- generated Meta webhooks ------------------------------------------------------------------

message_ids = st.sampled_from(["wamid.A", "wamid.B", "wamid.C"]) | odd_text
messages = st.fixed_dictionaries(
    {
        "id": message_ids,
        "from": st.sampled_from(["16505551234", "5511987654321"]) | odd_text,
        "timestamp": st.sampled_from(["1749416384", "0"]) | odd_text,
        "type": st.sampled_from(["text", "image", "reaction", "unsupported", *UNKNOWN_TYPES]) | odd_text,
    },
    optional={"text": st.fixed_dictionaries({"body": odd_text}), "context": json_values(), "x_new": json_values()},
)
statuses = st.fixed_dictionaries(
    {
        "id": message_ids,
        "status": st.sampled_from(["sent", "delivered", "read", "failed", "brand_new_status"]) | odd_text,
        "timestamp": st.sampled_from(["1751142890"]) | odd_text,
    },
    optional={"recipient_id": odd_text, "errors": st.lists(st.dictionaries(odd_text, json_values(), max_size=3))},
)
messages_value = st.fixed_dictionaries(
    {
        "metadata": st.fixed_dictionaries(
            {"phone_number_id": st.sampled_from([PNID, "PNID1"]) | odd_text},
            optional={"display_phone_number": odd_text},
        ),
    },
    optional={
        "messaging_product": st.just("whatsapp"),
        "contacts": st.lists(st.dictionaries(odd_text, json_values(), max_size=3), max_size=2),
        "messages": st.lists(messages, max_size=4),
        "statuses": st.lists(statuses, max_size=3),
        "errors": st.lists(st.dictionaries(odd_text, json_values(), max_size=3), max_size=2),
    },
)
changes = st.one_of(
    st.fixed_dictionaries({"field": st.just("messages"), "value": messages_value}),
    st.fixed_dictionaries(
        {
            "field": (st.sampled_from(["message_template_status_update", "account_update", "brand_new_field"])
                      | odd_text).filter(lambda field: field != "messages"),
            "value": st.dictionaries(odd_text, json_values(), max_size=4),
        }
    ),
)
envelopes = st.fixed_dictionaries(
    {
        "object": st.just("whatsapp_business_account"),
        "entry": st.lists(
            st.fixed_dictionaries({"id": odd_text, "changes": st.lists(changes, max_size=3)},
                                  optional={"time": st.integers()}),
            min_size=1,
            max_size=3,
        ),
    }
)


@st.composite
def meta_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["generated", "mutated", "wrong_types", "malformed", "oversized"]))
    if kind == "generated":
        return encode(draw, draw(envelopes))
    if kind == "mutated":
        return encode(draw, draw(mutated(META_SAMPLES, json_values())))
    if kind == "wrong_types":
        return encode(draw, draw(json_values()))
    if kind == "malformed":
        return draw(malformed_bytes(META_SAMPLES))
    return oversized(draw(st.sampled_from(META_SAMPLES[:5])), draw(st.integers(1, 3000)))


@st.composite
def meta_headers(draw: st.DrawFn, body: bytes) -> tuple[bool, dict[str, str]]:
    """(signed correctly?, headers)."""
    how = draw(st.sampled_from(["signed", "signed", "signed", "none", "wrong_secret", "other_body", "garbage"]))
    if how == "signed":
        return True, sign_meta(body)
    if how == "none":
        return False, {"Content-Type": "application/json"}
    if how == "wrong_secret":
        return False, sign_meta(body, "not-the-app-secret")
    if how == "other_body":
        return False, sign_meta(body + b" ")
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)
    garbage = draw(st.sampled_from(["", "sha256=", "sha1=abc", "sha256=" + "0" * 64, "Bearer x"]) | printable)
    return False, {meta_signature.HEADER: garbage}


PARTITIONS = make_settings().queue_partitions


def marked(store: redis.Redis, dedupe_id: str) -> bool:
    """Whether the item's dedupe mark is set, in whichever partition its chat went to."""
    return any(store.exists(keys.dedupe(partition, dedupe_id)) for partition in range(PARTITIONS))


def assert_every_item_kept(store: redis.Redis, payload: dict[str, Any], answer: dict[str, Any]) -> None:
    """Each message, status and other change of the payload is a queued job, or carries the dedupe mark
    of an identical id already queued by this very request (the store was empty before it)."""
    jobs = queued_jobs(store)
    assert answer["enqueued"] == len(jobs), f"answered {answer}, but {len(jobs)} jobs are queued"
    queued = {(job["kind"], canonical(job["payload"].get("message", job["payload"].get("status")))) for job in jobs}
    events = {canonical((job["payload"]["field"], job["payload"]["value"])) for job in jobs
              if job["kind"] == "meta.event"}
    items = 0
    for entry in payload["entry"]:
        for change in entry["changes"]:
            if change["field"] != "messages":
                items += 1
                assert canonical((change["field"], change["value"])) in events, f"change lost: {change}"
                continue
            for message in change["value"].get("messages") or []:
                items += 1
                mark = keys.dedupe_id("meta.msg", str(message.get("id")))
                kept = ("meta.message", canonical(message)) in queued or (message.get("id") and marked(store, mark))
                assert kept, f"message accepted with 200 but neither queued nor marked: {message}"
            for status in change["value"].get("statuses") or []:
                items += 1
                mark = keys.dedupe_id("meta.status", f"{status.get('id')}:{status.get('status')}")
                kept = ("meta.status", canonical(status)) in queued or (status.get("id") and marked(store, mark))
                assert kept, f"status accepted with 200 but neither queued nor marked: {status}"
    assert answer["received"] >= items, f"answered {answer} for {items} items"


@fuzz_settings(max_examples=250)
@given(data=st.data())
def test_meta_webhook_answers_precisely_and_keeps_what_it_accepts(
    fuzz_client: Any, store: redis.Redis, data: st.DataObject
) -> None:
    store.flushdb()
    body = data.draw(meta_bodies(), label="body")
    signed, headers = data.draw(meta_headers(body), label="headers")
    response = fuzz_client.post(META_URL, data=body, headers=headers)
    event(f"status {response.status_code}")
    if len(body) > MAX_BODY_BYTES:
        assert_json_error(response, 413)
    elif not signed:
        assert_json_error(response, 401)
        assert not queued_jobs(store), "an unsigned webhook was queued"
    else:
        answer = assert_success_or_error(response, success={200}, errors={400})
        if response.status_code == 200:
            assert_every_item_kept(store, json.loads(body), answer)
        else:
            assert not queued_jobs(store), "a refused webhook was partly queued"


@st.composite
def handshakes(draw: st.DrawFn) -> dict[str, str]:
    """Meta's GET verification query: each part right, missing or odd."""
    query: dict[str, str] = {}
    for name, right in (("hub.mode", "subscribe"), ("hub.verify_token", VERIFY_TOKEN)):
        how = draw(st.sampled_from(["right", "right", "missing", "odd"]))
        if how != "missing":
            query[name] = right if how == "right" else draw(odd_text)
    for name in ("hub.challenge", "hub.other"):
        if draw(st.booleans()):
            query[name] = draw(odd_text)
    return query


@fuzz_settings(max_examples=60)
@given(query=handshakes())
def test_meta_handshake_echoes_the_challenge_only_for_our_token(fuzz_client: Any, query: dict[str, str]) -> None:
    response = fuzz_client.get(META_URL, query_string=query)
    event(f"status {response.status_code}")
    if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == VERIFY_TOKEN:
        assert response.status_code == 200 and response.mimetype == "text/plain"
        assert response.get_data(as_text=True) == query.get("hub.challenge", "")
    else:
        assert_json_error(response, 403)


# --- the helpdesk webhook --------------------------------------------------------------------


@st.composite
def helpdesk_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["mutated", "mutated", "wrong_types", "malformed", "oversized"]))
    if kind == "mutated":
        return encode(draw, draw(mutated(HELPDESK_SAMPLES, json_values())))
    if kind == "wrong_types":
        return encode(draw, draw(json_values()))
    if kind == "malformed":
        return draw(malformed_bytes(HELPDESK_SAMPLES))
    return oversized(draw(st.sampled_from(HELPDESK_SAMPLES)), draw(st.integers(1, 3000)))


@st.composite
def helpdesk_headers(draw: st.DrawFn, body: bytes) -> tuple[bool, dict[str, str]]:
    """(signed correctly and on time?, headers)."""
    now = int(time.time())
    how = draw(st.sampled_from(["signed", "signed", "signed", "none", "wrong_secret", "stale", "future",
                                "not_a_time", "other_body", "signature_only"]))
    if how == "signed":
        return True, sign_helpdesk(body, timestamp=now - draw(st.integers(0, 200)))
    if how == "none":
        return False, {"Content-Type": "application/json"}
    if how == "wrong_secret":
        return False, sign_helpdesk(body, secret="not-the-inbox-secret")
    if how == "stale":
        return False, sign_helpdesk(body, timestamp=now - 3600)
    if how == "future":
        return False, sign_helpdesk(body, timestamp=now + 3600)
    if how == "not_a_time":
        ts = draw(st.sampled_from(["", "abc", "1.5", "1e9", " "]))
        signed = helpdesk_signature.generate_signature(INBOX_SECRET, ts, body)
        return False, {helpdesk_signature.SIGNATURE_HEADER: signed, helpdesk_signature.TIMESTAMP_HEADER: ts}
    if how == "other_body":
        return False, sign_helpdesk(body + b"\n")
    headers = sign_helpdesk(body)
    del headers[helpdesk_signature.TIMESTAMP_HEADER]
    return False, headers


@fuzz_settings(max_examples=200)
@given(data=st.data())
def test_helpdesk_webhook_answers_precisely(fuzz_client: Any, store: redis.Redis, data: st.DataObject) -> None:
    reset(fuzz_client)
    body = data.draw(helpdesk_bodies(), label="body")
    signed, headers = data.draw(helpdesk_headers(body), label="headers")
    known = data.draw(st.integers(0, 9), label="channel") > 0
    url = HELPDESK_URL if known else f"/webhooks/helpdesk/{data.draw(st.sampled_from(['1', '0' * 40, 'x y']))}"
    response = fuzz_client.post(url, data=body, headers=headers)
    event(f"status {response.status_code} {response.get_json().get('ignored', '') if response.is_json else ''}")
    if not known:
        assert_json_error(response, 404)
    elif len(body) > MAX_BODY_BYTES:
        assert_json_error(response, 413)
    elif not signed:
        assert_json_error(response, 401)
    else:
        answer = assert_success_or_error(response, success={200}, errors={400})
        if response.status_code == 200:
            assert set(answer) in ({"enqueued"}, {"ignored"}), answer
            assert answer.get("enqueued", 0) == len(queued_jobs(store)), answer
    if response.status_code != 200:
        assert not queued_jobs(store), "a refused webhook was queued"


# --- two fixed examples ---------------------------------------------------------------------------


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def test_meta_webhook_with_a_deep_but_parsable_value_is_kept(client: Any, store: redis.Redis) -> None:
    """Nested 700 deep still parses; the job must serialize it too (Job.to_json once recursed twice per level)."""
    payload = json.loads(json.dumps(TEXT))
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["nested"] = _deep(700)
    body = json.dumps(payload).encode()
    response = client.post(META_URL, data=body, headers=sign_meta(body))
    answer = assert_success_or_error(response, success={200}, errors=set())
    assert_every_item_kept(store, payload, answer)


def test_the_app_secret_is_what_signs(fuzz_client: Any, store: redis.Redis) -> None:
    """Guards the properties above: a correctly signed real sample is accepted, and found in the queue."""
    store.flushdb()
    body = json.dumps(TEXT).encode()
    response = fuzz_client.post(META_URL, data=body, headers=sign_meta(body, APP_SECRET))
    assert response.status_code == 200 and response.json == {"received": 1, "enqueued": 1}
    assert_every_item_kept(store, TEXT, response.json)
