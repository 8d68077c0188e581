"""App-wide pieces of the helpdesk simulator: orjson for JSON, the request log, fault injection, error answers."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson
from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider

from adapter import jsonfast
from tests.simulators.helpdesk_api.common import attach, error_response, install_error_handlers, simulator

if TYPE_CHECKING:
    from tests.simulators.helpdesk import HelpdeskSimulator


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON, written and read by orjson where it gives the same value (the API's answers and bodies)."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        try:
            return orjson.dumps(obj).decode()
        except (TypeError, orjson.JSONEncodeError):
            return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return jsonfast.loads(s)


def install(app: Flask, sim: HelpdeskSimulator) -> None:
    """Serve ``sim`` from ``app``: its JSON, request log, faults and error answers (routes come separately)."""
    app.json = OrjsonProvider(app)
    attach(app, sim)
    app.before_request(_before_request)
    app.after_request(_after_request)
    install_error_handlers(app)


def _record_request(sim: HelpdeskSimulator) -> None:
    entry = {
        "method": request.method,
        "path": request.path,
        "query": request.args.to_dict(),
        "json": request.get_json(silent=True) if request.is_json else None,
        "form": request.form.to_dict(),
        "files": [(field, f.filename, f.mimetype, len(f.read())) for field, f in request.files.items(multi=True)],
        "token": request.headers.get("api_access_token"),
        "status_code": None,
    }
    for stored in request.files.values():
        stored.stream.seek(0)
    g.log_entry = entry
    sim.requests_log.append(entry)


def _before_request() -> Response | None:
    """Log the request, then answer for the simulator when it is down or a fault is due; ``/_sim/`` is exempt."""
    if request.path.startswith("/_sim/"):
        return None
    sim = simulator()
    if sim.record_requests:
        _record_request(sim)
    down, delay, fault_status = sim._take_fault(request.path)
    if down:
        return error_response(503)
    if fault_status is not None:
        return error_response(fault_status)
    if delay and request.path.startswith("/api/"):
        time.sleep(delay)
    return None


def _after_request(response: Response) -> Response:
    entry = g.get("log_entry")
    if entry is not None:
        entry["status_code"] = response.status_code
    return response
