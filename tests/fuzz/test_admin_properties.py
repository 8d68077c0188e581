"""The admin API's write routes under hypothesis: any JSON (or not-JSON) body gets a 2xx or a precise JSON 4xx,
never a 5xx, and no token or secret, given now or stored before, ever comes back in an answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hypothesis import event, given
from hypothesis import strategies as st

from adapter.store.channels import SECRET_FIELDS
from tests.conftest import ADMIN_TOKEN, GRAPH_TOKEN, HELPDESK_TOKEN, INBOX_SECRET, PNID, make_channel
from tests.fuzz.strategies import (
    MAX_BODY_BYTES,
    assert_success_or_error,
    encode,
    fuzz_settings,
    json_values,
    malformed_bytes,
    mutated,
    odd_text,
    oversized,
    reset,
    services_of,
)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
STORED_SECRETS = (GRAPH_TOKEN, HELPDESK_TOKEN, INBOX_SECRET, ADMIN_TOKEN)

# A secret always carries this marker, so finding it in an answer cannot be a coincidence.
SECRET_MARKER = "s3cret-"
secrets = odd_text.map(lambda text: SECRET_MARKER + text)
ascii_digits = st.from_regex(r"\A[0-9]{1,32}\Z")
CHANNEL_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "phone_number_id": st.just(PNID) | ascii_digits,  # PNID exists already: 409
    "display_phone_number": odd_text.filter(lambda text: len(text) <= 32),
    "waba_id": ascii_digits,
    "helpdesk_account_id": st.integers(min_value=1, max_value=10**12),
    "helpdesk_inbox_id": st.integers(min_value=1, max_value=10**12),
    "graph_access_token": secrets,
    "helpdesk_api_token": secrets,
    "helpdesk_webhook_secret": secrets,
    "window_policy": st.sampled_from(["reject", "reroute"]),
    "reroute_template_name": st.from_regex(r"\A[a-z0-9_]{0,20}\Z"),
    "reroute_template_language": st.sampled_from(["", "en_US", "pt_BR"]),
    "reroute_parameters": st.lists(st.sampled_from(["contact_name", "agent_name", "reply_text", "const:Olá"])),
    "default_agent_bot_id": st.none() | st.integers(min_value=1, max_value=100),
}

TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "order_update", "category": "UTILITY", "language": "en_US",
        "components": [{"type": "BODY", "text": "Your order {{1}} ships today.", "example": {"body_text": [["#1"]]}}],
    },
    {
        "name": "summer_offer", "category": "marketing", "language": "pt_BR", "parameter_format": "NAMED",
        "message_send_ttl_seconds": 3600,
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Olá {{first_name}}",
             "example": {"header_text_named_params": [{"param_name": "first_name", "example": "Ana"}]}},
            {"type": "BODY", "text": "Hello {{first_name}}, our summer offers are here.",
             "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Ana"}]}},
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Stop"},
                {"type": "URL", "text": "Shop", "url": "https://acme.test/{{1}}", "example": ["https://acme.test/a"]},
            ]},
        ],
    },
    {
        "name": "login_code", "category": "AUTHENTICATION", "language": "en",
        "components": [{"type": "BODY"}, {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}],
    },
]


@st.composite
def channel_objects(draw: st.DrawFn, *, all_required: bool) -> dict[str, Any]:
    """A channel body: valid fields (all of them, or some for an update), then a few broken on purpose:
    retyped, dropped, or an unknown field added."""
    names = list(CHANNEL_FIELDS)
    if not all_required:
        names = draw(st.lists(st.sampled_from(names), unique=True, max_size=5))
    body = {name: draw(CHANNEL_FIELDS[name]) for name in names}
    for _ in range(draw(st.integers(0, 2))):
        how = draw(st.sampled_from(["retype", "drop", "unknown"]))
        if how == "unknown" or not body:
            body[draw(odd_text)] = draw(json_values())
        elif how == "retype":
            body[draw(st.sampled_from(sorted(body)))] = draw(json_values())
        else:
            del body[draw(st.sampled_from(sorted(body)))]
    return body


@st.composite
def admin_bodies(draw: st.DrawFn, objects: st.SearchStrategy[Any], samples: list[Any]) -> bytes:
    kind = draw(st.sampled_from(["object"] * 4 + ["any_json", "malformed", "oversized"]))
    if kind == "object":
        return encode(draw, draw(objects))
    if kind == "any_json":
        return encode(draw, draw(json_values()))
    if kind == "malformed":
        return draw(malformed_bytes(samples))
    return oversized(draw(st.sampled_from(samples)), draw(st.integers(1, 2000)))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def secrets_in(body: bytes) -> list[str]:
    """The secrets a request body carries: its secret fields' values made by `secrets` (a short random string
    of a wrong-type draw, like "" or "a", would be found in any answer by chance)."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    values = [data.get(name) for name in SECRET_FIELDS] if isinstance(data, dict) else []
    return [value for value in values if isinstance(value, str) and value.startswith(SECRET_MARKER)]


def assert_no_secret(response: Any, secrets_given: list[str]) -> None:
    text = response.get_data(as_text=True)
    decoded = list(_strings(response.get_json(silent=True)))
    for secret in [*secrets_given, *STORED_SECRETS]:
        assert secret not in text and json.dumps(secret)[1:-1] not in text, f"secret {secret!r} echoed: {text[:500]}"
        assert not any(secret in s for s in decoded), f"secret {secret!r} echoed: {text[:500]}"


def expected_errors(body: bytes, phone_number_id: str) -> set[int]:
    """The body is read first (413, or 400 when it is not JSON), then the channel looked up (404)."""
    if len(body) > MAX_BODY_BYTES:
        return {413}
    if phone_number_id == PNID:
        return {400}
    try:
        json.loads(body)
    except ValueError:
        return {400}
    return {404}


@fuzz_settings(max_examples=200)
@given(data=st.data())
def test_creating_a_channel_answers_precisely_and_never_shows_a_secret(
    fuzz_client: Any, store: redis.Redis, data: st.DataObject
) -> None:
    reset(fuzz_client)
    body = data.draw(admin_bodies(channel_objects(all_required=True), [make_channel().public_view()]), label="body")
    response = fuzz_client.post("/admin/api/channels", data=body, headers=AUTH)
    event(f"status {response.status_code}")
    errors = {413} if len(body) > MAX_BODY_BYTES else {400, 409}
    answer = assert_success_or_error(response, success={201}, errors=errors)
    assert_no_secret(response, secrets_in(body))
    if response.status_code == 201:
        given_channel = json.loads(body)
        stored = services_of(fuzz_client).channels.get(answer["phone_number_id"])
        assert stored is not None and all(getattr(stored, f) == given_channel[f] for f in SECRET_FIELDS)
        assert {answer[f] for f in SECRET_FIELDS} == {"set"}


@fuzz_settings(max_examples=200)
@given(data=st.data())
def test_updating_a_channel_answers_precisely_and_never_shows_a_secret(
    fuzz_client: Any, store: redis.Redis, data: st.DataObject
) -> None:
    reset(fuzz_client)
    body = data.draw(admin_bodies(channel_objects(all_required=False), [{"display_phone_number": "1"}]), label="body")
    phone_number_id = data.draw(st.sampled_from([PNID] * 5 + ["999", "x"]), label="phone_number_id")
    response = fuzz_client.patch(f"/admin/api/channels/{phone_number_id}", data=body, headers=AUTH)
    event(f"status {response.status_code}")
    answer = assert_success_or_error(response, success={200}, errors=expected_errors(body, phone_number_id))
    assert_no_secret(response, secrets_in(body))
    if response.status_code == 200:
        changed = json.loads(body)
        stored = services_of(fuzz_client).channels.get(PNID)
        assert stored is not None and answer["phone_number_id"] == PNID
        for name, before in zip(SECRET_FIELDS, (GRAPH_TOKEN, HELPDESK_TOKEN, INBOX_SECRET), strict=True):
            assert getattr(stored, name) == changed.get(name, before), f"{name} not kept or not changed"


@fuzz_settings(max_examples=200)
@given(data=st.data())
def test_creating_a_template_answers_precisely_and_never_shows_a_secret(
    fuzz_client: Any, store: redis.Redis, data: st.DataObject
) -> None:
    reset(fuzz_client)
    # No NaN or Infinity here: they are a known 502 (test_a_template_with_nan_is_a_400).
    definitions = mutated(TEMPLATES, json_values(allow_nan=False), max_mutations=2)
    body = data.draw(admin_bodies(definitions, TEMPLATES), label="body")
    phone_number_id = data.draw(st.sampled_from([PNID] * 9 + ["999"]), label="phone_number_id")
    response = fuzz_client.post(f"/admin/api/channels/{phone_number_id}/templates", data=body, headers=AUTH)
    event(f"status {response.status_code}")
    assert_success_or_error(response, success={201}, errors=expected_errors(body, phone_number_id))
    assert_no_secret(response, [])


@pytest.mark.parametrize("name", sorted(t["name"] for t in TEMPLATES))
def test_the_template_samples_are_accepted(fuzz_client: Any, store: redis.Redis, name: str) -> None:
    """Guards the property above: unmutated, every sample reaches (the mocked) Graph."""
    reset(fuzz_client)
    template = next(t for t in TEMPLATES if t["name"] == name)
    response = fuzz_client.post(f"/admin/api/channels/{PNID}/templates", json=template, headers=AUTH)
    assert response.status_code == 201, response.get_data(as_text=True)
