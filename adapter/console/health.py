"""A number's health refreshed from Graph on an admin's request (the console's number page)."""

from __future__ import annotations

import json
import logging
from typing import Any

from adapter.console.onboarding_errors import explain
from adapter.errors import ExternalApiError, GraphApiError
from adapter.meta.client import GraphClient
from adapter.monitoring.number_health import NumberHealth, read_health, save_health
from adapter.services import Services
from adapter.store.channels import Channel

logger = logging.getLogger(__name__)

NUMBER_FIELDS = (
    "display_phone_number,verified_name,code_verification_status,quality_rating,name_status,new_name_status,"
    "status,platform_type,throughput,messaging_limit_tier,whatsapp_business_manager_messaging_limit"
)
BASIC_FIELDS = "display_phone_number,verified_name,code_verification_status,quality_rating,name_status,status"


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
    save_health(services.store, pnid, changes)
    return read_health(services.store, pnid)


