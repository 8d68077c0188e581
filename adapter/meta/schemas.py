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

