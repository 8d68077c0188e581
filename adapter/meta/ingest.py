"""Turn a verified Meta webhook into jobs: one per message, status and other change.

Pure: no I/O. The web layer enqueues the result in one atomic step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from adapter.errors import BadRequest
from adapter.meta import schemas
from adapter.queue.jobs import Job
from adapter.store import keys
from adapter.work.kinds import JobKind


def _digest(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def jobs_from_webhook(payload: Any) -> list[tuple[str | None, Job]]:
    """Every item of every change of every entry, each with its dedupe key.

    The envelope, and each `messages` change (metadata, lists of objects), must have the documented shape,
    or the whole webhook is refused with 400: silently skipping part of it would lose messages.
    """
    envelope = _checked(payload)
    jobs: list[tuple[str | None, Job]] = []
    for entry in envelope["entry"]:
        waba_id = str(entry["id"])
        for change in entry["changes"]:
            value = change["value"]
            if change["field"] == "messages":
                jobs += _messages_jobs(str(value["metadata"]["phone_number_id"]), value)
            else:
                item = {"waba_id": waba_id, "field": change["field"], "value": value, "time": entry.get("time")}
                jobs.append(
                    (keys.dedupe_id("meta.event", _digest(item)), Job(JobKind.ACCOUNT_EVENT, f"waba:{waba_id}", item))
                )
    return jobs


def _checked(payload: Any) -> dict[str, Any]:
    """The envelope, checked against its documented shape, or a precise 400."""
    if not isinstance(payload, dict):
        raise BadRequest("not a WhatsApp Business Account webhook: the body must be a JSON object")
    try:
        envelope = schemas.check(payload, schemas.Envelope)
    except schemas.InvalidPayload as exc:
        raise BadRequest("not a WhatsApp Business Account webhook", details={"envelope": str(exc)}) from None
    for e, entry in enumerate(envelope.entry):
        for c, change in enumerate(entry.changes):
            if change.field == "messages":
                try:
                    schemas.check(change.value, schemas.MessagesValue)
                except schemas.InvalidPayload as exc:
                    where = f"entry[{e}].changes[{c}].value"
                    raise BadRequest("invalid `messages` change", details={where: str(exc)}) from None
    return payload


def _messages_jobs(phone_number_id: str, value: dict[str, Any]) -> list[tuple[str | None, Job]]:
    jobs: list[tuple[str | None, Job]] = []
    display = str((value.get("metadata") or {}).get("display_phone_number") or "")
    contacts = _dicts(value.get("contacts"))
    by_sender = {str(c.get("wa_id") or c.get("user_id")): c for c in contacts}
    for message in _dicts(value.get("messages")):
        sender = message.get("from") or message.get("from_user_id") or "unknown"
        wamid = message.get("id") or _digest(message)
        # Only the sender's own profile travels with its message (a batch names every sender once).
        own = by_sender.get(str(sender))
        payload = {
            "phone_number_id": phone_number_id,
            "display_phone_number": display,
            "contacts": [own] if own else (contacts if len(contacts) == 1 else []),
            "message": message,
        }
        job = Job(JobKind.INBOUND_MESSAGE, f"{phone_number_id}:{sender}", payload)
        jobs.append((keys.dedupe_id("meta.msg", str(wamid)), job))
    for status in _dicts(value.get("statuses")):
        recipient = status.get("recipient_id") or status.get("recipient_user_id") or "unknown"
        dedupe = f"{status.get('id') or _digest(status)}:{status.get('status')}"
        payload = {"phone_number_id": phone_number_id, "status": status}
        # Their own chat: a status must never wait behind a send that is itself waiting for that status.
        chat = f"{phone_number_id}:{recipient}:statuses"
        jobs.append((keys.dedupe_id("meta.status", dedupe), Job(JobKind.MESSAGE_STATUS, chat, payload)))
    errors = list(_dicts(value.get("errors")))
    if errors and not value.get("messages") and not value.get("statuses"):
        payload = {"phone_number_id": phone_number_id, "errors": errors}
        jobs.append(
            (
                keys.dedupe_id("meta.errors", _digest(payload)),
                Job(JobKind.VALUE_ERRORS, f"{phone_number_id}:errors", payload),
            )
        )
    return jobs


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
