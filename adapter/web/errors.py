"""Errors to JSON, in one place. No stack trace ever reaches a caller."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, request
from redis import RedisError
from werkzeug.exceptions import HTTPException

from adapter.errors import ExternalApiError, RequestError
from adapter.ids import new_id
from adapter.store import keys

logger = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, details: object | None = None) -> tuple[Response, int]:
    body: dict[str, object] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return jsonify(body), status


def _count_refused_webhook(status: int) -> None:
    """Refused webhooks are rare: counted with their own write (accepted ones are counted while enqueued)."""
    if not request.path.startswith("/webhooks/"):
        return
    source = "meta" if request.path.startswith("/webhooks/meta") else "helpdesk"
    try:
        services = current_app.extensions["adapter"]
        services.store.hincrby(keys.metric("webhooks_received"), f"result={status},source={source}", 1)
    except RedisError:
        pass  # the answer matters more than the count


def register(app: Flask) -> None:
    @app.errorhandler(RequestError)
    def _request_error(exc: RequestError) -> tuple[Response, int]:
        _count_refused_webhook(exc.http_status)
        return error_response(exc.http_status, exc.code, exc.message, exc.details)

    @app.errorhandler(ExternalApiError)
    def _upstream_error(exc: ExternalApiError) -> tuple[Response, int]:
        # An admin action that needed Meta's or the helpdesk's answer: say what they answered.
        return error_response(502, "upstream_error", exc.explanation)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        _count_refused_webhook(status)
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(status, code, exc.description or exc.name or "error")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        reference = new_id(6)
        logger.exception("unexpected error, reference %s", reference)
        return error_response(500, "internal_error", f"internal error (reference {reference}); see the adapter logs")
