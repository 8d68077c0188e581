"""Each number's health: what Graph says (refreshed on demand) and what Meta's account webhooks announce.

One Redis hash per number (keys.number_health) and one per WABA (keys.waba_health). Besides the console,
the outbound path reads `name_approved`: until Meta approves the display name, business-initiated
messages are not delivered ("Messages sent but not received" in the product guide).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, fields
from typing import Any

from adapter.console.onboarding_errors import explain
from adapter.errors import ExternalApiError, GraphApiError
from adapter.meta.client import GraphClient
from adapter.services import Services
from adapter.store import keys
from adapter.store.channels import Channel

logger = logging.getLogger(__name__)

NUMBER_FIELDS = (
    "display_phone_number,verified_name,code_verification_status,quality_rating,name_status,new_name_status,"
    "status,platform_type,throughput,messaging_limit_tier,whatsapp_business_manager_messaging_limit"
)
BASIC_FIELDS = "display_phone_number,verified_name,code_verification_status,quality_rating,name_status,status"
APPROVED_NAMES = frozenset({"APPROVED", "AVAILABLE_WITHOUT_REVIEW"})
KNOWN_NAME_STATUSES = APPROVED_NAMES | {"PENDING_REVIEW", "DECLINED", "EXPIRED", "NONE", "NON_EXISTS", "DEFERRED"}
# phone_number_name_update `decision` -> the name_status Graph would show.
DECISIONS = {"APPROVED": "APPROVED", "REJECTED": "DECLINED", "PENDING": "PENDING_REVIEW", "DEFERRED": "DEFERRED"}
UNSUBSCRIBING_EVENTS = frozenset({"PARTNER_APP_UNINSTALLED", "PARTNER_REMOVED", "ACCOUNT_DELETED"})
NAME_GATE = (
    "Messages sent but not received: Meta has not approved the display name {name} of {number} yet "
    "(status {status}). Customers can still write to you, but WhatsApp holds business messages until the "
    "name is approved; check the number in the console."
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


def read_health(services: Services, phone_number_id: str) -> NumberHealth:
    return NumberHealth.from_hash(phone_number_id, services.store.hgetall(keys.number_health(phone_number_id)))


def save_health(services: Services, phone_number_id: str, changes: dict[str, Any]) -> None:
    values = {k: "" if v is None else (repr(v) if isinstance(v, float) else str(v)) for k, v in changes.items()}
    if values:
        services.store.hset(keys.number_health(phone_number_id), mapping=values)


def forget_health(services: Services, phone_number_id: str) -> None:
    services.store.delete(keys.number_health(phone_number_id))


def read_number(graph: GraphClient, phone_number_id: str, token: str) -> dict[str, Any]:
    """GET /{phone-number-id}?fields=… (Business phone numbers). Falls back to the basic fields when this
    Graph version no longer knows one of the newer or deprecated ones."""
    try:
        return graph.get(f"/{phone_number_id}", token, {"fields": NUMBER_FIELDS})
    except GraphApiError as exc:
        if exc.code != 100 or "field" not in f"{exc.title} {exc.details}".lower():
            raise
        return graph.get(f"/{phone_number_id}", token, {"fields": BASIC_FIELDS})


def fields_to_health(data: dict[str, Any]) -> dict[str, Any]:
    """A Graph phone-number object -> the health fields it sets."""
    limit = data.get("whatsapp_business_manager_messaging_limit") or data.get("messaging_limit_tier") or ""
    if isinstance(limit, dict):
        limit = limit.get("tier") or limit.get("current_limit") or json.dumps(limit, sort_keys=True)
    throughput = data.get("throughput") or ""
    if isinstance(throughput, dict):
        throughput = throughput.get("level") or ""
    changes: dict[str, Any] = {
        "display_phone_number": data.get("display_phone_number") or "",
        "verified_name": data.get("verified_name") or "",
        "code_verification_status": data.get("code_verification_status") or "",
        "status": data.get("status") or "",
        "platform_type": data.get("platform_type") or "",
        "quality_rating": data.get("quality_rating") or "",
        "messaging_limit": limit,
        "throughput": throughput,
        "new_name_status": data.get("new_name_status") or "",
    }
    if data.get("name_status"):
        changes.update(name_status=str(data["name_status"]).upper(), name_source="graph")
    return changes


def is_subscribed(services: Services, waba_id: str, token: str) -> bool:
    """GET /{waba-id}/subscribed_apps: our app (META_APP_ID) among them; any app when no id is configured."""
    apps = services.graph.get(f"/{waba_id}/subscribed_apps", token).get("data") or []
    ids = [str((a.get("whatsapp_business_api_data") or {}).get("id", "")) for a in apps if isinstance(a, dict)]
    app_id = services.settings.meta_app_id
    return app_id in ids if app_id else bool(apps)


def refresh(services: Services, channel: Channel) -> NumberHealth:
    """Read the number and the WABA subscription from Graph with the channel's token; record what came back."""
    pnid, token = channel.phone_number_id, channel.graph_access_token
    changes: dict[str, Any] = {"refreshed_at": services.clock.now(), "refresh_error": ""}
    try:
        data = read_number(services.graph, pnid, token)
        changes.update(fields_to_health(data), token_valid="yes")
        if data.get("name_status"):
            changes["name_updated_at"] = services.clock.now()
        changes["subscribed"] = "yes" if is_subscribed(services, channel.waba_id, token) else "no"
    except ExternalApiError as exc:
        if isinstance(exc, GraphApiError) and (exc.code in (0, 190) or exc.http_status == 401):
            changes["token_valid"] = "no"
        changes["refresh_error"] = explain(exc).text
        logger.warning("health refresh of %s failed: %s", pnid, exc.message)
    save_health(services, pnid, changes)
    return read_health(services, pnid)


def _numbers_of_waba(services: Services, waba_id: str) -> list[Channel]:
    return services.channels.of_waba(waba_id)


def _matching(services: Services, waba_id: str, display_phone_number: str) -> list[Channel]:
    wanted = digits(display_phone_number)
    found = []
    for channel in _numbers_of_waba(services, waba_id):
        known = digits(channel.display_phone_number) or digits(read_health(services, channel.phone_number_id)
                                                                .display_phone_number)  # fmt: skip
        if wanted and known == wanted:
            found.append(channel)
    return found


def apply_account_event(services: Services, waba_id: str, field: str, value: dict[str, Any]) -> bool:
    """Record a phone_number_name_update, phone_number_quality_update or account_update webhook.

    True when something was recorded; False for other fields or numbers no channel has.
    """
    now = services.clock.now()
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
        targets = _matching(services, waba_id, str(value.get("display_phone_number") or ""))
    elif field == "phone_number_quality_update":
        limit = value.get("max_daily_conversations_per_business") or value.get("current_limit") or ""
        changes = {"quality_event": str(value.get("event") or ""), "messaging_limit": str(limit)}
        targets = _matching(services, waba_id, str(value.get("display_phone_number") or ""))
    elif field == "account_update":
        event = str(value.get("event") or "")
        detail = {k: v for k, v in value.items() if k != "event"}
        services.store.hset(
            keys.waba_health(waba_id),
            mapping={"event": event, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True), "at": repr(now)},
        )
        for channel in _numbers_of_waba(services, waba_id):
            if event in UNSUBSCRIBING_EVENTS:
                save_health(services, channel.phone_number_id, {"subscribed": "no"})
        logger.info("account_update %s recorded for WABA %s", event, waba_id)
        return True
    else:
        return False
    for channel in targets:
        save_health(services, channel.phone_number_id, changes)
        logger.info("%s recorded for %s", field, channel.phone_number_id)
    return bool(targets)


def waba_event(services: Services, waba_id: str) -> dict[str, str]:
    """The last account_update of the WABA: event, detail (JSON text), at."""
    return dict(services.store.hgetall(keys.waba_health(waba_id)))


def name_approved(services: Services, phone_number_id: str) -> bool | None:
    """Whether Meta approved the number's display name; None when the console does not know yet."""
    return read_health(services, phone_number_id).name_approved


def name_gate_reason(services: Services, phone_number_id: str) -> str | None:
    """The explanation for holding or failing a business message while the name is not approved; None if sendable
    (approved, or unknown: the console never blocks on a guess)."""
    health = read_health(services, phone_number_id)
    if health.name_approved is not False:
        return None
    name = health.requested_name or health.verified_name or "(none)"
    number = health.display_phone_number or phone_number_id
    return NAME_GATE.format(name=f"“{name}”", number=number, status=health.name_status)
