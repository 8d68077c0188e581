"""The ingest's fast path: the shape check vouches only for what the marshmallow schemas accept (and for every
real sample), and what it stores (jobs, records) reads back to the same values."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from adapter import jsonfast
from adapter.errors import BadRequest
from adapter.meta import schemas
from adapter.meta.ingest import jobs_from_webhook
from adapter.queue.jobs import Job
from tests import contracts

SAMPLES = {
    f"{name}/{variant}": payload
    for name in ("meta_messages", "meta_statuses", "meta_other_fields")
    for variant, payload in contracts.load(name).items()
}


def schemas_accept(payload: Any) -> bool:
    try:
        envelope = schemas.ENVELOPE.load(payload)
        for entry in envelope["entry"]:
            for change in entry["changes"]:
                if change["field"] == "messages":
                    schemas.MESSAGES_VALUE.load(change["value"])
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_real_sample_takes_the_fast_path(name: str) -> None:
    assert schemas.plainly_valid(SAMPLES[name])


@pytest.mark.parametrize("name", sorted(contracts.load("meta_not_webhooks")))
def test_what_is_not_a_webhook_is_left_to_the_schemas(name: str) -> None:
    payload = contracts.load("meta_not_webhooks")[name]
    assert not schemas.plainly_valid(payload)
    with pytest.raises(BadRequest):
        jobs_from_webhook(payload)


# Mutations of real samples: a value anywhere in the envelope's spine replaced by another JSON type, or removed.
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5),
    st.just([]), st.just({}), st.just([1]), st.just(["x"]), st.just([{}]), st.just({"id": 1}),
)  # fmt: skip
SPINE = [
    ("object",), ("entry",), ("entry", 0), ("entry", 0, "id"), ("entry", 0, "changes"), ("entry", 0, "changes", 0),
    ("entry", 0, "changes", 0, "field"), ("entry", 0, "changes", 0, "value"),
    ("entry", 0, "changes", 0, "value", "metadata"),
    ("entry", 0, "changes", 0, "value", "metadata", "phone_number_id"),
    ("entry", 0, "changes", 0, "value", "metadata", "display_phone_number"),
    ("entry", 0, "changes", 0, "value", "contacts"), ("entry", 0, "changes", 0, "value", "contacts", 0),
    ("entry", 0, "changes", 0, "value", "messages"), ("entry", 0, "changes", 0, "value", "messages", 0),
    ("entry", 0, "changes", 0, "value", "statuses"), ("entry", 0, "changes", 0, "value", "statuses", 0),
    ("entry", 0, "changes", 0, "value", "errors"),
]  # fmt: skip


def mutate(payload: Any, path: tuple[Any, ...], value: Any, remove: bool) -> Any:
    changed = copy.deepcopy(payload)
    parent = changed
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return changed
    last = path[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        if remove:
            parent.pop(last, None)
        else:
            parent[last] = value
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        if remove:
            del parent[last]
        else:
            parent[last] = value
    return changed


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(sorted(SAMPLES)),
    mutations=st.lists(st.tuples(st.sampled_from(SPINE), ODD_VALUES, st.booleans()), min_size=1, max_size=3),
)
def test_the_fast_path_never_vouches_for_what_the_schemas_refuse(
    sample: str, mutations: list[tuple[tuple[Any, ...], Any, bool]]
) -> None:
    payload = SAMPLES[sample]
    for path, value, remove in mutations:
        payload = mutate(payload, path, value, remove)
    if schemas.plainly_valid(payload):
        assert schemas_accept(payload), json.dumps(payload)[:500]


@pytest.mark.parametrize(
    "value",
    [
        {"text": "half an emoji \ud83d"},
        {"id": 2**70},
        {"text": "héllo 👋", "n": -1.5e300},
    ],
)
def test_stored_json_reads_back_to_the_same_value(value: dict[str, Any]) -> None:
    assert json.loads(jsonfast.dumps(value)) == value


def test_a_job_reads_back_the_same_with_or_without_its_default_fields() -> None:
    fresh = Job("meta.message", "pnid:165055501", {"text": "héllo \ud83d", "n": 2**70})
    stored = fresh.to_json(enqueued_at=12.5)
    assert "attempt" not in stored and "last_error" not in stored  # left out: every byte passes the enqueue script
    assert Job.from_json(stored) == dataclasses.replace(fresh, enqueued_at=12.5)
    retried = fresh.retried("helpdesk down").retried("helpdesk down again")
    assert Job.from_json(retried.to_json()) == retried


MESSAGE_ITEMS = {
    f"{variant}/{n}": message
    for variant, payload in contracts.load("meta_messages").items()
    for entry in payload["entry"]
    for change in entry["changes"]
    for n, message in enumerate(change["value"].get("messages") or [])
}
ITEM_FIELDS = ["id", "timestamp", "type", "from", "from_user_id", "context", "referral", "errors"]


@pytest.mark.parametrize("name", sorted(MESSAGE_ITEMS))
def test_a_worker_reads_every_real_message_item_without_the_schema(name: str) -> None:
    item = MESSAGE_ITEMS[name]
    plain = schemas.plain_inbound_message(item)
    assert plain is not None or "errors" in item
    if plain is not None:
        assert plain == schemas.INBOUND_MESSAGE.load(item)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(MESSAGE_ITEMS)), st.sampled_from(ITEM_FIELDS), ODD_VALUES | st.just("123"), st.booleans())
def test_the_message_item_check_gives_only_what_the_schema_gives(name: str, field: str, odd: Any, drop: bool) -> None:
    item = copy.deepcopy(MESSAGE_ITEMS[name])
    if drop:
        item.pop(field, None)
    else:
        item[field] = odd
    plain = schemas.plain_inbound_message(item)
    if plain is not None:
        assert plain == schemas.INBOUND_MESSAGE.load(item)
