"""A reply Meta refused later because the window had closed (a `failed` status with 131047) takes the
same path as one refused before sending: rerouted to the number's template, or failed with a note."""

from __future__ import annotations

import logging

from adapter.bridge.context import BridgeContext
from adapter.bridge.outbound import Part, part_key, refuse, send_part
from adapter.bridge.window_policy import Closed
from adapter.helpdesk.events import AgentReply
from adapter.store.channels import Channel

logger = logging.getLogger(__name__)

WINDOW_CLOSED_CODE = 131047


def handle_window_closed(ctx: BridgeContext, channel: Channel, customer: str, message_id: int) -> bool:
    """True when the failure was handled here (rerouted, or refused with the window's explanation)."""
    pnid = channel.phone_number_id
    stored = ctx.mappings.reply_of(pnid, customer, message_id)
    if stored is None:
        return False
    reply = AgentReply.from_dict(stored)
    if reply.template_params:
        return False  # a template cannot be outside the window: report Meta's error as it is
    closed = Closed(ctx.window.last_inbound(pnid, reply.customer), ctx.window.closes_at(pnid, reply.customer))
    decision = ctx.gate.outside_window(channel, reply, closed)
    if decision.template is None:
        refuse(ctx, channel, reply, decision)
        ctx.mappings.mark_reported(pnid, customer, message_id, 4)
        return True
    if not ctx.mappings.start_reroute(pnid, customer, message_id):
        return True  # another part's 131047 already rerouted this message
    logger.info("helpdesk message %s: window closed at Meta, rerouting to a template", message_id)
    ctx.mappings.forget_callback(customer, part_key(pnid, message_id, 0))  # that wamid was the refused free text
    send_part(ctx, channel, reply, Part(template=decision.template), 0, 1)
    return True
