"""Small helpers the blueprints share: the services, JSON bodies."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from werkzeug.wsgi import get_input_stream

from adapter import jsonfast
from adapter.json_body import parse_json_body
from adapter.services import Services


def services() -> Services:
    return current_app.extensions["adapter"]  # type: ignore[no-any-return]


def json_body() -> Any:
    """The request's body as strict JSON, or a precise 400."""
    return parse_json_body(request.get_data())


def webhook_body(limit: int) -> bytes:
    """At most `limit` + 1 bytes of the body: the webhook's handler refuses a longer one with 413 itself, so
    the refusal is kept for troubleshooting like any other."""
    # Read past Flask's MAX_CONTENT_LENGTH (which would answer 413 before the handler could say 404 first).
    return get_input_stream(request.environ, max_content_length=None).read(limit + 1)


def webhook_answer(body: dict[str, Any], status: int) -> Response:
    """A webhook's JSON answer. Built directly: jsonify's provider machinery cost a webhook more than its JSON."""
    return Response(jsonfast.dumps(body), status, mimetype="application/json")
