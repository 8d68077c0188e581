"""The helpdesk's signed webhook (POST /webhooks/helpdesk/<phone_number_id>), one per API inbox.

Every event is answered 2xx fast, those we ignore too: the helpdesk marks a message failed when its webhook
is not answered 2xx within 5 s.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from adapter.errors import Conflict, NotFound, PayloadTooLarge, RequestError, Unauthorized
from adapter.helpdesk import signature
from adapter.helpdesk.ingest import jobs_from_event
from adapter.json_body import parse_json_body
from adapter.monitoring import payload_log
from adapter.services import Services
from adapter.webhooks.answer import Answer, Headers, refuse


def handle_helpdesk_webhook(
    services: Services, phone_number_id: str, body: bytes, headers: Headers
) -> Answer:
    """Verify X-Chatwoot-Signature with the inbox's secret, route the event, enqueue what needs work once per
    delivery; refusals are answered with why (404 unknown number, 401, 400, 409 replay, 413, 503).
   """
    try:
        return _accept(services, phone_number_id, body, headers)
    except RequestError as exc:
        return refuse(services, "helpdesk", phone_number_id, body, exc)


def _accept(services: Services, phone_number_id: str, body: bytes, headers: Headers) -> Answer:
    _verify(services, phone_number_id, body, headers)
    payload = parse_json_body(body, lone_surrogates=True)
    routed = jobs_from_event(phone_number_id, payload)
    # Keeps this webhook with its answer for troubleshooting, written behind.
    keep = partial(payload_log.keep_accepted_helpdesk, services.deferred, phone_number_id, payload, body,
                   services.clock.now())  # fmt: skip
    if not routed.jobs:
        return _ignored(services, keep, routed.ignored)
    if not services.deliveries.accept(headers.get(signature.DELIVERY_HEADER) or ""):
        raise Conflict("this delivery was received already (replayed)")
    if routed.needs_failure_mark is not None and not services.mappings.may_retry(
        phone_number_id, *routed.needs_failure_mark
    ):
        return _ignored(services, keep, "an update that needs no action")
    enqueued = services.queue.enqueue_once(routed.jobs)
    keep({"received": len(routed.jobs), "enqueued": enqueued})
    return Answer(200, {"enqueued": enqueued})


def _verify(services: Services, phone_number_id: str, body: bytes, headers: Headers) -> None:
    """Checked with this process's copy of the inbox secret first and, when that fails, with the one in Redis:
    a secret rotated through another process works at once."""
    known = services.channels.webhook_secret(phone_number_id, cached=True)
    if known is None:
        raise NotFound(f"no WhatsApp channel {phone_number_id!r} is connected to this adapter")
    if len(body) > services.settings.max_body_bytes:
        raise PayloadTooLarge(f"the body is larger than the {services.settings.max_body_bytes} byte limit")
    refusal = _refusal(services, known, body, headers)
    if refusal == signature.MISMATCH:
        stored = services.channels.webhook_secret(phone_number_id)
        if stored is None:
            raise NotFound(f"no WhatsApp channel {phone_number_id!r} is connected to this adapter")
        if stored != known:
            refusal = _refusal(services, stored, body, headers)
    if refusal:
        raise Unauthorized(refusal)


def _refusal(services: Services, secret: str, body: bytes, headers: Headers) -> str | None:
    return signature.verify_signature(
        secret,
        body,
        signature=headers.get(signature.SIGNATURE_HEADER),
        timestamp=headers.get(signature.TIMESTAMP_HEADER),
        now=services.wall_clock.now(),
        max_age_seconds=services.settings.helpdesk_webhook_max_age_seconds,
    )


def _ignored(services: Services, keep: Callable[[dict[str, Any]], None], why: str | None) -> Answer:
    """An event that needs no action: counted and kept for troubleshooting, both written behind
    (adapter/store/deferred.py), so its answer never waits on Redis. A replay of one changes nothing."""
    answer = Answer(200, {"ignored": why})
    services.metrics.count("webhooks_received", result="verified", source="helpdesk")
    keep(answer.body)
    return answer
