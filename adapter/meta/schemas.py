"""Marshmallow schemas for Meta webhook payloads: the envelope and the items inside it.

The web layer validates only the envelope (cheap, and a bad item must never make Meta retry a
whole batch); each item is validated by the worker and turned into an event (events.py).
"""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema


class _Open(Schema):
    class Meta:
        unknown = INCLUDE


class ChangeSchema(_Open):
    field = fields.String(required=True)
    value = fields.Dict(required=True)


class EntrySchema(_Open):
    id = fields.String(required=True)
    changes = fields.List(fields.Nested(ChangeSchema), required=True)


class EnvelopeSchema(_Open):
    object = fields.String(required=True, validate=validate.Equal("whatsapp_business_account"))
    entry = fields.List(fields.Nested(EntrySchema), required=True)


class MetadataSchema(_Open):
    phone_number_id = fields.String(required=True)
    display_phone_number = fields.String(load_default="")


class MessagesValueSchema(_Open):
    """The `value` of a `messages` change: inbound messages, statuses or value-level errors."""

    metadata = fields.Nested(MetadataSchema, required=True)
    contacts = fields.List(fields.Dict(), load_default=list)
    messages = fields.List(fields.Dict(), load_default=list)
    statuses = fields.List(fields.Dict(), load_default=list)
    errors = fields.List(fields.Dict(), load_default=list)


class ErrorSchema(_Open):
    code = fields.Integer(load_default=0)
    title = fields.String(load_default="")
    message = fields.String(load_default="")
    error_data = fields.Dict(load_default=dict)


class InboundMessageSchema(_Open):
    id = fields.String(required=True)
    timestamp = fields.String(required=True)
    type = fields.String(required=True)
    context = fields.Dict(load_default=None)
    referral = fields.Dict(load_default=None)
    errors = fields.List(fields.Nested(ErrorSchema), load_default=list)

    @validates_schema(pass_original=True)
    def _has_sender(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        if not (original.get("from") or original.get("from_user_id")):
            raise ValidationError("a message needs `from` or `from_user_id`")
        if not str(data["timestamp"]).isdigit():
            raise ValidationError("timestamp must be unix seconds", "timestamp")


class StatusSchema(_Open):
    id = fields.String(required=True)
    status = fields.String(required=True)
    timestamp = fields.String(required=True)
    recipient_id = fields.String(load_default=None)
    recipient_user_id = fields.String(load_default=None)
    biz_opaque_callback_data = fields.String(load_default=None)
    errors = fields.List(fields.Nested(ErrorSchema), load_default=list)


ENVELOPE = EnvelopeSchema()
MESSAGES_VALUE = MessagesValueSchema()
INBOUND_MESSAGE = InboundMessageSchema()
STATUS = StatusSchema()


# The fast path of ingest. Marshmallow costs more than everything else a webhook does, and nearly every
# webhook is well formed, so a plain check of the same rules runs first; it only ever answers "certainly
# valid", and whatever it does not vouch for goes through the schemas above, which decide and explain.
# (tests/unit/test_ingest_fast_path.py holds it to that: it never accepts what the schemas refuse.)


def _is_list_of_dicts(value: Any) -> bool:
    return type(value) is list and all(type(item) is dict for item in value)


def _plain_messages_value(value: dict[str, Any]) -> bool:
    metadata = value.get("metadata")
    if type(metadata) is not dict or type(metadata.get("phone_number_id")) is not str:
        return False
    if "display_phone_number" in metadata and type(metadata["display_phone_number"]) is not str:
        return False
    return all(
        name not in value or _is_list_of_dicts(value[name]) for name in ("contacts", "messages", "statuses", "errors")
    )


def plainly_valid(payload: Any) -> bool:
    """True only when ENVELOPE, and MESSAGES_VALUE on every `messages` change, would load `payload` as it is."""
    if type(payload) is not dict or payload.get("object") != "whatsapp_business_account":
        return False
    entries = payload.get("entry")
    if type(entries) is not list:
        return False
    for entry in entries:
        if type(entry) is not dict or type(entry.get("id")) is not str or type(entry.get("changes")) is not list:
            return False
        for change in entry["changes"]:
            if type(change) is not dict or type(change.get("field")) is not str:
                return False
            value = change.get("value")
            if type(value) is not dict or (change["field"] == "messages" and not _plain_messages_value(value)):
                return False
    return True


def plain_inbound_message(item: Any) -> dict[str, Any] | None:
    """What INBOUND_MESSAGE.load(item) gives, for an item it would load as it is; None for the schema to decide.

    A worker reads every message item again; the webhook's shape was checked at ingest, this is the item's.
    """
    if type(item) is not dict or "errors" in item or not (item.get("from") or item.get("from_user_id")):
        return None
    if any(type(item.get(name)) is not str for name in ("id", "timestamp", "type")) or not item["timestamp"].isdigit():
        return None
    if any(item.get(name) is not None and type(item[name]) is not dict for name in ("context", "referral")):
        return None
    return {"context": None, "referral": None, "errors": [], **item}
