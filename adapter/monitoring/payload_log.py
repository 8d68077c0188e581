"""The latest webhook requests from Meta and from the helpdesk, with the verification result and what became
of each (accepted and queued, duplicate, ignored, refused), for the Troubleshooting page.

Capped Redis lists (keys.webhook_payloads); bodies are cut to BODY_LIMIT characters. Writing here must
never fail a webhook, so Redis errors are logged and swallowed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from typing import Any

from redis import RedisError

from adapter import jsonfast
from adapter.ids import new_id
from adapter.store import keys
from adapter.store.connection import Store
from adapter.store.deferred import DeferredWrites
from adapter.store.replies import texts

logger = logging.getLogger(__name__)

LIMIT = 200
# Each process writes at most this many records a second. A batch's record is kilobytes, and writing LIMIT of
# them each second held the process (and Redis) long enough to show in the webhooks' slowest answers.
WRITTEN_PER_FLUSH = 50
BODY_LIMIT = 4000
PARSE_LIMIT = 256 * 1024  # larger batches are kept without per-number details


@dataclass(frozen=True)
class WebhookRecord:
    source: str  # "meta" or "helpdesk"
    at: float
    status: int
    verification: str  # plain words: "signature verified", "signature refused"…
    outcome: str  # plain words: what became of it
    numbers: tuple[str, ...]  # phone_number_ids (or "waba:<id>") it concerns
    items: tuple[dict[str, str], ...]  # per item: kind, id, number, customer (for following it further)
    body: str
    id: str = dataclasses.field(default_factory=lambda: new_id(8))

    def to_json(self) -> str:
        return jsonfast.dumps({**self.__dict__, "numbers": list(self.numbers), "items": list(self.items)})

    @classmethod
    def from_json(cls, raw: str) -> WebhookRecord:
        data = json.loads(raw)
        data["numbers"] = tuple(data.get("numbers") or ())
        data["items"] = tuple(data.get("items") or ())
        answer = data.pop("answer", None)  # records of earlier versions kept the answer beside the outcome
        if answer is not None:
            data["outcome"] = outcome_words(int(data["status"]), answer)
        return cls(**data)


def verification_words(source: str, status: int) -> str:
    header = "X-Hub-Signature-256" if source == "meta" else "X-Chatwoot-Signature"
    if status == 401:
        return f"refused: missing or wrong {header}"
    if status == 404 and source == "helpdesk":
        return "refused: no channel for this number"
    if status == 413:
        return "refused: body too large"
    if status >= 500:
        return "not checked: the adapter could not store it (the sender retries)"
    return f"{header} verified"


def outcome_words(status: int, answer: Any) -> str:
    answer = answer if isinstance(answer, dict) else {}
    if status >= 400:
        return f"refused with {status}: {answer.get('message') or answer.get('error') or 'see the adapter logs'}"
    if "ignored" in answer:
        return f"ignored: {answer['ignored']}"
    if "enqueued" in answer:
        received = int(answer.get("received", answer["enqueued"]) or 0)
        enqueued = int(answer["enqueued"] or 0)
        duplicates = received - enqueued if "received" in answer else 0
        text = f"queued {enqueued} job{'s' if enqueued != 1 else ''}"
        return text + (f", {duplicates} duplicate{'s' if duplicates != 1 else ''} dropped" if duplicates > 0 else "")
    return f"answered {status}"


def meta_items(payload: Any) -> tuple[list[str], list[dict[str, str]]]:
    """The numbers and items (messages, statuses, other fields) of a Meta webhook body."""
    numbers: list[str] = []
    items: list[dict[str, str]] = []
    for entry in _list(payload.get("entry") if isinstance(payload, dict) else None):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            if not isinstance(change, dict):
                continue
            value: dict[str, Any] = change["value"] if isinstance(change.get("value"), dict) else {}
            metadata = value["metadata"] if isinstance(value.get("metadata"), dict) else {}
            pnid = str(metadata.get("phone_number_id") or "")
            number = pnid or f"waba:{entry.get('id')}"
            if number not in numbers:
                numbers.append(number)
            if change.get("field") != "messages":
                items.append({"kind": str(change.get("field")), "id": "", "number": number})
                continue
            for message in _list(value.get("messages")):
                if isinstance(message, dict):
                    customer = str(message.get("from") or message.get("from_user_id") or "")
                    items.append({"kind": "message", "id": str(message.get("id") or ""), "number": number,
                                  "customer": customer})  # fmt: skip
            for status in _list(value.get("statuses")):
                if isinstance(status, dict):
                    customer = str(status.get("recipient_id") or status.get("recipient_user_id") or "")
                    items.append({"kind": f"status {status.get('status')}", "id": str(status.get("id") or ""),
                                  "number": number, "customer": customer})  # fmt: skip
    return numbers, items


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def helpdesk_items(phone_number_id: str, payload: Any) -> list[dict[str, str]]:
    if not isinstance(payload, dict):
        return []
    event = str(payload.get("event") or "event")
    kind = f"{event} ({payload.get('message_type')})" if payload.get("message_type") else event
    contact_inbox = _dict(_dict(payload.get("conversation")).get("contact_inbox"))
    customer = str(contact_inbox.get("source_id") or "")
    return [{"kind": kind, "id": str(payload.get("id") or ""), "number": phone_number_id, "customer": customer}]


def keep_accepted_meta(deferred: DeferredWrites, payload: Any, body: bytes, at: float, answer: dict[str, Any]) -> None:
    """Keep an accepted Meta webhook with its answer, written behind within a second (store/deferred.py)."""
    deferred.lpush_capped(
        keys.webhook_payloads("meta"),
        lambda: _accepted("meta", *meta_items(payload), body, at, answer),
        LIMIT,
        per_flush=WRITTEN_PER_FLUSH,
    )


def keep_accepted_helpdesk(
    deferred: DeferredWrites, phone_number_id: str, payload: Any, body: bytes, at: float, answer: dict[str, Any]
) -> None:
    """Keep an accepted helpdesk webhook with its answer, written behind within a second."""
    deferred.lpush_capped(
        keys.webhook_payloads("helpdesk"),
        lambda: _accepted("helpdesk", [phone_number_id], helpdesk_items(phone_number_id, payload), body, at, answer),
        LIMIT,
        per_flush=WRITTEN_PER_FLUSH,
    )


def _accepted(
    source: str, numbers: list[str], items: list[dict[str, str]], body: bytes, at: float, answer: dict[str, Any]
) -> str:
    """The record of an accepted webhook, as stored. Rendered when it is written, and only if it is among the
    newest LIMIT: under load the webhooks' hot path builds no record that would be trimmed unread."""
    return WebhookRecord(
        source=source, at=at, status=200, verification=verification_words(source, 200),
        outcome=outcome_words(200, answer), numbers=tuple(numbers), items=tuple(items), body=body_excerpt(body),
    ).to_json()  # fmt: skip


def record(store: Store, record: WebhookRecord) -> None:
    key = keys.webhook_payloads(record.source)
    try:
        pipe = store.pipeline(transaction=False)
        pipe.lpush(key, record.to_json())
        pipe.ltrim(key, 0, LIMIT - 1)
        pipe.execute()
    except RedisError as exc:
        logger.warning("could not keep a %s webhook for troubleshooting: %s", record.source, exc)


def recent(store: Store, source: str, number: str | None = None, count: int = 30) -> list[WebhookRecord]:
    """The latest records of `source`, newest first; only those concerning `number` when given.

    Sorted by time: a record written behind (keep_later) lands up to a second after later ones."""
    kept = [WebhookRecord.from_json(raw) for raw in texts(store.lrange(keys.webhook_payloads(source), 0, LIMIT - 1))]
    kept.sort(key=lambda item: item.at, reverse=True)
    return [item for item in kept if number is None or number in item.numbers][:count]


def parse_body(body: bytes) -> Any:
    if len(body) > PARSE_LIMIT:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: kept as text only
        return None


def body_excerpt(body: bytes) -> str:
    text = body[: BODY_LIMIT * 4].decode("utf-8", errors="replace")
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + " …(cut)"
