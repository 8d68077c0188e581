"""The Dashboard App's logic: the open conversation's 24-hour window, the templates an agent can send, and what
its latest outgoing messages cost.

Nothing privileged comes from the helpdesk's postMessage context: only the conversation id is taken
from it, and the conversation, its inbox and its customer are read back from the helpdesk API; a
conversation outside the inboxes this adapter connected is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from adapter.console.installation import Installation, admin_client
from adapter.errors import BadRequest, Forbidden, HelpdeskApiError, NotFound
from adapter.services import Services
from adapter.store.channels import Channel
from adapter.templates.errors import TemplateError
from adapter.templates.model import HEADER_MEDIA_FORMATS, Template
from adapter.templates.repository import TemplateRepository
from adapter.templates.sending import build_template_message, render_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenConversation:
    conversation_id: int
    channel: Channel
    customer: str  # the contact's source_id in the inbox: the WhatsApp id
    contact_name: str


def resolve(services: Services, installation: Installation, conversation_id: Any) -> OpenConversation:
    """The conversation as the helpdesk API describes it, if it belongs to a connected WhatsApp inbox."""
    try:
        display_id = int(conversation_id)
    except (TypeError, ValueError):
        raise BadRequest("conversation_id must be a number") from None
    client = admin_client(services, installation)
    account, token = installation.account_id, installation.api_token
    try:
        conversation = client.get_conversation(account, token, display_id)
    except HelpdeskApiError as exc:
        if exc.http_status == 404:
            raise NotFound(f"the helpdesk has no conversation {display_id}") from None
        raise
    inbox_id = int(conversation.get("inbox_id") or 0)
    channel = next(
        (c for c in services.channels.all() if c.helpdesk_account_id == account and c.helpdesk_inbox_id == inbox_id),
        None,
    )
    if channel is None:
        raise Forbidden("this conversation is not in a WhatsApp inbox connected to this adapter")
    sender = (conversation.get("meta") or {}).get("sender") or {}
    contact = client.get_contact(account, token, int(sender.get("id") or 0)) if sender.get("id") else {}
    links = [ci for ci in contact.get("contact_inboxes") or [] if isinstance(ci, dict)]
    in_inbox = [ci for ci in links if int((ci.get("inbox") or {}).get("id") or 0) == inbox_id]
    customer = str(in_inbox[0].get("source_id") or "") if in_inbox else ""
    if not customer:
        raise NotFound("the conversation's contact has no WhatsApp id in this inbox")
    return OpenConversation(display_id, channel, customer, str(contact.get("name") or sender.get("name") or ""))


def window(services: Services, conversation: OpenConversation) -> dict[str, Any]:
    """When the customer last wrote and when the 24-hour window closes (Unix times; None = never wrote)."""
    pnid, customer = conversation.channel.phone_number_id, conversation.customer
    closes_at = services.window.closes_at(pnid, customer)
    now = services.clock.now()
    return {
        "last_inbound": services.window.last_inbound(pnid, customer),
        "closes_at": closes_at,
        "now": now,
        "open": closes_at is not None and now < closes_at,
    }


OUTGOING = (1, "outgoing")  # the helpdesk's REST message_type of an agent's, bot's or automation's message


def message_costs(
    services: Services, installation: Installation, conversation: OpenConversation
) -> list[dict[str, Any]]:
    """The conversation's outgoing messages of the helpdesk's latest page, oldest first, each with what Meta said its
    WhatsApp parts cost (empty until a status with pricing came; a message never sent has no parts)."""
    client = admin_client(services, installation)
    page = client.list_messages(installation.account_id, installation.api_token, conversation.conversation_id)
    outgoing = [m for m in page if m.get("message_type") in OUTGOING and not m.get("private") and m.get("id")]
    pnid = conversation.channel.phone_number_id
    wamids = services.mappings.wamids_of(pnid, conversation.customer, [int(m["id"]) for m in outgoing])
    prices = services.costs.pricing_of_many(pnid, [w for parts in wamids.values() for w in parts])
    rows = []
    for message in outgoing:
        parts = [prices[w] for w in wamids[int(message["id"])] if w in prices]
        rows.append({
            "id": int(message["id"]), "content": str(message.get("content") or "")[:120],
            "created_at": message.get("created_at"), "sent": bool(wamids[int(message["id"])]),
            "parts": [{"category": p.category, "type": p.type, "billable": p.billable} for p in parts],
        })  # fmt: skip
    return rows


def fields_of(template: Template) -> list[dict[str, str]]:
    """The inputs an agent fills for a template: key ("body.1", "header.media_url", "button.0"), label."""
    inputs = [{"key": f"header.{n}", "label": f"Header {{{{{n}}}}}"} for n in template.header_parameters]
    if template.header_format in HEADER_MEDIA_FORMATS:
        inputs.append({"key": "header.media_url", "label": f"Header {template.header_format.lower()} URL"})
    inputs += [{"key": f"body.{n}", "label": f"{{{{{n}}}}}"} for n in template.body_parameters]
    for button in template.buttons:
        if button.has_url_variable or button.type == "COPY_CODE":
            inputs.append({"key": f"button.{button.index}", "label": f"Button “{button.text}” value"})
    return inputs


def sendable_templates(services: Services, channel: Channel) -> list[dict[str, Any]]:
    """The WABA's approved templates an agent can send from here (authentication codes excluded)."""
    found = []
    for template in TemplateRepository(services.store, services.clock).list(channel.waba_id):
        if not template.is_sendable or template.category == "AUTHENTICATION" or not template.body_text:
            continue
        if template.header_format == "LOCATION":
            continue
        found.append({
            "name": template.name, "language": template.language, "category": template.category,
            "header": template.header_text, "body": template.body_text, "fields": fields_of(template),
        })  # fmt: skip
    return found


def template_params(template: Template, values: dict[str, Any]) -> dict[str, Any]:
    """The helpdesk's template_params (chatwoot.md §3) from the agent's inputs."""
    body = {k[5:]: str(v) for k, v in values.items() if k.startswith("body.")}
    header: dict[str, Any] = {k[7:]: str(v) for k, v in values.items() if k.startswith("header.")}
    if "media_url" in header and template.header_format in HEADER_MEDIA_FORMATS:
        header["media_type"] = str(template.header_format).lower()
    # No gaps (Rails would drop them anyway) and no `namespace: null`: Chatwoot's schema wants a string there.
    buttons = [{"type": button.type.lower(), "parameter": str(values[f"button.{button.index}"])}
               for button in template.buttons if values.get(f"button.{button.index}") not in (None, "")]  # fmt: skip
    processed: dict[str, Any] = {"body": body}
    if header:
        processed["header"] = header
    if buttons:
        processed["buttons"] = buttons
    return {"name": template.name, "category": template.category, "language": template.language,
            "processed_params": processed}  # fmt: skip


def send_template(
    services: Services, installation: Installation, conversation: OpenConversation, name: str, language: str,
    values: Any, agent: str,
) -> dict[str, Any]:
    """Create the outgoing template message in the conversation, as the helpdesk's own template picker does;
    the adapter then sends it to WhatsApp through its normal outbound path."""
    if not isinstance(values, dict):
        raise BadRequest("values must be an object of the template's inputs")
    channel = conversation.channel
    template = TemplateRepository(services.store, services.clock).get(channel.waba_id, name, language)
    if template is None:
        raise NotFound(f"no template {name} ({language}) is known for this number; sync templates in the console")
    params = template_params(template, values)
    try:
        build_template_message(template, params)  # the same check the outbound path makes, before anything exists
    except TemplateError as exc:
        raise BadRequest(exc.message) from None
    message = admin_client(services, installation).create_message(
        channel.helpdesk_account_id,
        channel.helpdesk_api_token,
        conversation.conversation_id,
        {"content": render_text(template, params), "message_type": "outgoing", "private": False,
         "template_params": params},
    )  # fmt: skip
    logger.info("template %s sent from the Dashboard App in conversation %s (by %s)", name,
                conversation.conversation_id, agent or "an agent")  # fmt: skip
    return {"message_id": message.get("id"), "content": message.get("content")}
