"""Small helpers the blueprints share: the services, JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request

from adapter.errors import BadRequest
from adapter.services import Services


def services() -> Services:
    return current_app.extensions["adapter"]  # type: ignore[no-any-return]


def json_body(raw: bytes | None = None) -> Any:
    """Parse the request body as JSON, or raise a precise 400."""
    data = request.get_data() if raw is None else raw
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text") from None
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
