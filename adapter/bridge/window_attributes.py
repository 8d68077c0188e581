"""Write the window where the helpdesk can use it: contact and conversation custom attributes
(`whatsapp_window_open_until`, ISO 8601 UTC), so views, filters, automations and the AI agent can read it.

Written at most every few minutes per chat: the value written is then at most that much *earlier* than
the truth, which errs on the safe side.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from adapter.bridge.context import BridgeContext
from adapter.bridge.conversations import merge_conversation_attributes
from adapter.store import keys
from adapter.store.channels import Channel
from adapter.store.mappings import Claim, ConversationRef

logger = logging.getLogger(__name__)

OPEN_UNTIL = "whatsapp_window_open_until"
LAST_MESSAGE_AT = "whatsapp_last_customer_message_at"


def iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def publish_turn(ctx: BridgeContext, phone_number_id: str, customer: str, last: int) -> Claim:
    """This chat's turn to write the attributes (at most once per WINDOW_ATTRIBUTES_EVERY_SECONDS): whoever takes
    it calls `publish_window`."""
    throttle = keys.window_attributes_written(phone_number_id, customer)
    return Claim(throttle, last, int(ctx.window_attributes_every_seconds))


def publish_window(ctx: BridgeContext, channel: Channel, ref: ConversationRef, last: int) -> None:
    """Write the window opened by a customer message at `last` (Unix time) to the contact and conversation."""
    attributes: dict[str, Any] = {OPEN_UNTIL: iso(last + 24 * 3600), LAST_MESSAGE_AT: iso(last)}
    account, token = channel.helpdesk_account_id, channel.helpdesk_api_token
    ctx.helpdesk.update_contact(account, token, ref.contact_id, {"custom_attributes": attributes})
    merge_conversation_attributes(ctx, channel, ref.conversation_id, attributes)
