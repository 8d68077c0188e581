"""How each WhatsApp message type reads in the helpdesk. Nothing is dropped: a type we cannot show
natively becomes a visible text, and an unknown type a visible placeholder."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapter.meta.events import InboundMessage, MessageType


@dataclass(frozen=True)
class Rendered:
    content: str
    content_attributes: dict[str, Any] = field(default_factory=dict)


def render(message: InboundMessage) -> Rendered:
    """Text and attributes of the helpdesk message (media files are attached separately)."""
    renderer = _RENDERERS.get(message.type, _unsupported)
    text, attributes = renderer(message.content, message)
    if message.forwarded:
        text = "↪ Forwarded\n" + text
    if message.referral:
        attributes["referral"] = message.referral
        headline = message.referral.get("headline") or message.referral.get("body") or ""
        text = f"{text}\n\n📣 From an ad: {headline} {message.referral.get('source_url', '')}".rstrip()
    if message.errors and message.type is not MessageType.UNSUPPORTED:
        problems = "; ".join(f"{e.title or 'error'} ({e.code}) {e.details}".strip() for e in message.errors)
        text = f"{text}\n\n⚠️ WhatsApp reported a problem with this message: {problems}".strip()
    return Rendered(content=text.strip(), content_attributes=attributes)


Renderer = Callable[[dict[str, Any], InboundMessage], tuple[str, dict[str, Any]]]


def _text(c: dict[str, Any], _: InboundMessage) -> tuple[str, dict[str, Any]]:
    return str(c.get("body") or ""), {}


def _media(c: dict[str, Any], m: InboundMessage) -> tuple[str, dict[str, Any]]:
    if not c.get("id"):
        return f"📎 The customer sent a {m.raw_type} that WhatsApp did not make available.", {}
    return str(c.get("caption") or ""), {}


def _location(c: dict[str, Any], _: InboundMessage) -> tuple[str, dict[str, Any]]:
    lat, lng = c.get("latitude"), c.get("longitude")
    lines = ["📍 Location"]
    lines += [str(c[k]) for k in ("name", "address") if c.get(k)]
    lines.append(f"https://maps.google.com/?q={lat},{lng}")
    if c.get("url"):
        lines.append(str(c["url"]))
    return "\n".join(lines), {"location": {"latitude": lat, "longitude": lng}}


def _contacts(c: dict[str, Any], _: InboundMessage) -> tuple[str, dict[str, Any]]:
    items = c.get("items")
    cards = [card for card in items if isinstance(card, dict)] if isinstance(items, list) else []
    lines: list[str] = []
    for card in cards:
        name = (card.get("name") or {}).get("formatted_name") or "Contact"
        lines.append(f"👤 {name}")
        lines += [f"  📞 {p.get('phone')}" for p in card.get("phones") or [] if p.get("phone")]
        lines += [f"  ✉️ {e.get('email')}" for e in card.get("emails") or [] if e.get("email")]
        org = card.get("org") or {}
        if org.get("company"):
            lines.append(f"  🏢 {org['company']}")
    return "\n".join(lines) or "👤 Contact card", {}


def _button(c: dict[str, Any], _: InboundMessage) -> tuple[str, dict[str, Any]]:
    return str(c.get("text") or c.get("payload") or ""), {"button_payload": c.get("payload")}


def _interactive(c: dict[str, Any], _: InboundMessage) -> tuple[str, dict[str, Any]]:
    kind = c.get("type")
    if kind in ("button_reply", "list_reply"):
        reply = c.get(kind) or {}
        text = str(reply.get("title") or "")
        if reply.get("description"):
            text += f"\n{reply['description']}"
        return text, {"reply_id": reply.get("id")}
    if kind == "nfm_reply":
        reply = c.get("nfm_reply") or {}
        try:
            answers = json.loads(reply.get("response_json") or "{}")
        except ValueError:
            answers = reply.get("response_json")
        lines = ["📝 Form submitted"]
        if isinstance(answers, dict):
            lines += [f"{key}: {value}" for key, value in answers.items() if key != "flow_token"]
        return "\n".join(lines), {"flow_response": answers}
    return "💬 The customer answered an interactive message WhatsApp could not describe.", {}


def _order(c: dict[str, Any], _: InboundMessage) -> tuple[str, dict[str, Any]]:
    items = c.get("product_items") or []
    lines = [f"🛒 Order ({len(items)} item{'s' if len(items) != 1 else ''})"]
    for item in items:
        price = f" @ {item.get('item_price')} {item.get('currency', '')}".rstrip()
        lines.append(f"- {item.get('quantity', 1)} × {item.get('product_retailer_id')}{price}")
    if c.get("text"):
        lines.append(str(c["text"]))
    return "\n".join(lines), {"order": c}


def _reaction(c: dict[str, Any], _: InboundMessage) -> tuple[str, dict[str, Any]]:
    emoji = c.get("emoji")
    return (f"Reacted {emoji}" if emoji else "Removed a reaction"), {"reaction": {"emoji": emoji or None}}


def _system(c: dict[str, Any], _: InboundMessage) -> tuple[str, dict[str, Any]]:
    return f"ℹ️ {c.get('body') or 'WhatsApp system notice'}", {"system": c}


def _unsupported(c: dict[str, Any], m: InboundMessage) -> tuple[str, dict[str, Any]]:
    kind = c.get("type") or (m.raw_type if m.type is MessageType.UNKNOWN else "message")
    text = (
        f"⚠️ The customer sent a {kind} that WhatsApp does not pass on to business apps. "
        "Ask them to send it another way."
    )
    return text, {"is_unsupported": True}


_RENDERERS: dict[MessageType, Renderer] = {
    MessageType.TEXT: _text,
    MessageType.IMAGE: _media,
    MessageType.VIDEO: _media,
    MessageType.AUDIO: _media,
    MessageType.DOCUMENT: _media,
    MessageType.STICKER: _media,
    MessageType.LOCATION: _location,
    MessageType.CONTACTS: _contacts,
    MessageType.BUTTON: _button,
    MessageType.INTERACTIVE: _interactive,
    MessageType.ORDER: _order,
    MessageType.REACTION: _reaction,
    MessageType.SYSTEM: _system,
    MessageType.UNSUPPORTED: _unsupported,
}
