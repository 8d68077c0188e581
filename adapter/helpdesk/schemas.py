"""Marshmallow schemas for the helpdesk's API-inbox webhooks (chatwoot.md §1.4)."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields


class _Open(Schema):
    class Meta:
        unknown = INCLUDE


class WebhookSchema(_Open):
    event = fields.String(required=True)


class ContactInboxSchema(_Open):
    source_id = fields.String(required=True)


class ConversationSchema(_Open):
    id = fields.Integer(required=True)
    status = fields.String(load_default=None)
    contact_inbox = fields.Nested(ContactInboxSchema, load_default=None)


class AttachmentSchema(_Open):
    id = fields.Integer(required=True)
    file_type = fields.String(load_default="file")
    data_url = fields.String(required=True)
    content_type = fields.String(load_default=None)
    extension = fields.String(load_default=None, allow_none=True)
    file_size = fields.Integer(load_default=None, allow_none=True)


class SenderSchema(_Open):
    id = fields.Integer(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True)


class MessageEventSchema(_Open):
    """message_created / message_updated."""

    event = fields.String(required=True)
    id = fields.Integer(required=True)
    content = fields.String(load_default=None, allow_none=True)
    content_type = fields.String(load_default="text", allow_none=True)
    message_type = fields.String(required=True)
    private = fields.Boolean(load_default=False)
    source_id = fields.String(load_default=None, allow_none=True)
    content_attributes = fields.Dict(load_default=dict, allow_none=True)
    additional_attributes = fields.Dict(load_default=dict, allow_none=True)
    sender = fields.Nested(SenderSchema, load_default=None, allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), load_default=list)
    conversation = fields.Nested(ConversationSchema, required=True)
    account = fields.Dict(load_default=None, allow_none=True)


class ConversationEventSchema(_Open):
    """conversation_status_changed / conversation_updated / conversation_created (the conversation itself)."""

    event = fields.String(required=True)
    id = fields.Integer(required=True)
    status = fields.String(load_default=None)
    contact_inbox = fields.Nested(ContactInboxSchema, load_default=None)


class TypingEventSchema(_Open):
    """conversation_typing_on: an agent or bot typing (`is_private` when it is a private note)."""

    event = fields.String(required=True)
    is_private = fields.Boolean(load_default=False)
    conversation = fields.Nested(ConversationSchema, required=True)


WEBHOOK = WebhookSchema()
MESSAGE_EVENT = MessageEventSchema()
CONVERSATION_EVENT = ConversationEventSchema()
TYPING_EVENT = TypingEventSchema()
