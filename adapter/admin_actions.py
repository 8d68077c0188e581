"""What an admin can do, shared by the admin API and the CLI (one implementation, two doors)."""

from __future__ import annotations

from typing import Any

from adapter.channel_schema import channel_from_input
from adapter.errors import BadRequest, Conflict, NotFound
from adapter.queue.jobs import Job
from adapter.services import Services
from adapter.store.channels import Channel
from adapter.templates import management
from adapter.work import kinds


def helpdesk_webhook_url(services: Services, phone_number_id: str) -> str:
    base = services.settings.public_base_url or "<PUBLIC_BASE_URL>"
    return f"{base}/webhooks/helpdesk/{phone_number_id}"


def describe(services: Services, channel: Channel) -> dict[str, Any]:
    view = channel.public_view()
    view["helpdesk_webhook_url"] = helpdesk_webhook_url(services, channel.phone_number_id)
    return view


def add_channel(services: Services, data: Any) -> Channel:
    channel = channel_from_input(data, now=services.clock.now())
    if services.channels.box is None:
        raise Conflict("set ENCRYPTION_KEY before connecting a number: access tokens are only stored encrypted")
    if services.channels.get(channel.phone_number_id) is not None:
        raise Conflict(f"channel {channel.phone_number_id} exists; update it instead")
    services.channels.save(channel)
    # Fetch its templates and set the inbox's window and picker (HTTP calls: the worker makes them).
    follow_ups = [kinds.templates_sync(channel.waba_id), kinds.inbox_settings(channel.phone_number_id)]
    services.queue.enqueue_once([(None, job) for job in follow_ups])
    return channel


def update_channel(services: Services, phone_number_id: str, data: Any) -> Channel:
    existing = require_channel(services, phone_number_id)
    if isinstance(data, dict):
        data = {**data, "phone_number_id": phone_number_id}
    channel = channel_from_input(data, now=services.clock.now(), existing=existing)
    services.channels.save(channel)
    return channel


def require_channel(services: Services, phone_number_id: str) -> Channel:
    channel = services.channels.get(phone_number_id)
    if channel is None:
        raise NotFound(f"no channel {phone_number_id}")
    return channel


def remove_channel(services: Services, phone_number_id: str) -> None:
    if not services.channels.remove(phone_number_id):
        raise NotFound(f"no channel {phone_number_id}")


def sync_templates(services: Services, phone_number_id: str) -> None:
    services.queue.enqueue(kinds.templates_sync(require_channel(services, phone_number_id).waba_id))


def list_templates(services: Services, phone_number_id: str) -> list[dict[str, Any]]:
    """The number's templates with status, quality, and why one cannot be sent (rejection explained)."""
    channel = require_channel(services, phone_number_id)
    return [
        {
            "id": t.id, "name": t.name, "language": t.language, "category": t.category, "status": t.status,
            "quality": t.quality_score, "rejected_reason": t.rejected_reason, "why_not_sendable": t.blocked_reason(),
        }
        for t in services.templates.list(channel.waba_id)
    ]


def create_template(services: Services, phone_number_id: str, definition: Any) -> dict[str, Any]:
    """Validate locally, submit to Meta for review, then resync so the catalogue shows it."""
    channel = require_channel(services, phone_number_id)
    if not isinstance(definition, dict):
        raise BadRequest("the body must be a JSON object describing the template")
    answer = management.create_template(services.graph, channel.graph_access_token, channel.waba_id, definition)
    services.queue.enqueue(kinds.templates_sync(channel.waba_id))
    return answer


def edit_template(services: Services, phone_number_id: str, template_id: str, definition: Any) -> dict[str, Any]:
    channel = require_channel(services, phone_number_id)
    if not isinstance(definition, dict):
        raise BadRequest("the body must be a JSON object with the template's new components or category")
    answer = management.edit_template(services.graph, channel.graph_access_token, template_id, definition)
    services.queue.enqueue(kinds.templates_sync(channel.waba_id))
    return answer


def delete_template(services: Services, phone_number_id: str, name: str, template_id: str | None) -> dict[str, Any]:
    channel = require_channel(services, phone_number_id)
    answer = management.delete_template(services.graph, channel.graph_access_token, channel.waba_id, name, template_id)
    services.queue.enqueue(kinds.templates_sync(channel.waba_id))
    return answer


def replay_unrouted(services: Services) -> int:
    """Put every kept payload for a then-unknown number back on the queue (after adding its channel)."""
    items = services.events.take_unrouted()
    for item in items:
        services.queue.enqueue(Job.from_json(item).fresh(services.clock.now()))
    return len(items)
