"""What became of each webhook item (delivered, sent, dead, still queued) and each number's queue backlog."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from adapter.monitoring import payload_log
from adapter.services import Services
from adapter.store import keys

SCAN_PER_PARTITION = 1000


@dataclass(frozen=True)
class TracedRecord:
    record: payload_log.WebhookRecord
    fates: tuple[tuple[dict[str, str], str], ...]  # (item, what became of it)


def dead_letter_index(services: Services) -> dict[str, dict[str, Any]]:
    """Dead letters by the id of the message they carry (a wamid or a helpdesk message id)."""
    index: dict[str, dict[str, Any]] = {}
    for record in services.queue.dead_letters(count=500):
        payload = record.get("job", {}).get("payload") or {}
        message: dict[str, Any] = payload["message"] if isinstance(payload.get("message"), dict) else {}
        if message.get("id") is not None:
            index[str(message["id"])] = record
    return index


def fate(services: Services, item: dict[str, str], dead: dict[str, dict[str, Any]]) -> str:
    kind, item_id, number, customer = (item.get(name, "") for name in ("kind", "id", "number", "customer"))
    if item_id in dead:
        return f"dead letter: {dead[item_id].get('error')}"
    if kind == "message" and item_id:
        ref = services.mappings.message(number, customer, item_id)
        if ref is not None:
            return f"in the helpdesk: conversation {ref.conversation_id}, message {ref.message_id}"
        return "not in the helpdesk yet: queued or retrying (see the backlog), or a duplicate of an older delivery"
    if kind.startswith("status") and item_id:
        ref = services.mappings.message(number, customer, item_id)
        return f"applied to helpdesk message {ref.message_id}" if ref else "for a message this adapter did not send"
    if kind.startswith("message_created") and item_id.isdigit():
        wamid = services.mappings.first_wamid(number, customer, int(item_id))
        return f"sent to WhatsApp as {wamid}" if wamid else "not sent to WhatsApp (ignored, queued or retrying)"
    if number.startswith("waba:"):
        return "recorded as an account event"
    return "—"


def traced(services: Services, source: str, number: str | None, count: int = 30) -> list[TracedRecord]:
    dead = dead_letter_index(services)
    result = []
    for record in payload_log.recent(services.store, source, number, count):
        fates = tuple((item, fate(services, item, dead)) for item in record.items) if record.status < 300 else ()
        result.append(TracedRecord(record, fates))
    return result


def backlog_by_number(services: Services) -> dict[str, dict[str, int]]:
    """Per number: jobs waiting in the streams (first SCAN_PER_PARTITION of each) and chats waiting to retry."""
    counts: dict[str, dict[str, int]] = {}
    for partition in range(services.queue.partitions):
        entries = services.store.xrange(keys.stream(partition), count=SCAN_PER_PARTITION)
        for _entry_id, entry in cast(list[tuple[str, dict[str, str]]], entries):
            try:
                chat = str(json.loads(entry.get("job", "{}")).get("chat", ""))
            except ValueError:
                continue
            slot = counts.setdefault(chat.split(":", 1)[0], {"waiting": 0, "retrying": 0})
            slot["waiting"] += 1
    for chat in services.queue.scheduled_chats():
        slot = counts.setdefault(str(chat).split(":", 1)[0], {"waiting": 0, "retrying": 0})
        slot["retrying"] += 1
    return counts


def dead_letters_of(services: Services, phone_number_id: str | None) -> list[dict[str, Any]]:
    records = services.queue.dead_letters(count=200)
    if phone_number_id is None:
        return records
    return [
        r for r in records if str((r.get("job", {}).get("payload") or {}).get("phone_number_id")) == phone_number_id
    ]
