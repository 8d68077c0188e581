"""Signed Meta webhook bodies for the benches, built with the test payload builders and the production signer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from adapter.meta.signature import HEADER as HEADER
from adapter.meta.signature import generate_signature
from tests.simulators import meta_payloads as mp

APP_SECRET = "bench-app-secret"
PNID = "106540352242922"
WABA = "102290129340398"
DISPLAY = "15550783881"


def customer(index: int) -> str:
    """A plausible, distinct wa_id per index (10,000 per area code)."""
    return f"1{650 + (index // 10_000) % 300}555{index % 10_000:04d}"


def serialize(payload: dict[str, Any]) -> bytes:
    """As Meta sends it: ASCII-escaped, compact."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def headers(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", HEADER: generate_signature(secret, body)}


def _message(index: int, wamid: str, text: str) -> dict[str, Any]:
    return {"from": customer(index), "id": wamid, "timestamp": str(int(time.time())), **mp.text(text)}


def text_messages(first: int, count: int, customers: int, *, wamids: list[str] | None = None) -> dict[str, Any]:
    """One envelope with `count` text messages from customers first, first+1, ... (mod `customers`)."""
    indexes = [(first + n) % customers for n in range(count)]
    ids = wamids or [mp.new_wamid() for _ in indexes]
    messages = [
        _message(i, wamid, f"Hello, I need help with order #{i}") for i, wamid in zip(indexes, ids, strict=True)
    ]
    contacts = [mp.contact(customer(i), f"Customer {i}") for i in dict.fromkeys(indexes)]
    return mp.envelope(WABA, [mp.messages_change(PNID, DISPLAY, contacts=contacts, messages=messages)])


def text_webhooks(
    first: int, customers: int, per_request: int = 1
) -> Callable[[int], tuple[str, bytes, dict[str, str]]]:
    """A loadgen request maker: signed webhooks of `per_request` text messages from consecutive customers; each
    request's key lists its wamids."""

    def make(index: int) -> tuple[str, bytes, dict[str, str]]:
        wamids = [mp.new_wamid() for _ in range(per_request)]
        body = serialize(text_messages(first + index * per_request, per_request, customers, wamids=wamids))
        return ",".join(wamids), body, headers(body)

    return make


def status(index: int, customers: int) -> dict[str, Any]:
    """A `delivered` status for a message the business sent (unknown to the adapter: the worker decides)."""
    item = mp.status(mp.new_wamid(), "delivered", customer(index % customers), int(time.time()))
    return mp.envelope(WABA, [mp.statuses_change(PNID, DISPLAY, [item])])


KINDS: dict[str, int] = {"text": 1, "status": 1, "batch50": 50}  # payload kind -> messages per request


def build(kind: str, index: int, customers: int = 1000) -> bytes:
    """The serialized body of request number `index` of a kind (fresh wamids every call)."""
    if kind == "text":
        return serialize(text_messages(index, 1, customers))
    if kind == "status":
        return serialize(status(index, customers))
    if kind == "batch50":
        return serialize(text_messages(index * 50, 50, customers))
    raise ValueError(f"unknown payload kind {kind!r}")
