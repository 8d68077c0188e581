"""Errors to JSON, in one place. No stack trace ever reaches a caller."""

from __future__ import annotations

import logging

import redis
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from adapter.errors import ExternalApiError, RequestError, StoreUnavailable, error_body
from adapter.ids import new_id

logger = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, details: object | None = None) -> tuple[Response, int]:
    body: dict[str, object] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return jsonify(body), status


def register(app: Flask) -> None:
    @app.errorhandler(RequestError)
    def _request_error(exc: RequestError) -> tuple[Response, int]:
        return jsonify(error_body(exc)), exc.http_status

    @app.errorhandler(ExternalApiError)
    def _upstream_error(exc: ExternalApiError) -> tuple[Response, int]:
        # An admin action that needed Meta's or the helpdesk's answer: say what they answered.
        return error_response(502, "upstream_error", exc.explanation)

    @app.errorhandler(redis.RedisError)
    def _store_error(exc: redis.RedisError) -> tuple[Response, int]:
        # Redis away (restarting, or a cluster failing over): a caller that retries succeeds later.
        logger.warning("the store is unavailable: %s", exc)
        return _request_error(StoreUnavailable("the store is unavailable; retry later"))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(status, code, exc.description or exc.name or "error")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        reference = new_id(6)
        logger.exception("unexpected error, reference %s", reference)
        return error_response(500, "internal_error", f"internal error (reference {reference}); see the adapter logs")
