"""POST/GET /webhooks/meta: Meta's verification handshake and signed event notifications."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError

from adapter.console.payload_log import accepted_meta_log
from adapter.errors import BadRequest, Forbidden, Unauthorized
from adapter.meta import signature
from adapter.meta.ingest import jobs_from_webhook
from adapter.meta.schemas import ENVELOPE
from adapter.web.common import json_body, services

blueprint = Blueprint("meta_webhook", __name__)


@blueprint.get("/webhooks/meta")
def verify_subscription() -> Response:
    """Echo hub.challenge when Meta subscribes with our verify token; 403 otherwise."""
    expected = services().settings.meta_verify_token
    token = request.args.get("hub.verify_token", "")
    if (
        not expected
        or request.args.get("hub.mode") != "subscribe"
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise Forbidden("verification failed: hub.mode must be 'subscribe' and hub.verify_token must match")
    return Response(request.args.get("hub.challenge", ""), status=200, mimetype="text/plain")


@blueprint.post("/webhooks/meta")
def receive_notification() -> tuple[Response, int]:
    svc = services()
    body = request.get_data()
    secret = svc.settings.meta_app_secret
    if not secret:
        raise Unauthorized("META_APP_SECRET is not configured, so no webhook can be verified")
    if not signature.verify_signature(secret, body, request.headers.get(signature.HEADER)):
        raise Unauthorized(f"missing or wrong {signature.HEADER}")
    payload = json_body(body, lone_surrogates=True)
    try:
        envelope = ENVELOPE.load(payload) if isinstance(payload, dict) else None
    except ValidationError as exc:
        raise BadRequest("not a WhatsApp Business Account webhook", details=exc.messages) from None
    if envelope is None:
        raise BadRequest("not a WhatsApp Business Account webhook: the body must be a JSON object")
    jobs = jobs_from_webhook(envelope)
    log = accepted_meta_log(envelope, body, svc.clock.now())
    enqueued = svc.queue.enqueue_once(jobs, source="meta", log=log)
    return jsonify({"received": len(jobs), "enqueued": enqueued}), 200
