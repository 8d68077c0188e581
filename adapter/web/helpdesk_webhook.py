"""POST /webhooks/helpdesk/<phone_number_id>: the API inbox's signed webhook.

Answers 2xx fast for every event, including those we ignore: the helpdesk marks a message
failed when its webhook is not answered 2xx within 5 s.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from adapter.console.payload_log import accepted_helpdesk_log
from adapter.errors import Conflict, NotFound, Unauthorized
from adapter.helpdesk import signature
from adapter.helpdesk.ingest import jobs_from_event
from adapter.services import Services
from adapter.web.common import json_body, services
from adapter.web.console_observe import kept_with_answer
from adapter.web.webhook_shortcuts import helpdesk_refusal, keep_ignored

blueprint = Blueprint("helpdesk_webhook", __name__)


@blueprint.post("/webhooks/helpdesk/<phone_number_id>")
def receive_event(phone_number_id: str) -> tuple[Response, int]:
    svc = services()
    known = svc.channels.webhook_secret(phone_number_id, cached=True)
    body = request.get_data() if known is not None else b""  # an unknown number is a 404, whatever its size
    refusal = _refusal(svc, phone_number_id, known, body)
    if refusal:
        raise Unauthorized(refusal)
    payload = json_body(body, lone_surrogates=True)
    routed = jobs_from_event(phone_number_id, payload)
    if not routed.jobs:  # most are answered before Flask (web/webhook_shortcuts.py); not after a secret rotation
        answer = keep_ignored(svc, phone_number_id, payload, body, routed)
        kept_with_answer()
        return Response(answer, status=200, mimetype="application/json"), 200
    if not svc.deliveries.accept(request.headers.get(signature.DELIVERY_HEADER) or ""):
        raise Conflict("this delivery was received already (replayed)")
    if routed.needs_failure_mark is not None and not svc.mappings.was_failed_by_us(
        phone_number_id, routed.needs_failure_mark
    ):
        return jsonify({"ignored": "an update that needs no action"}), 200
    log = accepted_helpdesk_log(phone_number_id, payload, body, svc.clock.now())
    enqueued = svc.queue.enqueue_once(routed.jobs, log=log)
    kept_with_answer()
    return jsonify({"enqueued": enqueued}), 200


def _refusal(svc: Services, phone_number_id: str, known: str | None, body: bytes) -> str | None:
    """Why the request's signature is refused, or None. Checked with this process's copy of the inbox secret
    (`known`) first and, when that fails, with the one in Redis: a secret rotated through another process
    works at once."""
    refusal = _check(svc, phone_number_id, known, body)
    if refusal == signature.MISMATCH:
        stored = svc.channels.webhook_secret(phone_number_id)
        if stored != known:
            refusal = _check(svc, phone_number_id, stored, body)
    return refusal


def _check(svc: Services, phone_number_id: str, secret: str | None, body: bytes) -> str | None:
    if secret is None:
        raise NotFound(f"no WhatsApp channel {phone_number_id!r} is connected to this adapter")
    headers = request.headers
    return helpdesk_refusal(
        svc, secret, body, headers.get(signature.SIGNATURE_HEADER), headers.get(signature.TIMESTAMP_HEADER)
    )
