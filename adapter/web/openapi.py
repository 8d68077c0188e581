"""GET /openapi.json: the OpenAPI description of the adapter's own JSON endpoints (openapi.json beside this file).

Read and checked once at import, so a broken file stops startup instead of failing a caller. JSON, not YAML:
the runtime dependencies have no YAML parser, and this adds none.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response

blueprint = Blueprint("openapi", __name__)

SPEC_PATH = Path(__file__).with_name("openapi.json")
_SPEC: bytes = json.dumps(json.loads(SPEC_PATH.read_text(encoding="utf-8")), ensure_ascii=False).encode()


@blueprint.get("/openapi.json")
def openapi_document() -> Response:
    return Response(_SPEC, status=200, mimetype="application/json")
