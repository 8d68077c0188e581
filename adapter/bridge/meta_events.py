"""Meta's management webhooks (templates, user preferences) applied to what we keep.

Returns the WABA whose inboxes need their template picker refreshed, if any.
"""

from __future__ import annotations

import logging
from typing import Any

from adapter.bridge.optout import OptOuts
from adapter.store.channels import ChannelRepository
from adapter.templates.repository import TemplateRepository

logger = logging.getLogger(__name__)

TEMPLATE_FIELDS = frozenset(
    {"message_template_status_update", "message_template_quality_update", "template_category_update"}
)


def apply_template_event(templates: TemplateRepository, waba_id: str, field: str, value: dict[str, Any]) -> bool:
    """Patch the stored template. True when the catalogue changed (the pickers must be refreshed)."""
    ref: dict[str, Any] = {
        "template_id": value.get("message_template_id"),
        "name": value.get("message_template_name"),
        "language": value.get("message_template_language"),
    }
    if not ref["template_id"] and not (ref["name"] and ref["language"]):
        logger.warning("WABA %s: %s without a template reference", waba_id, field)
        return False
    if field == "message_template_status_update":
        info = value.get("rejection_info") if isinstance(value.get("rejection_info"), dict) else {}
        updated = templates.apply_status(
            waba_id,
            str(value.get("event") or "UNKNOWN"),
            reason=value.get("reason"),
            recommendation=(info or {}).get("recommendation"),
            detail=(info or {}).get("reason"),
            **ref,
        )
    elif field == "message_template_quality_update":
        updated = templates.apply_quality(waba_id, str(value.get("new_quality_score") or "UNKNOWN"), **ref)
    else:
        updated = templates.apply_category(
            waba_id, str(value.get("new_category") or ""), correct_category=value.get("correct_category"), **ref
        )
    if updated is None:
        logger.info("WABA %s: %s for a template we have not synced yet", waba_id, field)
    return True


def apply_user_preferences(
    optouts: OptOuts, channels: ChannelRepository, waba_id: str, value: dict[str, Any]
) -> int:
    """Marketing stop / resume per customer, on the number named in the metadata (else all of the WABA's)."""
    metadata = value.get("metadata")
    named = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    numbers = [str(named)] if named else [c.phone_number_id for c in channels.of_waba(waba_id)]
    changed = 0
    for preference in value.get("user_preferences") or []:
        if not isinstance(preference, dict) or preference.get("category") != "marketing_messages":
            continue
        customer = preference.get("wa_id") or preference.get("user_id")
        if not customer or preference.get("value") not in ("stop", "resume", "signup"):
            continue
        for phone_number_id in numbers:
            optouts.set(phone_number_id, str(customer), preference["value"] == "stop")
            changed += 1
    return changed
