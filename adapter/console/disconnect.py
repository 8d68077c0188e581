"""Disconnecting a number: unsubscribe our app from its WABA, forget its tokens, keep the helpdesk inbox.

The number stays registered with Meta; `deregister_steps` tells the admin how to free it to move it
elsewhere. The inbox is left in place so the conversations stay readable in the helpdesk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adapter import admin_actions
from adapter.console.onboarding_errors import explain
from adapter.errors import ExternalApiError
from adapter.monitoring.number_health import forget_health
from adapter.services import Services

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Disconnected:
    phone_number_id: str
    display_phone_number: str
    waba_id: str
    inbox_id: int
    unsubscribed: bool  # our app left the WABA (False when another connected number still uses it)
    note: str  # why the WABA stayed subscribed, or what went wrong unsubscribing


def deregister_steps(phone_number_id: str) -> str:
    return (
        "To use it with another provider or in the WhatsApp app, deregister it first: in WhatsApp Manager → "
        f"Phone numbers, or with POST /{phone_number_id}/deregister on the Graph API using a token of the "
        "business. A number can be registered or deregistered 10 times in 72 hours."
    )


def disconnect(services: Services, phone_number_id: str) -> Disconnected:
    channel = admin_actions.require_channel(services, phone_number_id)
    others = [
        c for c in services.channels.of_waba(channel.waba_id) if c.phone_number_id != phone_number_id
    ]
    unsubscribed, note = False, ""
    if others:
        shown = ", ".join(c.display_phone_number or c.phone_number_id for c in others)
        note = f"Our app stays subscribed to the WhatsApp Business Account because {shown} still uses it."
    else:
        try:
            services.graph.delete(f"/{channel.waba_id}/subscribed_apps", channel.graph_access_token)
            unsubscribed = True
        except ExternalApiError as exc:
            note = ("Meta did not confirm that our app left the WhatsApp Business Account: "
                    f"{explain(exc).text} Remove it in Business settings → Apps if needed.")  # fmt: skip
    admin_actions.remove_channel(services, phone_number_id)
    forget_health(services.store, phone_number_id)
    logger.info("disconnected %s (WABA %s, unsubscribed=%s)", phone_number_id, channel.waba_id, unsubscribed)
    return Disconnected(
        phone_number_id, channel.display_phone_number, channel.waba_id, channel.helpdesk_inbox_id, unsubscribed, note
    )
