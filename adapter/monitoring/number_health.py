"""Each number's health: what Graph said when last asked and what Meta's account webhooks announce.

One Redis hash per number (keys.number_health) and one per WABA (keys.waba_health). Workers record the
account webhooks here; the console shows it and refreshes it from Graph (console/health.py).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, fields
from typing import Any

from adapter.store import keys
from adapter.store.channels import Channel, ChannelRepository
from adapter.store.connection import Store
from adapter.store.replies import hash_fields, text_hash

logger = logging.getLogger(__name__)

APPROVED_NAMES = frozenset({"APPROVED", "AVAILABLE_WITHOUT_REVIEW"})
KNOWN_NAME_STATUSES = APPROVED_NAMES | {"PENDING_REVIEW", "DECLINED", "EXPIRED", "NONE", "NON_EXISTS", "DEFERRED"}
# phone_number_name_update `decision` -> the name_status Graph would show.
DECISIONS = {"APPROVED": "APPROVED", "REJECTED": "DECLINED", "PENDING": "PENDING_REVIEW", "DEFERRED": "DEFERRED"}
UNSUBSCRIBING_EVENTS = frozenset({"PARTNER_APP_UNINSTALLED", "PARTNER_REMOVED", "ACCOUNT_DELETED"})
# Meta's review of the display name gates branding, not delivery: replies are sent whatever its status.
NAME_WARNING = (
    "Display name not approved: Meta has not approved the display name {name} of {number} (status {status}). "
    "Messages are still delivered, but customers see the phone number instead of the name until it is approved."
)


@dataclass(frozen=True)
class NumberHealth:
    phone_number_id: str
    display_phone_number: str = ""
    verified_name: str = ""
    name_status: str = ""
    new_name_status: str = ""
    requested_name: str = ""
    name_rejection_reason: str = ""
    name_source: str = ""  # "graph" or "webhook": who said it last
    name_updated_at: float = 0.0
    code_verification_status: str = ""
    status: str = ""
    platform_type: str = ""
    quality_rating: str = ""
    messaging_limit: str = ""
    throughput: str = ""
    quality_event: str = ""
    token_valid: str = ""  # "yes", "no" or "" (not checked yet)
    subscribed: str = ""  # "yes", "no" or ""
    refreshed_at: float = 0.0
    refresh_error: str = ""

    @classmethod
    def from_hash(cls, phone_number_id: str, data: dict[str, str]) -> NumberHealth:
        values: dict[str, Any] = {"phone_number_id": phone_number_id}
        for item in fields(cls):
            if item.name in data and item.name != "phone_number_id":
                values[item.name] = float(data[item.name] or 0) if item.type == "float" else data[item.name]
        return cls(**values)

    @property
    def name_approved(self) -> bool | None:
        status = self.name_status.upper()
        if status in APPROVED_NAMES:
            return True
        return False if status in KNOWN_NAME_STATUSES else None

    @property
    def registered(self) -> bool | None:
        return None if not self.status else self.status.upper() == "CONNECTED"


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def read_health(store: Store, phone_number_id: str) -> NumberHealth:
    return NumberHealth.from_hash(phone_number_id, text_hash(store.hgetall(keys.number_health(phone_number_id))))


def save_health(store: Store, phone_number_id: str, changes: dict[str, Any]) -> None:
    values = {k: "" if v is None else (repr(v) if isinstance(v, float) else str(v)) for k, v in changes.items()}
    if values:
        store.hset(keys.number_health(phone_number_id), mapping=hash_fields(values))


def forget_health(store: Store, phone_number_id: str) -> None:
    store.delete(keys.number_health(phone_number_id))


def _matching(store: Store, channels: ChannelRepository, waba_id: str, display_phone_number: str) -> list[Channel]:
    wanted = digits(display_phone_number)
    found = []
    for channel in channels.of_waba(waba_id):
        known = digits(channel.display_phone_number) or digits(read_health(store, channel.phone_number_id)
                                                                .display_phone_number)  # fmt: skip
        if wanted and known == wanted:
            found.append(channel)
    return found


def apply_account_event(
    store: Store, channels: ChannelRepository, now: float, waba_id: str, field: str, value: dict[str, Any]
) -> bool:
    """Record a phone_number_name_update, phone_number_quality_update or account_update webhook.

    True when something was recorded; False for other fields or numbers no channel has.
    """
    if field == "phone_number_name_update":
        decision = str(value.get("decision") or "").upper()
        changes = {
            "name_status": DECISIONS.get(decision, decision),
            "requested_name": value.get("requested_verified_name") or "",
            "name_rejection_reason": value.get("rejection_reason") or "",
            "name_source": "webhook",
            "name_updated_at": now,
        }
        if decision == "APPROVED" and value.get("requested_verified_name"):
            changes["verified_name"] = value["requested_verified_name"]
        targets = _matching(store, channels, waba_id, str(value.get("display_phone_number") or ""))
    elif field == "phone_number_quality_update":
        limit = value.get("max_daily_conversations_per_business") or value.get("current_limit") or ""
        changes = {"quality_event": str(value.get("event") or ""), "messaging_limit": str(limit)}
        targets = _matching(store, channels, waba_id, str(value.get("display_phone_number") or ""))
    elif field == "account_update":
        event = str(value.get("event") or "")
        detail = {k: v for k, v in value.items() if k != "event"}
        store.hset(
            keys.waba_health(waba_id),
            mapping={"event": event, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True), "at": repr(now)},
        )
        for channel in channels.of_waba(waba_id):
            if event in UNSUBSCRIBING_EVENTS:
                save_health(store, channel.phone_number_id, {"subscribed": "no"})
        logger.info("account_update %s recorded for WABA %s", event, waba_id)
        return True
    else:
        return False
    for channel in targets:
        save_health(store, channel.phone_number_id, changes)
        logger.info("%s recorded for %s", field, channel.phone_number_id)
    return bool(targets)


def waba_event(store: Store, waba_id: str) -> dict[str, str]:
    """The last account_update of the WABA: event, detail (JSON text), at."""
    return dict(text_hash(store.hgetall(keys.waba_health(waba_id))))


def name_approved(store: Store, phone_number_id: str) -> bool | None:
    """Whether Meta approved the number's display name; None when the console does not know yet."""
    return read_health(store, phone_number_id).name_approved


def name_warning(store: Store, phone_number_id: str) -> str | None:
    """What the console warns while the display name is not approved; None when approved or not known yet."""
    health = read_health(store, phone_number_id)
    if health.name_approved is not False:
        return None
    name = health.requested_name or health.verified_name or "(none)"
    number = health.display_phone_number or phone_number_id
    return NAME_WARNING.format(name=f"“{name}”", number=number, status=health.name_status)
