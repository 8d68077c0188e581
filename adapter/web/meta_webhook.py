"""POST/GET /webhooks/meta: Meta's verification handshake and signed event notifications."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from adapter.errors import Forbidden, Unauthorized
from adapter.meta import signature
from adapter.web.common import json_body, services
from adapter.web.console_observe import kept_with_answer
from adapter.web.webhook_shortcuts import accept_meta

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
    answer = accept_meta(svc, json_body(body, lone_surrogates=True), body)  # most are answered before Flask
    kept_with_answer()
    return Response(answer, status=200, mimetype="application/json"), 200
