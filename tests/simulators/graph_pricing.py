"""What Meta charges for a message, as the Graph simulator prices the statuses it sends.

Written from Meta's pricing documentation (research whatsapp.md §2.4 and §8, per-message pricing since
2025-07-01), not from the adapter's code:

- a message sent while the customer service window is open (the customer wrote in the last 24 hours) that is
  not a template, or is a utility template, is free: type `free_customer_service`, category `service` (or
  `utility`);
- a customer who came from a Click-to-WhatsApp ad or a Page's call to action (the message carried a `referral`)
  and is answered within 24 hours opens a free entry point window of 72 hours from that answer: everything sent
  in it is free, type `free_entry_point`, and its statuses carry `conversation.origin.type`
  `referral_conversion` (v24+ omits `conversation` otherwise);
- every other template is charged: type `regular`, category the template's (marketing, utility,
  authentication).

Pricing rides on `sent` and on one later status (`delivered`, or `read` when `delivered` was skipped), never on
`failed`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

WINDOW_SECONDS = 24 * 3600
FREE_ENTRY_POINT_SECONDS = 72 * 3600


@dataclass
class _Chat:
    last_inbound: float | None = None
    referral_at: float | None = None  # the customer's latest message from an ad or a Page's call to action
    entry_point_until: float | None = None
    entry_point_id: str = ""


@dataclass
class Priced:
    """One sent message's price, decided when it was sent, and which statuses carried it yet."""

    pricing: dict[str, Any]
    conversation: dict[str, Any] | None = None
    expires_at: int | None = None
    carried: set[str] = field(default_factory=set)


class PricingModel:
    def __init__(self) -> None:
        self._chats: dict[tuple[str, str], _Chat] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._chats.clear()

    def observe_webhook(self, payload: dict[str, Any]) -> None:
        """Note the customers' messages of a webhook the simulator posts: they open windows."""
        for entry in payload.get("entry") or []:
            for change in entry.get("changes") or []:
                value = change.get("value") or {}
                pnid = str((value.get("metadata") or {}).get("phone_number_id") or "")
                for message in value.get("messages") or []:
                    if not str(message.get("timestamp", "")).isdigit() or not message.get("from"):
                        continue
                    at = float(message["timestamp"])
                    with self._lock:
                        chat = self._chats.setdefault((pnid, str(message["from"])), _Chat())
                        chat.last_inbound = max(chat.last_inbound or 0.0, at)
                        if message.get("referral"):
                            chat.referral_at = at

    def price(self, pnid: str, wa_id: str, template_category: str | None, now: float) -> Priced:
        """The price of a message sent to `wa_id` at `now`: a template with its category, or not a template."""
        category = (template_category or "service").lower()
        with self._lock:
            chat = self._chats.setdefault((pnid, wa_id), _Chat())
            if chat.referral_at is not None and now - chat.referral_at <= WINDOW_SECONDS and (
                chat.entry_point_until is None or now >= chat.entry_point_until
            ):
                chat.entry_point_until = now + FREE_ENTRY_POINT_SECONDS
                chat.entry_point_id = secrets.token_hex(16)
                chat.referral_at = None
            if chat.entry_point_until is not None and now < chat.entry_point_until:
                conversation = {"id": chat.entry_point_id, "origin": {"type": "referral_conversion"}}
                return Priced(_pricing(category, "free_entry_point"), conversation, int(chat.entry_point_until))
            window_open = chat.last_inbound is not None and now - chat.last_inbound < WINDOW_SECONDS
        if window_open and category in ("service", "utility"):
            return Priced(_pricing(category, "free_customer_service"))
        return Priced(_pricing(category, "regular"))

    @staticmethod
    def carry(priced: Priced, status: str) -> dict[str, Any]:
        """The `pricing` and `conversation` fields a status of the message carries: `sent`, `delivered`, and `read`
        when no `delivered` came before it; the same again when a status is posted twice (a redelivery)."""
        if status not in ("sent", "delivered", "read") or (status == "read" and "delivered" in priced.carried):
            return {}
        priced.carried.add(status)
        fields: dict[str, Any] = {"pricing": dict(priced.pricing)}
        if priced.conversation is not None:
            conversation = dict(priced.conversation)
            if status == "sent" and priced.expires_at is not None:
                conversation["expiration_timestamp"] = str(priced.expires_at)
            fields["conversation"] = conversation
        return fields


def _pricing(category: str, kind: str) -> dict[str, Any]:
    return {"billable": kind == "regular", "pricing_model": "PMP", "type": kind, "category": category}
