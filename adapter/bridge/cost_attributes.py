"""Meta -> helpdesk: what messages cost. Each status's pricing is counted once per message (monitoring/costs.py)
and the conversation's totals are written to its custom attributes, `whatsapp_billable_<category>` and
`whatsapp_free_<type>` (counts; Meta's free types already start with "free_", which is not said twice:
`whatsapp_free_customer_service`, `whatsapp_free_entry_point`), where views, filters, reports and automations
can read them.

The totals are written whole, read back from the ledger, so a write is never counted twice and a later one
corrects an earlier that failed. A write that can succeed later (the helpdesk down, a 5xx) fails the job, which
is retried: the status tick it carries is applied again idempotently and the attributes written then. One that
cannot (the conversation is gone) is logged and dropped; the status stands either way.
"""

from __future__ import annotations

import logging

from adapter.bridge.context import BridgeContext
from adapter.bridge.conversations import merge_conversation_attributes
from adapter.errors import ExternalApiError
from adapter.meta.events import MessageStatus
from adapter.monitoring.costs import CostTotals
from adapter.store.channels import Channel

logger = logging.getLogger(__name__)

BILLABLE_PREFIX = "whatsapp_billable_"
FREE_PREFIX = "whatsapp_free_"


def cost_attributes(totals: CostTotals) -> dict[str, int]:
    """The custom attributes of a conversation's totals."""
    attributes = {BILLABLE_PREFIX + category: count for category, count in totals.billable.items()}
    attributes.update({FREE_PREFIX + kind.removeprefix("free_"): count for kind, count in totals.free.items()})
    return attributes


def count_message_cost(ctx: BridgeContext, channel: Channel, status: MessageStatus) -> None:
    """Count the status's pricing (once per message) and write its conversation's totals."""
    if status.pricing is None:
        return
    pnid = channel.phone_number_id
    ref = ctx.mappings.message(pnid, status.recipient, status.wamid)
    conversation = ref.conversation_id if ref is not None and ref.direction == "out" else None
    at = float(status.timestamp) if status.timestamp else None
    counted = ctx.costs.count(pnid, status.wamid, conversation, status.pricing, at)
    if conversation is None or counted.pending is None:
        return  # no conversation, or written with an earlier status of this message or an earlier delivery
    totals = counted.pending
    try:
        merge_conversation_attributes(ctx, channel, conversation, cost_attributes(totals))
    except ExternalApiError as exc:
        if exc.retryable:
            raise
        logger.warning("wamid %s: conversation %s's message costs were not written: %s", status.wamid,
                       conversation, exc)  # fmt: skip
    ctx.costs.attributes_written(pnid, status.wamid)
    logger.info("wamid %s: %s %s counted in conversation %s", status.wamid, status.pricing.type,
                status.pricing.category, conversation)  # fmt: skip
