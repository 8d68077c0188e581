"""The shapes of Meta's webhook payloads, as msgspec Structs: the envelope and the items inside it.

The web layer checks the envelope and each `messages` change (a bad item must never make Meta retry a
whole batch); each item is checked again by the worker and turned into an event (events.py). msgspec,
not marshmallow: the Meta webhook is the hot path, and marshmallow's per-field machinery was the largest part
of the handler's own work on a large batch. Fields not named here are ignored by the check and kept in the
payload, which travels on as Meta sent it.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import msgspec


class InvalidPayload(ValueError):
    """The payload does not have the documented shape; the message says where and why."""


class Change(msgspec.Struct):
    field: str
    value: dict[str, Any]


class Entry(msgspec.Struct):
    id: str
    changes: list[Change]


class Envelope(msgspec.Struct):
    object: Literal["whatsapp_business_account"]
    entry: list[Entry]


class Metadata(msgspec.Struct):
    phone_number_id: str
    display_phone_number: str = ""


class MessagesValue(msgspec.Struct):
    """The `value` of a `messages` change: inbound messages, statuses or value-level errors."""

    metadata: Metadata
    contacts: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []


class Error(msgspec.Struct):
    code: int = 0
    title: str = ""
    message: str = ""
    error_data: dict[str, Any] = {}


class InboundMessage(msgspec.Struct):
    id: str
    timestamp: str
    type: str
    sender: str | None = msgspec.field(default=None, name="from")
    from_user_id: str | None = None
    context: dict[str, Any] | None = None
    referral: dict[str, Any] | None = None
    errors: list[Error] = []

    def __post_init__(self) -> None:
        if not (self.sender or self.from_user_id):
            raise ValueError("a message needs `from` or `from_user_id`")
        if not self.timestamp.isdigit():
            raise ValueError("timestamp must be unix seconds")


class Status(msgspec.Struct):
    id: str
    status: str
    timestamp: str
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    errors: list[Error] = []
    # Checked on its own (Pricing): a malformed pricing object must never cost the status it came with.
    pricing: Any = None


class Pricing(msgspec.Struct):
    """A status's `pricing` (whatsapp.md §2.4). Strings Meta adds later are kept as they come; `billable` is
    slated for removal, so it may be absent."""

    category: str = ""
    type: str = ""
    pricing_model: str = ""
    billable: bool | None = None


T = TypeVar("T")


def check(data: Any, shape: type[T]) -> T:
    """`data` (decoded JSON) as `shape`, or InvalidPayload saying what is wrong and where ("at `$.entry[0]`").

    Not strict: numbers Meta sometimes sends as strings ("code": "131000") are read as numbers, as Meta's
    own SDKs read them.
    """
    try:
        return msgspec.convert(data, shape, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidPayload(str(exc)) from None
