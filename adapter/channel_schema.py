"""The shape of a channel as admins give it (admin API and CLI), validated once."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from adapter.errors import BadRequest
from adapter.store.channels import Channel

_digits = validate.Regexp(r"^\d{1,32}$", error="must be the numeric id Meta shows")


class ChannelInputSchema(Schema):
    class Meta:
        unknown = RAISE

    phone_number_id = fields.String(required=True, validate=_digits)
    display_phone_number = fields.String(load_default="", validate=validate.Length(max=32))
    waba_id = fields.String(required=True, validate=_digits)
    graph_access_token = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    helpdesk_account_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    helpdesk_inbox_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    helpdesk_api_token = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    helpdesk_webhook_secret = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    default_agent_bot_id = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1)
    )


CHANNEL_INPUT = ChannelInputSchema()


def channel_from_input(data: Any, *, now: float, existing: Channel | None = None) -> Channel:
    """Validate admin input into a Channel; on update, omitted secrets keep their stored value."""
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object describing the channel")
    if existing is not None:
        kept = {name: getattr(existing, name) for name in CHANNEL_INPUT.fields if name not in data}
        data = {**{k: v for k, v in kept.items() if v is not None}, **data}
    try:
        values = CHANNEL_INPUT.load(data)
    except ValidationError as exc:
        raise BadRequest("invalid channel", details=exc.messages) from exc
    return Channel(**values, created_at=existing.created_at if existing else now)
