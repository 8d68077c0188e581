"""Helpdesk -> Meta: send an agent's (or the AI agent's, or an automation's) reply to WhatsApp.

The text and each attachment are separate WhatsApp messages ("parts"); a reply the window policy
reroutes, or a template the agent picked, is one template part. Each part's wamid is recorded once
Graph accepts it, and a part already recorded is never sent again, so a retry resumes where it stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from adapter.bridge.context import BridgeContext
from adapter.bridge.interactive import plan_rich, split_text
from adapter.bridge.markdown import to_whatsapp
from adapter.bridge.window import GateDecision
from adapter.errors import ExternalApiError, GraphApiError, OutcomeUnknown, Throttled
from adapter.helpdesk.events import AgentReply, Attachment
from adapter.monitoring import traffic
from adapter.store.channels import Channel
from adapter.store.mappings import Quote

logger = logging.getLogger(__name__)

SHORT_WAIT_SECONDS = 0.5
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
VIDEO_TYPES = frozenset({"video/mp4", "video/3gpp"})


@dataclass(frozen=True)
class Part:
    text: str | None = None
    attachment: Attachment | None = None
    template: dict[str, Any] | None = None
    message: dict[str, Any] | None = None  # a ready Graph message object: interactive, or media by link


def plan_parts(reply: AgentReply, decision: GateDecision) -> list[Part]:
    """The WhatsApp messages a helpdesk message becomes: its text (split at 4096 chars) or its rich content
    (bridge/interactive.py), then every attachment."""
    if decision.template is not None:
        return [Part(template=decision.template)]
    rich = plan_rich(reply)
    if rich is None:
        parts = [Part(text=chunk) for chunk in split_text(to_whatsapp(reply.content))]
    else:
        parts = [Part(text=p) if isinstance(p, str) else Part(message=p) for p in rich]
    parts += [Part(attachment=attachment) for attachment in reply.attachments]
    return parts


def recipient(customer: str) -> dict[str, str]:
    """Phone numbers get a `+` (without it Meta prefixes the business number's country code)."""
    if customer.isdigit():
        return {"to": "+" + customer}
    return {"recipient": customer}  # a business-scoped user id (username users)


def send_agent_reply(ctx: BridgeContext, channel: Channel, reply: AgentReply) -> None:
    decision = ctx.gate.check(channel, reply)
    if not decision.send:
        refuse(ctx, channel, reply, decision)
        return
    parts = plan_parts(reply, decision)
    if not parts:
        logger.info("helpdesk message %s has nothing to send", reply.message_id)
        return
    context = _reply_context(ctx, channel, reply)
    for index, part in enumerate(parts):
        if ctx.mappings.sent_part(channel.phone_number_id, reply.customer, reply.message_id, index):
            continue
        if not send_part(ctx, channel, reply, part, index, len(parts), context):
            return
    ctx.window.mark_answered(channel.phone_number_id, reply.customer)


def send_part(
    ctx: BridgeContext,
    channel: Channel,
    reply: AgentReply,
    part: Part,
    index: int,
    parts: int,
    context: dict[str, str] | None = None,
) -> bool:
    """Send one part and record its wamid. False when it failed for good (the message is marked failed).

    Exactly once: the part is marked before the Graph call. If a mark from an earlier attempt is found
    without a wamid, that attempt may have been accepted (a crash, or a timeout after Meta took it), so
    we look for the status webhook carrying the part's key before sending again.
    """
    key = part_key(channel.phone_number_id, reply.message_id, index)
    _wait_for_a_slot(ctx, channel, reply.customer)
    if not _may_send(ctx, channel, reply, key, index, parts):
        return True
    try:
        body = _message_body(ctx, channel, part)
        body.update(recipient(reply.customer))
        body["biz_opaque_callback_data"] = key
        if context and part.template is None:
            body["context"] = context
        wamid = ctx.graph.send_message(channel.phone_number_id, channel.graph_access_token, body)
    except GraphApiError as exc:
        if exc.certainly_not_sent:
            ctx.mappings.abandon_send(reply.customer, key)
        if exc.retryable:
            raise
        fail_message(ctx, channel, reply, exc.explanation)
        return False
    except ExternalApiError as exc:
        if exc.retryable:
            raise
        ctx.mappings.abandon_send(reply.customer, key)  # the attachment could not be fetched or uploaded: none sent
        fail_message(ctx, channel, reply, exc.explanation)
        return False
    ctx.mappings.remember_sent_part(
        channel.phone_number_id, reply.customer, reply.conversation_id, reply.message_id, index, parts, wamid,
        reply.to_dict(),
    )
    traffic.record_outbound(ctx.mappings.store, channel.phone_number_id, ctx.clock.now())
    logger.info("helpdesk message %s part %d sent as %s", reply.message_id, index, wamid)
    return True


def part_key(phone_number_id: str, message_id: int, index: int) -> str:
    """Idempotency key of a part, sent to Meta as biz_opaque_callback_data and echoed in its statuses."""
    return f"{phone_number_id}:{message_id}:{index}"


def _may_send(ctx: BridgeContext, channel: Channel, reply: AgentReply, key: str, index: int, parts: int) -> bool:
    """False when an earlier attempt is proven sent (its wamid is adopted); raises while still unknown."""
    began = ctx.mappings.begin_send(reply.customer, key, ctx.clock.now())
    if began is None:
        return True
    wamid = ctx.mappings.callback_wamid(reply.customer, key)
    if wamid:
        ctx.mappings.remember_sent_part(
            channel.phone_number_id, reply.customer, reply.conversation_id, reply.message_id, index, parts, wamid,
        reply.to_dict(),
        )
        logger.info("helpdesk message %s part %d: earlier send confirmed by Meta as %s", reply.message_id, index, wamid)
        return False
    waited = ctx.clock.now() - began
    if waited < ctx.unknown_outcome_wait_seconds:
        raise OutcomeUnknown(
            f"part {key} may have been sent; waiting for Meta's status before resending",
            retry_after=min(10.0, ctx.unknown_outcome_wait_seconds - waited + 0.1),
        )
    logger.warning("helpdesk message %s part %d: no status after %.0fs, sending again", reply.message_id, index, waited)
    return True


def _wait_for_a_slot(ctx: BridgeContext, channel: Channel, customer: str) -> None:
    """Short waits happen here; a longer one parks the chat (the worker thread moves on to other chats)."""
    for _ in range(20):
        wait = ctx.throttle.acquire(channel.phone_number_id, customer)
        if wait <= 0:
            return
        if wait > SHORT_WAIT_SECONDS:
            raise Throttled(wait)
        ctx.clock.sleep(wait)
    raise Throttled(SHORT_WAIT_SECONDS)


def refuse(ctx: BridgeContext, channel: Channel, reply: AgentReply, decision: GateDecision) -> None:
    """A reply that may not go out: failed with its reason, and a private note saying what to do."""
    fail_message(ctx, channel, reply, decision.reason or "The message was not sent.")
    if decision.note:
        post_private_note(ctx, channel, reply.conversation_id, decision.note)


def fail_message(ctx: BridgeContext, channel: Channel, reply: AgentReply, reason: str) -> None:
    """Mark the helpdesk message failed, with the reason agents see in its tooltip."""
    logger.warning("helpdesk message %s failed: %s", reply.message_id, reason)
    ctx.mappings.mark_failed_by_us(channel.phone_number_id, reply.message_id,
                                   Quote(reply.in_reply_to, reply.in_reply_to_external_id))  # fmt: skip
    traffic.record_failure(ctx.mappings.store, channel.phone_number_id, reason, ctx.clock.now())
    ctx.helpdesk.update_message_status(
        channel.helpdesk_account_id, channel.helpdesk_api_token, reply.conversation_id, reply.message_id,
        "failed", reason,
    )


def post_private_note(ctx: BridgeContext, channel: Channel, conversation_id: int, text: str) -> None:
    ctx.helpdesk.create_message(
        channel.helpdesk_account_id,
        channel.helpdesk_api_token,
        conversation_id,
        {"content": text, "message_type": "outgoing", "private": True},
    )


def _reply_context(ctx: BridgeContext, channel: Channel, reply: AgentReply) -> dict[str, str] | None:
    """The agent's quote as WhatsApp reply context: a customer message's wamid, or one of ours."""
    external = reply.in_reply_to_external_id
    if external and external.startswith("wamid."):
        return {"message_id": external}
    if reply.in_reply_to is not None:
        wamid = ctx.mappings.first_wamid(channel.phone_number_id, reply.customer, reply.in_reply_to)
        if wamid:
            return {"message_id": wamid}
    return None


def _message_body(ctx: BridgeContext, channel: Channel, part: Part) -> dict[str, Any]:
    base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if part.template is not None:
        return {**base, "type": "template", "template": part.template}
    if part.message is not None:
        return {**base, **part.message}
    if part.text is not None:
        preview = "http://" in part.text or "https://" in part.text
        return {**base, "type": "text", "text": {"body": part.text, "preview_url": preview}}
    assert part.attachment is not None
    content, downloaded_type = ctx.helpdesk.download_attachment(part.attachment.data_url)
    mime = _normalize_mime(part.attachment.content_type or downloaded_type)
    kind = whatsapp_media_kind(part.attachment.file_type, mime)
    filename = part.attachment.filename
    media_id = ctx.graph.upload_media(channel.phone_number_id, channel.graph_access_token, content, mime, filename)
    media: dict[str, Any] = {"id": media_id}
    if kind == "document":
        media["filename"] = filename
    if kind == "audio" and mime == "audio/ogg":
        media["voice"] = True  # recorded OGG/OPUS voice notes play as voice messages
    return {**base, "type": kind, kind: media}


def whatsapp_media_kind(file_type: str, mime: str) -> str:
    if file_type == "image" and mime in IMAGE_TYPES:
        return "image"
    if file_type == "video" and mime in VIDEO_TYPES:
        return "video"
    if file_type == "audio" or mime.startswith("audio/"):
        return "audio"
    return "document"


def _normalize_mime(mime: str) -> str:
    mime = mime.split(";")[0].strip().lower()
    return {"audio/opus": "audio/ogg", "image/jpg": "image/jpeg"}.get(mime, mime)
