"""Keep the helpdesk inbox in step with WhatsApp: its reply window (so the composer locks free text and
offers its template picker outside the window) and the approved templates the picker offers.

The helpdesk replaces the channel's whole `additional_attributes` on update, so all three keys always
travel together (chatwoot.md §3).
"""

from __future__ import annotations

import logging

from adapter.bridge.context import BridgeContext
from adapter.store.channels import Channel
from adapter.templates.repository import TemplateRepository

logger = logging.getLogger(__name__)

WINDOW_HOURS = 24
WINDOW_MESSAGE = (
    "WhatsApp only allows free text within 24 hours of the customer's last message. "
    "Send an approved template from the template picker."
)


def push_inbox_settings(ctx: BridgeContext, templates: TemplateRepository, channel: Channel) -> int:
    """PATCH the inbox's window and approved templates. Returns how many templates the picker offers.

    Templates with a variable in their text header are left out: the picker cannot fill it. The console's
    WhatsApp panel (the Dashboard App) sends them, and the templates page says so."""
    approved = [t.to_helpdesk() for t in templates.list(channel.waba_id) if t.is_sendable and t.picker_can_fill]
    ctx.helpdesk.update_inbox(
        channel.helpdesk_account_id,
        channel.helpdesk_api_token,
        channel.helpdesk_inbox_id,
        {
            "channel": {
                "additional_attributes": {
                    "agent_reply_time_window": WINDOW_HOURS,
                    "agent_reply_time_window_message": WINDOW_MESSAGE,
                    "message_templates": approved,
                }
            }
        },
    )
    logger.info("inbox %s: window and %d approved templates pushed", channel.helpdesk_inbox_id, len(approved))
    return len(approved)
