"""Turn a verified helpdesk webhook into jobs. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from adapter.errors import BadRequest
from adapter.helpdesk.events import SENDABLE_MESSAGE_TYPES, is_retry_request, is_sendable
from adapter.helpdesk.schemas import CONVERSATION_EVENT, MESSAGE_EVENT, TYPING_EVENT, WEBHOOK
from adapter.queue.jobs import Job
from adapter.store import keys
from adapter.work.kinds import JobKind


@dataclass(frozen=True)
class Routed:
    jobs: list[tuple[str | None, Job]]
    ignored: str | None = None  # why nothing was enqueued
    # (customer, message id): enqueue only if we marked this message failed (Retry button)
    needs_failure_mark: tuple[str, int] | None = None


def _load(schema: Any, payload: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        return dict(schema.load(payload))
    except ValidationError as exc:
        raise BadRequest(f"invalid {what} payload", details=exc.messages) from None


def jobs_from_event(phone_number_id: str, payload: Any) -> Routed:
    if not isinstance(payload, dict):
        raise BadRequest("not a helpdesk webhook: the body must be a JSON object")
    event = _load(WEBHOOK, payload, "webhook")["event"]
    if event == "message_created":
        kind, echo = payload.get("message_type"), payload.get("private") is True or bool(payload.get("source_id"))
        if isinstance(kind, str) and (kind not in SENDABLE_MESSAGE_TYPES or echo):
            # Most of these are the echoes of what we wrote (customer messages): no need to validate them.
            return Routed([], "not a new outgoing public message")
        data = _load(MESSAGE_EVENT, payload, "message_created")
        if not is_sendable(data):
            return Routed([], "not a new outgoing public message")
        customer = data["conversation"]["contact_inbox"]["source_id"]
        job = Job(
            JobKind.AGENT_REPLY, f"{phone_number_id}:{customer}", {"phone_number_id": phone_number_id, "message": data}
        )
        return Routed([(keys.dedupe_id("helpdesk.msg", f"{phone_number_id}:{data['id']}"), job)])
    if event == "message_updated":
        data = _load(MESSAGE_EVENT, payload, "message_updated")
        if not is_retry_request(data):
            return Routed([], "an update that needs no action")
        customer = data["conversation"]["contact_inbox"]["source_id"]
        job = Job(
            JobKind.RETRY_REQUESTED,
            f"{phone_number_id}:{customer}",
            {"phone_number_id": phone_number_id, "message": data},
        )
        return Routed([(None, job)], needs_failure_mark=(str(customer), int(data["id"])))
    if event == "conversation_status_changed":
        data = _load(CONVERSATION_EVENT, payload, "conversation_status_changed")
        customer = (data.get("contact_inbox") or {}).get("source_id")
        if data.get("status") != "resolved" or not customer:
            return Routed([], "status change needs no action")
        payload = {"phone_number_id": phone_number_id, "customer": customer, "conversation_id": data["id"]}
        job = Job(JobKind.CONVERSATION_CHANGED, f"{phone_number_id}:{customer}", {**payload, "status": "resolved"})
        return Routed([(None, job)])
    if event == "conversation_typing_on":
        data = _load(TYPING_EVENT, payload, "conversation_typing_on")
        customer = (data["conversation"].get("contact_inbox") or {}).get("source_id")
        if data["is_private"] or not customer:
            return Routed([], "typing a private note, or in a conversation without a WhatsApp contact")
        conversation_id = data["conversation"]["id"]
        typing = {"phone_number_id": phone_number_id, "customer": customer, "conversation_id": conversation_id}
        # A chat of its own: the indicator never waits behind the conversation's replies, nor holds one up.
        return Routed([(None, Job(JobKind.TYPING, f"{phone_number_id}:{customer}:typing", typing))])
    return Routed([], f"event {event} needs no action")
