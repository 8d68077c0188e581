"""GET/POST /webhooks/meta: Meta's verification handshake and signed event notifications."""

from __future__ import annotations

from flask import Blueprint, Response, request

from adapter.web.common import services, webhook_answer, webhook_body
from adapter.webhooks.meta import handle_meta_webhook, verify_subscription

blueprint = Blueprint("meta_webhook", __name__)


@blueprint.get("/webhooks/meta")
def receive_subscription() -> Response:
    """Echo hub.challenge when Meta subscribes with our verify token; 403 otherwise."""
    args = request.args
    challenge = verify_subscription(
        services(), args.get("hub.mode", ""), args.get("hub.verify_token", ""), args.get("hub.challenge", "")
    )
    return Response(challenge, status=200, mimetype="text/plain")


@blueprint.post("/webhooks/meta")
def receive_notification() -> Response:
    svc = services()
    answer = handle_meta_webhook(svc, webhook_body(svc.settings.max_body_bytes), request.headers)
    return webhook_answer(answer.body, answer.status)
