"""Meta -> helpdesk: delivery ticks. A helpdesk message's status is that of its WhatsApp parts and
only ever moves forward (sent < delivered < read; failed is final), whatever order webhooks arrive in."""

from __future__ import annotations

import logging

from adapter.bridge.context import BridgeContext
from adapter.bridge.reengagement import WINDOW_CLOSED_CODE, handle_window_closed
from adapter.errors import OutcomeUnknown
from adapter.meta import error_codes
from adapter.meta.events import MessageStatus, MetaError, StatusKind
from adapter.store.channels import Channel
from adapter.store.mappings import RANK_NAMES, STATUS_RANKS, Quote

logger = logging.getLogger(__name__)


def explain_failure(errors: tuple[MetaError, ...]) -> str:
    """One line for agents: the Meta code and what it means in plain words."""
    if not errors:
        return "WhatsApp reported the message as failed without a reason."
    error = errors[0]
    return f"WhatsApp error {error.code}: {error_codes.lookup(error.code).explanation}"


def apply_status(ctx: BridgeContext, channel: Channel, status: MessageStatus) -> None:
    pnid = channel.phone_number_id
    if status.status is StatusKind.UNKNOWN:
        logger.info("wamid %s: status %r is not one we track; ignored", status.wamid, status.raw_status)
        return
    key = status.callback_data if (status.callback_data or "").startswith(pnid + ":") else None
    if key:
        ctx.mappings.remember_callback(status.recipient, key, status.wamid)
    ref = ctx.mappings.message(pnid, status.recipient, status.wamid)
    if ref is None and key and ctx.mappings.is_sending(status.recipient, key):
        # Our send is in flight and its wamid not written yet: try this status again shortly.
        raise OutcomeUnknown(f"status for part {key} arrived before its send was recorded", retry_after=1.0)
    if ref is None or ref.direction != "out":
        logger.info("wamid %s: status %s for a message this adapter did not send", status.wamid, status.raw_status)
        return
    rank = STATUS_RANKS[status.status.value]
    aggregate, reported = ctx.mappings.record_part_status(pnid, status.recipient, ref.message_id, ref.part, rank)
    if aggregate <= reported:
        return
    name = RANK_NAMES[aggregate]
    if name == "failed" and status.errors and status.errors[0].code == WINDOW_CLOSED_CODE:
        if handle_window_closed(ctx, channel, status.recipient, ref.message_id):
            return
    error = explain_failure(status.errors) if name == "failed" else None
    if name == "failed":
        sent = ctx.mappings.reply_of(pnid, status.recipient, ref.message_id) or {}
        ctx.mappings.mark_failed_by_us(pnid, ref.message_id,
                                       Quote(sent.get("in_reply_to"), sent.get("in_reply_to_external_id")))  # fmt: skip
    ctx.helpdesk.update_message_status(
        channel.helpdesk_account_id, channel.helpdesk_api_token, ref.conversation_id, ref.message_id, name, error
    )
    ctx.mappings.mark_reported(pnid, status.recipient, ref.message_id, aggregate)
    logger.info("wamid %s: helpdesk message %s is now %s", status.wamid, ref.message_id, name)
