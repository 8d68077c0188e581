"""Keeps each webhook request (body excerpt, verification result, answer) for the Troubleshooting page.

Runs after the webhook blueprints answered, reads only what they already read, and never changes or
fails their answer.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from adapter.console import payload_log
from adapter.web.common import services

logger = logging.getLogger(__name__)

HELPDESK_PREFIX = "/webhooks/helpdesk/"
KEPT = "webhook_kept"  # set on flask.g by a webhook view whose write already kept the request with its answer


def kept_with_answer() -> None:
    """Called by a webhook view once its own write has kept the request for troubleshooting."""
    setattr(g, KEPT, True)


def _keep(response: Response) -> None:
    """Take what the record needs now; parse and write it once the answer has been sent, so the sender
    never waits for the troubleshooting log."""
    if g.get(KEPT):
        return  # kept by the view's own write, with its answer (console/payload_log.accepted_log)
    path = request.path
    if path == "/webhooks/meta":
        source, number = "meta", ""
    elif path.startswith(HELPDESK_PREFIX):
        source, number = "helpdesk", path[len(HELPDESK_PREFIX):]
    else:
        return
    try:
        body = request.get_data(cache=True)
    except HTTPException:  # larger than MAX_CONTENT_LENGTH: nothing to show but the refusal
        body = b""
    svc = services()
    status, answer, at = response.status_code, response.get_json(silent=True), svc.clock.now()

    def write() -> None:
        try:
            parsed = payload_log.parse_body(body)
            if source == "meta":
                numbers, items = payload_log.meta_items(parsed)
            else:
                numbers, items = [number], payload_log.helpdesk_items(number, parsed)
            payload_log.record(
                svc.store,
                payload_log.WebhookRecord(
                    source=source,
                    at=at,
                    status=status,
                    verification=payload_log.verification_words(source, status),
                    outcome=payload_log.outcome_words(status, answer),
                    numbers=tuple(numbers),
                    items=tuple(items),
                    body=payload_log.body_excerpt(body),
                ),
            )
        except Exception:  # observability must never break anything
            logger.exception("could not keep a webhook request for troubleshooting")

    response.call_on_close(write)


def install(app: Flask) -> None:
    @app.after_request
    def keep_webhook(response: Response) -> Response:
        if request.method == "POST" and request.path.startswith("/webhooks/"):
            try:
                _keep(response)
            except Exception:  # observability must never break a webhook answer
                logger.exception("could not keep a webhook request for troubleshooting")
        return response
