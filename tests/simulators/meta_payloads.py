"""Builders of Meta (WhatsApp Cloud API) webhook payloads, shaped as in research/whatsapp.md §2.

Message builders return the per-type part of a `messages[]` item (``type`` plus its object, and
``context`` where the type carries one) *without* ``from``/``id``/``timestamp``; `inbound()` fills those
and wraps the message in a complete envelope. Timestamps inside messages and statuses are strings, as
Meta sends them; ``entry[].time`` (management fields only) is an integer.

Example::

    payload = inbound("PNID1", wa_id="16505551234", name="Sheena", message=text("hi"))
    sim.post_webhook(payload)
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from typing import Any

ERROR_CODES_HREF = "/documentation/business-messaging/whatsapp/support/error-codes"


def new_wamid() -> str:
    """A fresh, unique, wamid-looking id (``wamid.`` + base64)."""
    raw = b"\x18\x0b" + uuid.uuid4().hex.upper().encode() + b"\x00"
    return "wamid." + base64.b64encode(b"HBgL" + raw).decode()


def _fake_sha256(media_id: str) -> str:
    return base64.b64encode(hashlib.sha256(media_id.encode()).digest()).decode()


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


# --- envelope and changes ------------------------------------------------------------------------


def envelope(waba_id: str, changes: list[dict[str, Any]], *, time: int | None = None) -> dict[str, Any]:
    """The outer webhook object. ``time`` is only present on management fields (not on ``messages``)."""
    entry: dict[str, Any] = {"id": waba_id}
    if time is not None:
        entry["time"] = time
    entry["changes"] = changes
    return {"object": "whatsapp_business_account", "entry": [entry]}


def _messages_value(phone_number_id: str, display_phone_number: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
    }


def contact(wa_id: str, name: str) -> dict[str, Any]:
    """One ``value.contacts[]`` item."""
    return {"profile": {"name": name}, "wa_id": wa_id}


def messages_change(
    phone_number_id: str,
    display_phone_number: str,
    *,
    contacts: list[dict[str, Any]],
    messages: list[dict[str, Any]],
) -> dict[str, Any]:
    """A ``{"field":"messages"}`` change carrying inbound messages (no ``contacts`` key if empty: system)."""
    value = _messages_value(phone_number_id, display_phone_number)
    if contacts:
        value["contacts"] = contacts
    value["messages"] = messages
    return {"field": "messages", "value": value}


def statuses_change(
    phone_number_id: str, display_phone_number: str, statuses: list[dict[str, Any]]
) -> dict[str, Any]:
    """A ``{"field":"messages"}`` change carrying outbound delivery statuses."""
    value = _messages_value(phone_number_id, display_phone_number)
    value["statuses"] = statuses
    return {"field": "messages", "value": value}


def errors_change(
    phone_number_id: str, display_phone_number: str, errors: list[dict[str, Any]]
) -> dict[str, Any]:
    """A ``{"field":"messages"}`` change carrying value-level (system/app/account) errors."""
    value = _messages_value(phone_number_id, display_phone_number)
    value["errors"] = errors
    return {"field": "messages", "value": value}


def inbound(
    phone_number_id: str,
    *,
    wa_id: str,
    name: str,
    message: dict[str, Any],
    display_phone_number: str = "15550001111",
    waba_id: str = "WABA1",
) -> dict[str, Any]:
    """A whole envelope with one inbound message from ``wa_id``.

    ``from``, ``id`` (fresh wamid) and ``timestamp`` (string, now) are filled unless ``message`` has them.
    System messages get no ``contacts`` array, as Meta sends them.
    """
    full: dict[str, Any] = {
        "from": message.get("from", wa_id),
        "id": message.get("id") or new_wamid(),
        "timestamp": str(message.get("timestamp", int(time.time()))),
    }
    full.update({k: v for k, v in message.items() if k not in full})
    contacts = [] if message.get("type") == "system" else [contact(wa_id, name)]
    change = messages_change(phone_number_id, display_phone_number, contacts=contacts, messages=[full])
    return envelope(waba_id, [change])


# --- message builders (type + object, no from/id/timestamp) -------------------------------------


def _context(context_id: str | None, context_from: str) -> dict[str, Any]:
    return {"context": {"from": context_from, "id": context_id}} if context_id else {}


def _media(
    kind: str, media_id: str, mime_type: str, *, sha256: str | None, url: str | None, **extra: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    obj.update({"mime_type": mime_type, "sha256": sha256 or _fake_sha256(media_id), "id": media_id})
    if url is not None:
        obj["url"] = url
    return {"type": kind, kind: obj}


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def image(
    media_id: str,
    caption: str | None = None,
    mime_type: str = "image/jpeg",
    *,
    sha256: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    return _media("image", media_id, mime_type, sha256=sha256, url=url, caption=caption)


def video(
    media_id: str,
    caption: str | None = None,
    mime_type: str = "video/mp4",
    *,
    sha256: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    return _media("video", media_id, mime_type, sha256=sha256, url=url, caption=caption)


def audio(
    media_id: str,
    voice: bool = False,
    mime_type: str | None = None,
    *,
    sha256: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """A voice note (``voice=True``, OGG/OPUS) or an audio file."""
    mime = mime_type or ("audio/ogg; codecs=opus" if voice else "audio/mpeg")
    msg = _media("audio", media_id, mime, sha256=sha256, url=url)
    msg["audio"]["voice"] = voice
    return msg


def document(
    media_id: str,
    filename: str,
    caption: str | None = None,
    mime_type: str = "application/pdf",
    *,
    sha256: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    return _media("document", media_id, mime_type, sha256=sha256, url=url, caption=caption, filename=filename)


def sticker(
    media_id: str,
    animated: bool = False,
    mime_type: str = "image/webp",
    *,
    sha256: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    msg = _media("sticker", media_id, mime_type, sha256=sha256, url=url)
    msg["sticker"]["animated"] = animated
    return msg


def location(
    lat: float, lng: float, name: str | None = None, address: str | None = None, url: str | None = None
) -> dict[str, Any]:
    """Current location (no name/address) or a chosen place."""
    obj: dict[str, Any] = {"latitude": lat, "longitude": lng}
    for key, val in (("name", name), ("address", address), ("url", url)):
        if val is not None:
            obj[key] = val
    return {"type": "location", "location": obj}


def contacts_card(name: str, phone: str, *, wa_id: str | None = None) -> dict[str, Any]:
    """One shared contact card; ``wa_id`` defaults to the phone's digits (i.e. the contact is on WhatsApp)."""
    first, _, last = name.partition(" ")
    name_obj: dict[str, Any] = {"formatted_name": name, "first_name": first}
    if last:
        name_obj["last_name"] = last
    return {
        "type": "contacts",
        "contacts": [
            {"name": name_obj, "phones": [{"phone": phone, "wa_id": wa_id or _digits(phone), "type": "CELL"}]}
        ],
    }


def button(
    text: str, payload: str, context_id: str | None = None, *, context_from: str = "15550001111"
) -> dict[str, Any]:
    """A template quick-reply tap (``context`` absent when ``context_id`` is None)."""
    msg: dict[str, Any] = {"type": "button", "button": {"payload": payload, "text": text}}
    return {**msg, **_context(context_id, context_from)}


def interactive_button_reply(
    id: str, title: str, context_id: str, *, context_from: str = "15550001111"
) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": id, "title": title}},
        **_context(context_id, context_from),
    }


def interactive_list_reply(
    id: str, title: str, description: str, context_id: str, *, context_from: str = "15550001111"
) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "list_reply",
            "list_reply": {"id": id, "title": title, "description": description},
        },
        **_context(context_id, context_from),
    }


def reaction(message_id: str, emoji: str | None) -> dict[str, Any]:
    """A reaction; ``emoji=None`` is a removal (Meta omits the key; some payloads send ``""``)."""
    obj: dict[str, Any] = {"message_id": message_id}
    if emoji is not None:
        obj["emoji"] = emoji
    return {"type": "reaction", "reaction": obj}


def order(
    catalog_id: str = "CATALOG1",
    product_items: list[dict[str, Any]] | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    items = product_items or [
        {"product_retailer_id": "SKU-1", "quantity": 1, "item_price": 10, "currency": "USD"}
    ]
    obj: dict[str, Any] = {"catalog_id": catalog_id}
    if text is not None:
        obj["text"] = text
    obj["product_items"] = items
    return {"type": "order", "order": obj}


def unsupported(kind: str = "poll") -> dict[str, Any]:
    """A message type the Cloud API does not support (poll, edit, ...)."""
    return {
        "type": "unsupported",
        "errors": [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ],
        "unsupported": {"type": kind},
    }


def system_changed_number(new_wa_id: str, old_wa_id: str | None = None) -> dict[str, Any]:
    """The customer changed their number (``from`` of the message is the old number)."""
    body = f"User A changed to {new_wa_id}"
    if old_wa_id:
        body = f"User A changed from {old_wa_id} to {new_wa_id}"
    return {"type": "system", "system": {"body": body, "wa_id": new_wa_id, "type": "user_changed_number"}}


# --- statuses, errors, management fields ---------------------------------------------------------


def error_object(code: int, title: str, details: str) -> dict[str, Any]:
    """One webhook ``errors[]`` item (``title`` == ``message``, as Meta sends them)."""
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": ERROR_CODES_HREF,
    }


def status(
    wamid: str,
    status: str,
    recipient_id: str,
    timestamp: int | str,
    errors: list[dict[str, Any]] | None = None,
    biz_opaque_callback_data: str | None = None,
    *,
    pricing: dict[str, Any] | None = None,
    conversation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``statuses[]`` item (v24+ shape: ``conversation`` only for a free entry point)."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = biz_opaque_callback_data
    if conversation is not None:
        item["conversation"] = conversation
    if pricing is not None:
        item["pricing"] = pricing
    if errors:
        item["errors"] = errors
    return item


def template_status_update(
    template_id: str | int,
    name: str,
    language: str,
    event: str,
    *,
    reason: str | None = "NONE",
    category: str | None = None,
) -> dict[str, Any]:
    """A ``message_template_status_update`` change (``message_template_id`` is an integer here)."""
    value: dict[str, Any] = {
        "event": event,
        "message_template_id": int(template_id),
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason,
    }
    if category is not None:
        value["message_template_category"] = category
    return {"field": "message_template_status_update", "value": value}
