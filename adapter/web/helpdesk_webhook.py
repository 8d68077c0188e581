"""POST /webhooks/helpdesk/<phone_number_id>: the API inbox's signed webhook.

Answers 2xx fast for every event, including those we ignore: the helpdesk marks a message
failed when its webhook is not answered 2xx within 5 s.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from adapter import jsonfast
from adapter.console.payload_log import accepted_helpdesk_log
from adapter.errors import Conflict, NotFound, Unauthorized
from adapter.helpdesk import signature
from adapter.helpdesk.ingest import jobs_from_event
from adapter.web.common import json_body, services
from adapter.web.console_observe import kept_with_answer

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
    payload = json_body(body, lone_surrogates=True)
    routed = jobs_from_event(phone_number_id, payload)
    log = accepted_helpdesk_log(phone_number_id, payload, body, svc.clock.now())
    # Most events (the echo of every incoming message, typing, conversation updates) are answered right
    # away: accepting the delivery keeps them with that answer, in the same round trip.
    ignored = None if routed.jobs else {"ignored": routed.ignored}
    answer = jsonfast.dumps(ignored) if ignored is not None else ""
    if not svc.deliveries.accept(request.headers.get(signature.DELIVERY_HEADER) or "",
                                 log=log if ignored is not None else None, answer=answer):  # fmt: skip
        raise Conflict("this delivery was received already (replayed)")
    if ignored is not None:
        kept_with_answer()
        return Response(answer, status=200, mimetype="application/json"), 200
    if routed.needs_failure_mark is not None and not svc.mappings.was_failed_by_us(
        phone_number_id, routed.needs_failure_mark
    ):
        return jsonify({"ignored": "an update that needs no action"}), 200
    enqueued = svc.queue.enqueue_once(routed.jobs, log=log)
    kept_with_answer()
    return jsonify({"enqueued": enqueued}), 200
