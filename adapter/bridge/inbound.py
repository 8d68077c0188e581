"""Meta -> helpdesk: deliver one inbound WhatsApp message into the customer's conversation."""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from typing import Any

from adapter.bridge.choices import with_chosen_item
from adapter.bridge.context import BridgeContext
from adapter.bridge.conversations import find_or_create_conversation
from adapter.bridge.rendering import render
from adapter.bridge.window_attributes import publish_turn, publish_window
from adapter.errors import HelpdeskApiError, OutcomeUnknown
from adapter.helpdesk.client import Upload
from adapter.meta.events import InboundMessage, MessageType
from adapter.monitoring import traffic
from adapter.store.channels import Channel
from adapter.store.mappings import ConversationRef, InboundStart

logger = logging.getLogger(__name__)


def deliver_inbound_message(ctx: BridgeContext, channel: Channel, message: InboundMessage) -> None:
    """Idempotent: a message already delivered (its wamid is mapped) is not posted again.

    A known customer's text costs three Redis round trips around the helpdesk call: the window, the start
    (delivered? conversation? posting mark), and the mapping after it (with the attributes claim). The
    console's hourly counters and the admin API's recent events are written behind, within a second.
    """
    pnid, customer = channel.phone_number_id, message.customer.key
    opened = ctx.window.record_inbound(pnid, customer, message.timestamp, message.type, message.wamid)
    rendered = with_chosen_item(ctx, pnid, message, render(message))
    attributes = dict(rendered.content_attributes)
    attributes.update(_quote_attributes(ctx, pnid, message))
    # A media message is marked as being posted only once its media is in hand (a failed download is no post).
    start = ctx.mappings.begin_inbound(pnid, message.wamid, customer, ctx.clock.now(), mark=message.media is None)
    event = {"phone_number_id": pnid, "wamid": message.wamid, "type": message.raw_type}
    if start.delivered:
        logger.info("wamid %s already delivered; skipping", message.wamid)
        ctx.events.record("meta", {**event, "outcome": "delivered before"})
        return
    uploads = _download_media(ctx, channel, message)
    fields: dict[str, Any] = {
        "content": rendered.content,
        "message_type": "incoming",
        "source_id": message.wamid,
        "content_attributes": attributes,
    }
    if message.media and message.media.voice:
        fields["is_voice_message"] = True
    posted = _post_in_open_conversation(ctx, channel, message, fields, uploads, start)
    logger.info("wamid %s delivered as helpdesk message %s", message.wamid, posted.message_id)
    turn = publish_turn(ctx, pnid, customer, message.timestamp) if opened else None
    ours = ctx.mappings.remember_inbound(
        pnid, customer, message.wamid, posted.conversation_id, posted.message_id, claim=turn
    )
    traffic.count_inbound_later(ctx.deferred, pnid, float(message.timestamp))
    ctx.events.record_later("meta", {**event, "helpdesk_message_id": posted.message_id})
    if message.type is MessageType.TEXT:
        ctx.optouts.apply_keyword(pnid, customer, str(message.content.get("body") or ""))
    if ours:
        publish_window(ctx, channel, posted.ref, message.timestamp)


FIND_POSTED_MAX_PAGES = 50  # a busy conversation's messages since a post began, 20 a page
CLOCK_SKEW_SECONDS = 120.0  # the helpdesk's created_at against our clock


@dataclass(frozen=True)
class _Posted:
    ref: ConversationRef  # the customer's conversation now
    conversation_id: int  # where the message is (an earlier attempt's conversation, if that one landed)
    message_id: int


def _post_in_open_conversation(
    ctx: BridgeContext,
    channel: Channel,
    message: InboundMessage,
    fields: dict[str, Any],
    uploads: list[Upload],
    start: InboundStart,
) -> _Posted:
    pnid = channel.phone_number_id
    for attempt in (1, 2):
        now = ctx.clock.now()
        if attempt == 1 and start.conversation is not None:
            ref, earlier = start.conversation, start.earlier  # marked by begin_inbound
        else:
            ref = find_or_create_conversation(ctx, channel, message.customer)
            earlier = ctx.mappings.begin_posting(pnid, message.customer.key, message.wamid, ref.conversation_id, now)
        if earlier is not None:
            # An earlier attempt timed out or crashed: the helpdesk may have created it, or may still be
            # creating it. Look; if it is not there, wait long enough for that request to have finished.
            conversation_id, began = earlier
            found = _find_posted(ctx, channel, conversation_id, message.wamid, began)
            if found is not None:
                return _Posted(ref, conversation_id, found)
            waited = now - began
            if waited < ctx.unknown_outcome_wait_seconds:
                raise OutcomeUnknown(
                    f"wamid {message.wamid}: an earlier post may still land; looking again before reposting",
                    retry_after=min(5.0, ctx.unknown_outcome_wait_seconds - waited + 0.1),
                )
            ctx.mappings.restart_posting(pnid, message.customer.key, message.wamid, ref.conversation_id, now)
        try:
            posted = ctx.helpdesk.create_message(
                channel.helpdesk_account_id, channel.helpdesk_api_token, ref.conversation_id, fields, uploads
            )
        except HelpdeskApiError as exc:
            # An answer, even an error, means not created.
            ctx.mappings.abandon_posting(pnid, message.customer.key, message.wamid)
            if exc.http_status == 404 and attempt == 1:  # conversation deleted in the helpdesk: open a new one
                ctx.mappings.forget_conversation(pnid, message.customer.key)
                continue
            raise
        return _Posted(ref, ref.conversation_id, int(posted["id"]))
    raise AssertionError("unreachable")


def _find_posted(ctx: BridgeContext, channel: Channel, conversation_id: int, wamid: str, began: float) -> int | None:
    """The helpdesk message of an earlier post of `wamid`, looked for page by page (Chatwoot answers 20 at a
    time) back to the messages created before that post began."""
    before: int | None = None
    for _ in range(FIND_POSTED_MAX_PAGES):
        try:
            page = ctx.helpdesk.list_messages(channel.helpdesk_account_id, channel.helpdesk_api_token,
                                              conversation_id, before=before)  # fmt: skip
        except HelpdeskApiError as exc:
            if exc.http_status == 404:
                return None
            raise
        found = next((int(m["id"]) for m in page if m.get("source_id") == wamid), None)
        if found is not None or not page:
            return found
        oldest = min(page, key=lambda m: int(m["id"]))
        if float(oldest.get("created_at") or 0) < began - CLOCK_SKEW_SECONDS:
            return None  # older than the post: it is not further back
        before = int(oldest["id"])
    return None


def _quote_attributes(ctx: BridgeContext, phone_number_id: str, message: InboundMessage) -> dict[str, Any]:
    """Link a quoted reply (or a reaction) to the message it refers to."""
    target = message.reply_to
    if message.type is MessageType.REACTION:
        target = message.content.get("message_id") or target
    if not target:
        return {}
    ref = ctx.mappings.message(phone_number_id, message.customer.key, target)
    if ref is not None and ref.direction == "out":
        # Agent messages have no source_id in the helpdesk: link by its own id.
        return {"in_reply_to": ref.message_id}
    return {"in_reply_to_external_id": target}


def _download_media(ctx: BridgeContext, channel: Channel, message: InboundMessage) -> list[Upload]:
    media = message.media
    if media is None:
        return []
    token = channel.graph_access_token
    info = ctx.graph.get_media_url(media.id, token)
    content = ctx.graph.download_media(info.url, token)
    mime = (info.mime_type or media.mime_type).split(";")[0].strip()
    filename = media.filename or f"{message.raw_type}-{media.id}{_extension(mime)}"
    return [Upload(filename=filename, content=content, content_type=mime)]


def _extension(mime_type: str) -> str:
    return {"audio/ogg": ".ogg", "image/webp": ".webp", "image/jpeg": ".jpg"}.get(
        mime_type, mimetypes.guess_extension(mime_type) or ""
    )
