"""Connecting a number: check it on Graph, subscribe our app to its WABA, create its helpdesk inbox and channel.

Both doors use it: Embedded Signup (signup.py) once the code and the session info are joined, and the
manual path (WABA id, phone number id, system-user token). Everything is checked before anything is
created, so a refusal leaves no half-made inbox behind.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from adapter import admin_actions
from adapter.console.health import fields_to_health, read_number
from adapter.console.installation import Installation, admin_client
from adapter.console.onboarding_errors import OnboardingFailed, OnboardingProblem, failed
from adapter.errors import BadRequest, Conflict, ExternalApiError
from adapter.monitoring.number_health import save_health
from adapter.services import Services
from adapter.store.channels import Channel

logger = logging.getLogger(__name__)

NUMERIC_ID = re.compile(r"^\d{1,32}$")
WINDOW_HOURS = 24


def require_ids(waba_id: str, phone_number_id: str) -> None:
    problems = [
        f"{label} must be the numeric id WhatsApp Manager shows"
        for label, value in (("the WhatsApp Business Account id", waba_id), ("the phone number id", phone_number_id))
        if not NUMERIC_ID.match(value)
    ]
    if problems:
        raise BadRequest("; ".join(problems).capitalize())


def waba_numbers(services: Services, waba_id: str, token: str) -> list[dict[str, Any]]:
    """GET /{waba-id}/phone_numbers: the numbers of the WhatsApp Business Account, every page."""
    params = {"fields": "id,display_phone_number,verified_name,code_verification_status,status"}
    return [item for item in services.graph.get_all(f"/{waba_id}/phone_numbers", token, params)
            if isinstance(item, dict)]  # fmt: skip


def check_number(services: Services, waba_id: str, phone_number_id: str, token: str) -> dict[str, Any]:
    """The number's fields, read with `token`, after checking the number belongs to the WABA."""
    require_ids(waba_id, phone_number_id)
    if not token.strip():
        raise BadRequest("Give the system-user access token")
    try:
        number = read_number(services.graph, phone_number_id, token)
        listed = waba_numbers(services, waba_id, token)
    except ExternalApiError as exc:
        raise failed(exc, "connect") from None
    if phone_number_id not in {str(item.get("id")) for item in listed}:
        raise OnboardingFailed(
            OnboardingProblem(
                "The number is not in this WhatsApp Business Account",
                f"Phone number id {phone_number_id} is not among the numbers of account {waba_id}. Check both "
                "ids in WhatsApp Manager → Phone numbers.",
            )
        )
    return number


def agent_bots(services: Services, installation: Installation) -> list[dict[str, Any]]:
    """The helpdesk's agent bots (id, name) a number can use as its default agent."""
    bots = admin_client(services, installation).list_agent_bots(installation.account_id, installation.api_token)
    return [{"id": int(b["id"]), "name": str(b.get("name") or f"bot {b['id']}")} for b in bots if "id" in b]


def _checked_bot(services: Services, installation: Installation, agent_bot_id: int | None) -> int | None:
    if agent_bot_id is None:
        return None
    if agent_bot_id not in {b["id"] for b in agent_bots(services, installation)}:
        raise BadRequest(f"the helpdesk has no agent bot {agent_bot_id}")
    return agent_bot_id


def inbox_name(number: dict[str, Any], phone_number_id: str) -> str:
    display = str(number.get("display_phone_number") or phone_number_id)
    name = str(number.get("verified_name") or "").strip()
    return f"WhatsApp {display}" + (f" ({name})" if name else "")


def connect_number(
    services: Services,
    installation: Installation,
    *,
    waba_id: str,
    phone_number_id: str,
    token: str,
    agent_bot_id: int | None,
    number: dict[str, Any] | None = None,
) -> Channel:
    """Subscribe our app to the WABA, create the API inbox (24-hour window), attach the default agent and
    save the channel. `number` is the Graph phone-number object when the caller already read it."""
    if services.channels.get(phone_number_id) is not None:
        raise Conflict(f"the number {phone_number_id} is already connected; open it under Integrations → WhatsApp")
    number = number if number is not None else check_number(services, waba_id, phone_number_id, token)
    bot = _checked_bot(services, installation, agent_bot_id)
    try:
        services.graph.post(f"/{waba_id}/subscribed_apps", token)
    except ExternalApiError as exc:
        raise failed(exc, "subscribe") from None
    client = admin_client(services, installation)
    inbox = client.create_api_inbox(
        installation.account_id,
        installation.api_token,
        {
            "name": inbox_name(number, phone_number_id),
            "channel": {
                "type": "api",
                "webhook_url": admin_actions.helpdesk_webhook_url(services, phone_number_id),
                "additional_attributes": {"agent_reply_time_window": WINDOW_HOURS},
            },
        },
    )
    secret = str(inbox.get("secret") or "")
    if not secret:
        raise BadRequest(
            f"the helpdesk created inbox {inbox.get('id')} but returned no webhook secret (Chatwoot older than 4.13, "
            "or the token is not an administrator's); the number was not connected"
        )
    inbox_id = int(inbox["id"])
    if bot is not None:
        client.set_agent_bot(installation.account_id, installation.api_token, inbox_id, bot)
    channel = admin_actions.add_channel(
        services,
        {
            "phone_number_id": phone_number_id,
            "display_phone_number": str(number.get("display_phone_number") or ""),
            "waba_id": waba_id,
            "graph_access_token": token,
            "helpdesk_account_id": installation.account_id,
            "helpdesk_inbox_id": inbox_id,
            "helpdesk_api_token": installation.api_token,
            "helpdesk_webhook_secret": secret,
            "default_agent_bot_id": bot,
        },
    )
    health = fields_to_health(number)
    health.update(subscribed="yes", token_valid="yes", refreshed_at=services.clock.now())
    if health.get("name_status"):
        health["name_updated_at"] = services.clock.now()
    save_health(services.store, phone_number_id, health)
    logger.info("connected %s (WABA %s) to helpdesk inbox %s", phone_number_id, waba_id, inbox_id)
    return channel


def set_default_agent(
    services: Services, installation: Installation, channel: Channel, agent_bot_id: int | None
) -> Channel:
    """Attach (or detach, with None) the number's default agent in the helpdesk and remember it."""
    bot = _checked_bot(services, installation, agent_bot_id)
    admin_client(services, installation).set_agent_bot(
        channel.helpdesk_account_id, channel.helpdesk_api_token, channel.helpdesk_inbox_id, bot
    )
    return admin_actions.update_channel(services, channel.phone_number_id, {"default_agent_bot_id": bot})
