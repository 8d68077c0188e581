"""The typing indicator: an agent or bot typing in the helpdesk shows "typing…" to the customer.

Graph shows it with a read receipt on the customer's latest message (`typing_indicator`); WhatsApp hides
it when our reply arrives or after 25 seconds. Shown only inside the 24-hour window, at most once per
conversation every TYPING_EVERY_SECONDS (an agent's keystrokes come as a burst of events), and
best effort: a failure is logged, never retried, so a late indicator is never shown after the reply.
"""

from __future__ import annotations

import logging

from adapter.bridge.context import BridgeContext
from adapter.errors import ExternalApiError
from adapter.store import keys
from adapter.store.channels import Channel

logger = logging.getLogger(__name__)

TYPING_EVERY_SECONDS = 5


def show_typing(ctx: BridgeContext, channel: Channel, customer: str, conversation_id: int) -> bool:
    """True when the indicator was sent to Graph."""
    pnid = channel.phone_number_id
    if not ctx.window.is_open(pnid, customer):
        return False  # outside the window WhatsApp shows nothing of ours but templates
    wamid = ctx.window.last_customer_wamid(pnid, customer)
    if wamid is None:
        return False
    if not ctx.mappings.store.set(keys.typing_shown(pnid, conversation_id), 1, nx=True, ex=TYPING_EVERY_SECONDS):
        return False
    try:
        ctx.graph.mark_as_read(pnid, channel.graph_access_token, wamid, typing=True)
    except ExternalApiError as exc:
        logger.info("typing indicator for conversation %s not shown: %s", conversation_id, exc.message)
        return False
    return True
