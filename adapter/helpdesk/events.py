"""The helpdesk's events as frozen dataclasses, in its own words (message, conversation, sender)."""

from __future__ import annotations

import dataclasses
import posixpath
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

SENDABLE_MESSAGE_TYPES = frozenset({"outgoing", "template"})
# Messages whose `content_attributes.items` carry what is to be shown (Chatwoot's ContentAttributeValidator).
RICH_CONTENT_TYPES = frozenset({"input_select", "cards", "article", "form"})


@dataclass(frozen=True)
class Attachment:
    id: int
    file_type: str  # image, audio, video, file, …
    data_url: str
    content_type: str | None
    extension: str | None

    @property
    def filename(self) -> str:
        name = unquote(posixpath.basename(urlparse(self.data_url).path))
        if not name or "." not in name:
            name = f"attachment-{self.id}" + (f".{self.extension}" if self.extension else "")
        return name


@dataclass(frozen=True)
class CardAction:
    """A card's button: `link` opens `uri`, `postback` answers `payload`."""

    text: str
    type: str
    uri: str | None = None
    payload: str | None = None


@dataclass(frozen=True)
class Item:
    """One of `content_attributes.items`: a choice (title, value), a card (title, description, media_url,
    actions), an article (title, description, link) or a form field (its label as the title)."""

    title: str = ""
    value: str | None = None
    description: str | None = None
    media_url: str | None = None
    link: str | None = None
    actions: tuple[CardAction, ...] = ()

    @classmethod
    def from_attribute(cls, data: dict[str, Any]) -> Item:
        actions = data.get("actions")
        return cls(
            title=_text(data.get("title") or data.get("label") or data.get("placeholder") or data.get("name")) or "",
            value=_text(data.get("value")),
            description=_text(data.get("description")),
            media_url=_text(data.get("media_url")),
            link=_text(data.get("link")),
            actions=tuple(
                CardAction(text=_text(a.get("text")) or "", type=_text(a.get("type")) or "",
                           uri=_text(a.get("uri")), payload=_text(a.get("payload")))  # fmt: skip
                for a in (actions if isinstance(actions, list) else []) if isinstance(a, dict)
            ),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        return cls(**{**data, "actions": tuple(CardAction(**a) for a in data.get("actions") or [])})


def _text(value: Any) -> str | None:
    """A JSON scalar as text (Chatwoot keeps items as the bot wrote them: a value may be a number)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _items(attributes: dict[str, Any]) -> tuple[Item, ...]:
    items = attributes.get("items")
    return tuple(Item.from_attribute(i) for i in items if isinstance(i, dict)) if isinstance(items, list) else ()


@dataclass(frozen=True)
class AgentReply:
    """An outgoing message written in the helpdesk by an agent, the AI agent (bot) or an automation."""

    message_id: int
    conversation_id: int
    customer: str  # contact_inbox.source_id: the wa_id (or BSUID) we created it with
    content: str
    message_type: str
    sender_type: str | None  # "user", "agent_bot", "captain_assistant", or None (automation)
    sender_name: str | None
    attachments: tuple[Attachment, ...]
    in_reply_to: int | None
    in_reply_to_external_id: str | None
    template_params: dict[str, Any] | None
    contact_name: str | None = None
    content_type: str = "text"  # input_select, cards, article and form carry `items` (see bridge/interactive.py)
    items: tuple[Item, ...] = ()

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> AgentReply:
        """From a MESSAGE_EVENT-validated payload (see schemas.py)."""
        attributes = data.get("content_attributes") or {}
        sender = data.get("sender") or {}
        quoted = str(attributes.get("in_reply_to") or "")
        return cls(
            message_id=int(data["id"]),
            conversation_id=int(data["conversation"]["id"]),
            customer=str(data["conversation"]["contact_inbox"]["source_id"]),
            content=data.get("content") or "",
            message_type=str(data["message_type"]),
            sender_type=sender.get("type"),
            sender_name=sender.get("name"),
            attachments=tuple(
                Attachment(
                    id=int(a["id"]),
                    file_type=str(a.get("file_type") or "file"),
                    data_url=str(a["data_url"]),
                    content_type=a.get("content_type"),
                    extension=a.get("extension"),
                )
                for a in data.get("attachments") or []
            ),
            in_reply_to=int(quoted) if quoted.isdigit() else None,
            in_reply_to_external_id=attributes.get("in_reply_to_external_id"),
            template_params=(data.get("additional_attributes") or {}).get("template_params"),
            contact_name=((data["conversation"].get("meta") or {}).get("sender") or {}).get("name"),
            content_type=str(data.get("content_type") or "text"),
            items=_items(attributes) if data.get("content_type") in RICH_CONTENT_TYPES else (),
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentReply:
        attachments = tuple(Attachment(**a) for a in data.get("attachments") or [])
        items = tuple(Item.from_dict(i) for i in data.get("items") or [])
        return cls(**{**data, "attachments": attachments, "items": items})


def is_retry_request(data: dict[str, Any]) -> bool:
    """The helpdesk's Retry button on a failed outgoing message: it comes back as message_updated with its
    `external_error` cleared (chatwoot.md §2.6). Our own status updates keep or never had that error, and
    only messages we marked failed qualify (checked against the store)."""
    conversation = data.get("conversation") or {}
    attributes = data.get("content_attributes") or {}
    return (
        data.get("event") == "message_updated"
        and data.get("message_type") in SENDABLE_MESSAGE_TYPES
        and not data.get("private")
        and not data.get("source_id")
        and not attributes.get("external_error")
        and not attributes.get("deleted")  # deleting a failed message clears its error too: not a Retry
        and bool((conversation.get("contact_inbox") or {}).get("source_id"))
    )


def is_sendable(data: dict[str, Any]) -> bool:
    """Only new public outgoing messages go to WhatsApp; everything we wrote ourselves comes back with a
    source_id or as incoming, and is ignored (chatwoot.md §1.6)."""
    conversation = data.get("conversation") or {}
    return (
        data.get("event") == "message_created"
        and data.get("message_type") in SENDABLE_MESSAGE_TYPES
        and not data.get("private")
        and not data.get("source_id")
        and data.get("content_type") != "voice_call"
        and bool((conversation.get("contact_inbox") or {}).get("source_id"))
    )
