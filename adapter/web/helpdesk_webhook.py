"""POST /webhooks/helpdesk/<phone_number_id>: the API inbox's signed webhook.

Answers 2xx fast for every event, including those we ignore: the helpdesk marks a message
failed when its webhook is not answered 2xx within 5 s.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from adapter.errors import Conflict, NotFound, Unauthorized
from adapter.helpdesk import signature
from adapter.helpdesk.ingest import jobs_from_event
from adapter.store import keys
from adapter.web.common import json_body, services

blueprint = Blueprint("helpdesk_webhook", __name__)


@blueprint.post("/webhooks/helpdesk/<phone_number_id>")
def receive_event(phone_number_id: str) -> tuple[Response, int]:
    svc = services()
    secret = svc.channels.webhook_secret(phone_number_id)
    if secret is None:
        raise NotFound(f"no WhatsApp channel {phone_number_id!r} is connected to this adapter")
    body = request.get_data()
    refusal = signature.verify_signature(
        secret,
        body,
        signature=request.headers.get(signature.SIGNATURE_HEADER),
        timestamp=request.headers.get(signature.TIMESTAMP_HEADER),
        now=svc.wall_clock.now(),
        max_age_seconds=svc.settings.helpdesk_webhook_max_age_seconds,
    )
    if refusal:
        raise Unauthorized(refusal)
    delivery = request.headers.get(signature.DELIVERY_HEADER) or ""
    pipe = svc.store.pipeline(transaction=False)
    pipe.set(keys.delivery(delivery), 1, nx=True, ex=2 * svc.settings.helpdesk_webhook_max_age_seconds)
    pipe.hincrby(keys.metric("webhooks_received"), "result=verified,source=helpdesk", 1)
    first_time = pipe.execute()[0]
    if delivery and not first_time:
        raise Conflict("this delivery was received already (replayed)")
    routed = jobs_from_event(phone_number_id, json_body(body, lone_surrogates=True))
    if routed.needs_failure_mark is not None and not svc.mappings.was_failed_by_us(
        phone_number_id, routed.needs_failure_mark
    ):
        return jsonify({"ignored": "an update that needs no action"}), 200
    if not routed.jobs:
        return jsonify({"ignored": routed.ignored}), 200
    return jsonify({"enqueued": svc.queue.enqueue_once(routed.jobs)}), 200
