"""Meta's events as frozen dataclasses, built from raw webhook items at the edge.

Values Meta adds later (a new message type, a new status) map to UNKNOWN instead of failing,
so no payload is ever refused for being newer than this code.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from adapter.errors import PermanentJobError
from adapter.meta import schemas

logger = logging.getLogger(__name__)

class MessageType(enum.Enum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    BUTTON = "button"
    INTERACTIVE = "interactive"
    ORDER = "order"
    REACTION = "reaction"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str) -> MessageType:
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


MEDIA_TYPES = frozenset(
    {MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO, MessageType.DOCUMENT, MessageType.STICKER}
)


class StatusKind(enum.Enum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str) -> StatusKind:
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class MetaError:
    code: int
    title: str
    details: str = ""

    @classmethod
    def from_error(cls, error: schemas.Error) -> MetaError:
        details = error.error_data.get("details") or error.message
        return cls(code=error.code, title=error.title, details=str(details))


@dataclass(frozen=True)
class Customer:
    """The person writing: `wa_id` (phone digits) or, for username users, only a BSUID `user_id`."""

    wa_id: str | None
    user_id: str | None
    name: str | None

    @property
    def key(self) -> str:
        """Stable id of the customer on a number: the helpdesk contact_inbox source_id."""
        return self.wa_id or self.user_id or "unknown"


@dataclass(frozen=True)
class Media:
    id: str
    mime_type: str
    caption: str | None = None
    filename: str | None = None
    voice: bool = False


@dataclass(frozen=True)
class InboundMessage:
    phone_number_id: str
    display_phone_number: str
    wamid: str
    customer: Customer
    timestamp: int
    type: MessageType
    raw_type: str
    content: dict[str, Any]  # the type's own object, e.g. {"body": "..."} for text
    reply_to: str | None = None  # wamid of the quoted message
    forwarded: bool = False
    referral: dict[str, Any] | None = None
    errors: tuple[MetaError, ...] = ()

    @property
    def media(self) -> Media | None:
        if self.type not in MEDIA_TYPES or not self.content.get("id"):
            return None
        return Media(
            id=str(self.content["id"]),
            mime_type=str(self.content.get("mime_type") or "application/octet-stream"),
            caption=self.content.get("caption"),
            filename=self.content.get("filename"),
            voice=bool(self.content.get("voice")),
        )

    @classmethod
    def from_item(
        cls, item: dict[str, Any], *, phone_number_id: str, display_phone_number: str, contacts: list[dict[str, Any]]
    ) -> InboundMessage:
        try:
            data = schemas.check(item, schemas.InboundMessage)
        except schemas.InvalidPayload as exc:
            raise PermanentJobError(f"malformed message item: {exc}") from exc
        sender_wa_id = item.get("from")
        sender_user_id = item.get("from_user_id")
        profile = _matching_contact(contacts, sender_wa_id, sender_user_id)
        customer = Customer(
            wa_id=sender_wa_id or profile.get("wa_id"),
            user_id=sender_user_id or profile.get("user_id"),
            name=(profile.get("profile") or {}).get("name"),
        )
        raw_type = data.type
        context = data.context or {}
        content = item.get(raw_type)
        return cls(
            phone_number_id=phone_number_id,
            display_phone_number=display_phone_number,
            wamid=data.id,
            customer=customer,
            timestamp=int(data.timestamp),
            type=MessageType.parse(raw_type),
            raw_type=raw_type,
            content=content if isinstance(content, dict) else {"items": content} if content is not None else {},
            reply_to=context.get("id"),
            forwarded=bool(context.get("forwarded") or context.get("frequently_forwarded")),
            referral=data.referral,
            errors=tuple(MetaError.from_error(e) for e in data.errors),
        )


def _matching_contact(contacts: list[dict[str, Any]], wa_id: str | None, user_id: str | None) -> dict[str, Any]:
    for contact in contacts:
        if (wa_id and contact.get("wa_id") == wa_id) or (user_id and contact.get("user_id") == user_id):
            return contact
    return contacts[0] if len(contacts) == 1 else {}


_NOT_A_NAME = re.compile(r"[^a-z0-9_]+")
FREE_TYPES = ("free_customer_service", "free_entry_point")


def pricing_name(value: str) -> str:
    """A category or type as a name safe for a Redis field and a custom attribute: lower case, `_` for anything
    else ("authentication-international" reads as the webhook's "authentication_international"), at most 40."""
    name = _NOT_A_NAME.sub("_", value.strip().lower()).strip("_")[:40]
    return name or "unknown"


@dataclass(frozen=True)
class MessagePricing:
    """What Meta charges for one message: its `category` (marketing, utility, authentication, service, … and
    whatever Meta adds later) and its `type` (regular = billable, free_customer_service, free_entry_point)."""

    category: str
    type: str
    billable: bool
    pricing_model: str = ""

    @classmethod
    def from_raw(cls, raw: Any, *, wamid: str) -> MessagePricing | None:
        """The status's pricing, or None when it has none or a malformed one (logged; the status stands)."""
        if raw is None:
            return None
        try:
            data = schemas.check(raw, schemas.Pricing)
        except schemas.InvalidPayload as exc:
            logger.warning("wamid %s: pricing ignored, it is malformed: %s", wamid, exc)
            return None
        kind = pricing_name(data.type) if data.type else ""
        # `billable` is on its way out of the webhook: `type` says it ("regular" is the one that is charged).
        billable = data.billable if data.billable is not None else kind == "regular"
        if not kind:
            kind = "regular" if billable else "unknown"
        return cls(category=pricing_name(data.category), type=kind, billable=billable,
                   pricing_model=data.pricing_model[:10])  # fmt: skip


@dataclass(frozen=True)
class MessageStatus:
    phone_number_id: str
    wamid: str
    status: StatusKind
    raw_status: str
    timestamp: int
    recipient: str
    callback_data: str | None = None
    errors: tuple[MetaError, ...] = field(default=())
    pricing: MessagePricing | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any], *, phone_number_id: str) -> MessageStatus:
        try:
            data = schemas.check(item, schemas.Status)
        except schemas.InvalidPayload as exc:
            raise PermanentJobError(f"malformed status item: {exc}") from exc
        return cls(
            phone_number_id=phone_number_id,
            wamid=data.id,
            status=StatusKind.parse(data.status),
            raw_status=data.status,
            timestamp=int(data.timestamp) if data.timestamp.isdigit() else 0,
            recipient=data.recipient_id or data.recipient_user_id or "unknown",
            callback_data=data.biz_opaque_callback_data,
            errors=tuple(MetaError.from_error(e) for e in data.errors),
            pricing=MessagePricing.from_raw(data.pricing, wamid=data.id),
        )
