"""The shape of a channel as admins give it (admin API and CLI), validated once."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from adapter.errors import BadRequest
from adapter.store.channels import Channel

_digits = validate.Regexp(r"[0-9]{1,32}\Z", error="must be the numeric id Meta shows")


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
    window_policy = fields.String(load_default="reject", validate=validate.OneOf(["reject", "reroute"]))
    reroute_template_name = fields.String(load_default="", validate=validate.Regexp(r"[a-z0-9_]{0,512}\Z"))
    reroute_template_language = fields.String(load_default="", validate=validate.Length(max=15))
    reroute_parameters = fields.List(
        fields.String(validate=validate.Regexp(r"(contact_name|agent_name|reply_text|const:[^\n]{0,200})\Z",
                                               error="must be contact_name, agent_name, reply_text or const:<text>")),
        load_default=list,
    )
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
    values["reroute_parameters"] = tuple(values["reroute_parameters"])
    template_chosen = values["reroute_template_name"] and values["reroute_template_language"]
    if values["window_policy"] == "reroute" and not template_chosen:
        raise BadRequest(
            "invalid channel",
            details={"reroute_template_name": ["rerouting needs a template name and language"]},
        )
    return Channel(**values, created_at=existing.created_at if existing else now)
