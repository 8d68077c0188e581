"""POST /webhooks/helpdesk/<phone_number_id>: the API inbox's signed webhook."""

from __future__ import annotations

from flask import Blueprint, Response, request

from adapter.web.common import services, webhook_answer, webhook_body
from adapter.webhooks.helpdesk import handle_helpdesk_webhook

blueprint = Blueprint("helpdesk_webhook", __name__)


@blueprint.post("/webhooks/helpdesk/<phone_number_id>")
def receive_event(phone_number_id: str) -> Response:
    svc = services()
    answer = handle_helpdesk_webhook(svc, phone_number_id, webhook_body(svc.settings.max_body_bytes), request.headers)
    return webhook_answer(answer.body, answer.status)
