"""The customer's tap on reply buttons or a list row we sent, read back as the choice it was.

WhatsApp returns the button's id and its title as shown, which may be shortened (bridge/interactive.py).
The helpdesk gets the item's full title as the message and its value in `submitted_values` (the key
Chatwoot's own widget records a choice with); the reply context links it to the question (inbound.py).
"""

from __future__ import annotations

from adapter.bridge.context import BridgeContext
from adapter.bridge.interactive import choices_of
from adapter.bridge.rendering import Rendered
from adapter.helpdesk.events import AgentReply
from adapter.meta.events import InboundMessage, MessageType

TAPS = ("button_reply", "list_reply")


def with_chosen_item(ctx: BridgeContext, phone_number_id: str, message: InboundMessage, rendered: Rendered) -> Rendered:
    """`rendered`, or the chosen item when `message` answers a question this adapter sent."""
    kind = message.content.get("type")
    if message.type is not MessageType.INTERACTIVE or kind not in TAPS or not message.reply_to:
        return rendered
    tapped = str((message.content.get(str(kind)) or {}).get("id") or "")
    customer = message.customer.key
    ref = ctx.mappings.message(phone_number_id, customer, message.reply_to)
    mine = ref is not None and ref.direction == "out"
    stored = ctx.mappings.reply_of(phone_number_id, customer, ref.message_id) if ref and mine else None
    if stored is None:
        return rendered  # not ours, or older than the mappings: WhatsApp's title is what we have
    choice = next((c for c in choices_of(AgentReply.from_dict(stored)) if c.id == tapped), None)
    if choice is None:
        return rendered
    attributes = {**rendered.content_attributes, "submitted_values": [{"title": choice.title, "value": choice.value}]}
    return Rendered(content=choice.title, content_attributes=attributes)
