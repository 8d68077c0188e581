"""Find or create the helpdesk contact and open conversation of a WhatsApp customer."""

from __future__ import annotations

import logging
from typing import Any

import phonenumbers

from adapter.bridge.context import BridgeContext
from adapter.errors import HelpdeskApiError
from adapter.meta.events import Customer
from adapter.store.channels import Channel
from adapter.store.mappings import ConversationRef

logger = logging.getLogger(__name__)


def e164(wa_id: str | None) -> str | None:
    """`+<wa_id>` when it is a plausible phone number (the helpdesk refuses anything else)."""
    if not wa_id:
        return None
    try:
        number = phonenumbers.parse("+" + wa_id.lstrip("+"))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_or_create_conversation(ctx: BridgeContext, channel: Channel, customer: Customer) -> ConversationRef:
    cached = ctx.mappings.conversation(channel.phone_number_id, customer.key)
    if cached is not None:
        return cached
    contact_id = _find_or_create_contact(ctx, channel, customer)
    conversation_id = _open_conversation(ctx, channel, contact_id, customer)
    ref = ConversationRef(contact_id=contact_id, conversation_id=conversation_id)
    ctx.mappings.remember_conversation(channel.phone_number_id, customer.key, ref)
    return ref


def _find_or_create_contact(ctx: BridgeContext, channel: Channel, customer: Customer) -> int:
    account, token, inbox = channel.helpdesk_account_id, channel.helpdesk_api_token, channel.helpdesk_inbox_id
    found = ctx.helpdesk.filter_contact_inbox(account, token, inbox, customer.key)
    if found is not None:
        return int(found["id"])
    phone = e164(customer.wa_id)
    body: dict[str, object] = {
        "name": customer.name or phone or customer.key,
        "inbox_id": inbox,
        "source_id": customer.key,
        "additional_attributes": {"whatsapp_user_id": customer.user_id} if customer.user_id else {},
    }
    if phone:
        body["phone_number"] = phone
    try:
        return int(ctx.helpdesk.create_contact(account, token, body)["id"])
    except HelpdeskApiError as exc:
        if exc.http_status != 422 or not phone:
            raise
    # The phone already belongs to a contact of the account (another inbox): attach that contact here.
    for contact in ctx.helpdesk.search_contacts(account, token, phone):
        if contact.get("phone_number") == phone:
            ctx.helpdesk.create_contact_inbox(account, token, int(contact["id"]), inbox, customer.key)
            return int(contact["id"])
    raise HelpdeskApiError(http_status=422, message=f"contact with phone {phone} exists but cannot be found")


def _open_conversation(ctx: BridgeContext, channel: Channel, contact_id: int, customer: Customer) -> int:
    account, token, inbox = channel.helpdesk_account_id, channel.helpdesk_api_token, channel.helpdesk_inbox_id
    for conversation in ctx.helpdesk.list_contact_conversations(account, token, contact_id):
        if int(conversation.get("inbox_id") or 0) == inbox and conversation.get("status") != "resolved":
            return int(conversation["id"])
    created = ctx.helpdesk.create_conversation(
        account,
        token,
        {
            "inbox_id": inbox,
            "contact_id": contact_id,
            "source_id": customer.key,
            "additional_attributes": {"wa_phone_number_id": channel.phone_number_id},
        },
    )
    logger.info("conversation %s created for a customer of %s", created["id"], channel.phone_number_id)
    return int(created["id"])


def merge_conversation_attributes(
    ctx: BridgeContext, channel: Channel, conversation_id: int, attributes: dict[str, Any]
) -> None:
    """Set some of a conversation's custom attributes, keeping the others (the helpdesk's endpoint replaces the
    whole hash)."""
    account, token = channel.helpdesk_account_id, channel.helpdesk_api_token
    current = ctx.helpdesk.get_conversation(account, token, conversation_id).get("custom_attributes") or {}
    ctx.helpdesk.update_conversation_custom_attributes(account, token, conversation_id, {**current, **attributes})
