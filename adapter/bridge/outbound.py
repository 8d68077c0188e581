"""Helpdesk -> Meta: send an agent's (or the AI agent's) reply to WhatsApp.

The text and each attachment are separate WhatsApp messages ("parts"). Each part's wamid is
recorded once Graph accepts it, and a part already recorded is never sent again, so a retry of
the job resumes where it stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from adapter.bridge.context import BridgeContext
from adapter.bridge.markdown import to_whatsapp
from adapter.errors import ExternalApiError
from adapter.helpdesk.events import AgentReply, Attachment
from adapter.store.channels import Channel

logger = logging.getLogger(__name__)

TEXT_LIMIT = 4096
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
VIDEO_TYPES = frozenset({"video/mp4", "video/3gpp"})


@dataclass(frozen=True)
class Part:
    text: str | None = None
    attachment: Attachment | None = None


def plan_parts(reply: AgentReply) -> list[Part]:
    """The WhatsApp messages a helpdesk message becomes: its text (split at 4096 chars), then every attachment."""
    parts = [Part(text=chunk) for chunk in split_text(to_whatsapp(reply.content))]
    parts += [Part(attachment=attachment) for attachment in reply.attachments]
    return parts


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    text = text.strip()
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return chunks + ([text] if text else [])


def recipient(customer: str) -> dict[str, str]:
    """Phone numbers get a `+` (without it Meta prefixes the business number's country code)."""
    if customer.isdigit():
        return {"to": "+" + customer}
    return {"recipient": customer}  # a business-scoped user id (username users)


def send_agent_reply(ctx: BridgeContext, channel: Channel, reply: AgentReply) -> None:
    decision = ctx.gate.check(channel, reply)
    if not decision.send:
        fail_message(ctx, channel, reply, decision.reason or "The message was not sent.")
        return
    parts = plan_parts(reply)
    if not parts:
        logger.info("helpdesk message %s has nothing to send", reply.message_id)
        return
    context = _reply_context(ctx, channel, reply)
    for index, part in enumerate(parts):
        if ctx.mappings.sent_part(channel.phone_number_id, reply.message_id, index):
            continue
        try:
            body = _message_body(ctx, channel, reply, part)
            body.update(recipient(reply.customer))
            body["biz_opaque_callback_data"] = f"{channel.phone_number_id}:{reply.message_id}:{index}"
            if context:
                body["context"] = context
            wamid = ctx.graph.send_message(channel.phone_number_id, channel.graph_access_token, body)
        except ExternalApiError as exc:
            if exc.retryable:
                raise
            fail_message(ctx, channel, reply, exc.explanation)
            return
        ctx.mappings.remember_sent_part(
            channel.phone_number_id, reply.conversation_id, reply.message_id, index, len(parts), wamid
        )
        logger.info("helpdesk message %s part %d sent as %s", reply.message_id, index, wamid)


def fail_message(ctx: BridgeContext, channel: Channel, reply: AgentReply, reason: str) -> None:
    """Mark the helpdesk message failed, with the reason agents see in its tooltip."""
    logger.warning("helpdesk message %s failed: %s", reply.message_id, reason)
    ctx.helpdesk.update_message_status(
        channel.helpdesk_account_id, channel.helpdesk_api_token, reply.conversation_id, reply.message_id,
        "failed", reason,
    )


def _reply_context(ctx: BridgeContext, channel: Channel, reply: AgentReply) -> dict[str, str] | None:
    """The agent's quote as WhatsApp reply context: a customer message's wamid, or one of ours."""
    external = reply.in_reply_to_external_id
    if external and external.startswith("wamid."):
        return {"message_id": external}
    if reply.in_reply_to is not None:
        wamid = ctx.mappings.first_wamid(channel.phone_number_id, reply.in_reply_to)
        if wamid:
            return {"message_id": wamid}
    return None


def _message_body(ctx: BridgeContext, channel: Channel, reply: AgentReply, part: Part) -> dict[str, Any]:
    base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
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
