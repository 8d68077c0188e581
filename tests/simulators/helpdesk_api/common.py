"""What every route group of the helpdesk simulator shares: the simulator behind the app, Rails-style params,
token authentication, Chatwoot's error answers and the URL prefixes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, cast

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from tests.simulators.helpdesk_state import (
    NOT_AUTHORIZED_ERROR,
    NOT_FOUND_ERROR,
    SIGN_IN_ERROR,
    Actor,
    ApiError,
    HelpdeskState,
    JsonDict,
    Outbound,
    rails_params,
)

if TYPE_CHECKING:
    from tests.simulators.helpdesk import HelpdeskSimulator

ACCOUNT = "/api/v1/accounts/<int:aid>"
CONVERSATION = ACCOUNT + "/conversations/<int:cid>"
BOT_FORBIDDEN_ERROR = {"error": "Access to this endpoint is not authorized for bots"}
ACCOUNT_FORBIDDEN_ERROR = {"error": "You are not authorized to access this account"}
_EXTENSION = "helpdesk_simulator"
_NGINX_PAGE = (
    "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


# ---------------------------------------------------------------------- the simulator behind the app
def attach(app: Flask, sim: HelpdeskSimulator) -> None:
    """Make ``sim`` the simulator the routes of ``app`` answer for."""
    app.extensions[_EXTENSION] = sim


def simulator() -> HelpdeskSimulator:
    """The simulator serving the current request."""
    return cast("HelpdeskSimulator", current_app.extensions[_EXTENSION])


def helpdesk() -> HelpdeskState:
    """The object model of the simulator serving the current request (hold its ``lock`` to read or write)."""
    return simulator()._state


def enqueue(outbounds: list[Outbound]) -> None:
    """Queue webhooks for the background delivery (call it after releasing the state lock)."""
    simulator()._enqueue(outbounds)


# ---------------------------------------------------------------------- request helpers
def params() -> JsonDict:
    """Rails-style params: query string, then form fields, then the JSON body."""
    merged: JsonDict = request.args.to_dict()
    if not request.is_json:  # a JSON body has no form fields: parsing for them costs a request's tenth
        merged.update(request.form.to_dict())
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        merged.update(rails_params(body))  # Rails drops the nulls of JSON arrays
    for key in ("content_attributes", "template_params", "custom_attributes", "additional_attributes"):
        if isinstance(merged.get(key), str):  # multipart sends JSON as a string (safe_parse_json)
            try:
                merged[key] = json.loads(merged[key])
            except ValueError:
                merged[key] = {}
    return merged


def authenticate(account_id: int | None, *, bot_ok: bool = False) -> Actor:
    """The user or bot of the ``api_access_token`` header, allowed into ``account_id``; else 401."""
    state = helpdesk()
    actor = state.actor_for(request.headers.get("api_access_token"))
    if actor is None:
        raise ApiError(401, dict(SIGN_IN_ERROR))
    if actor.kind == "agent_bot" and not bot_ok:
        raise ApiError(401, dict(BOT_FORBIDDEN_ERROR))
    if account_id is not None:
        state.account(account_id)
        if not state.can_access_account(actor, account_id):
            raise ApiError(401, dict(ACCOUNT_FORBIDDEN_ERROR))
    return actor


def require_admin(actor: Actor, account_id: int) -> None:
    if not helpdesk().is_admin(actor, account_id):
        raise ApiError(401, dict(NOT_AUTHORIZED_ERROR))


@contextmanager
def authorized(
    account_id: int | None, *, bot_ok: bool = False, admin: bool = False
) -> Iterator[tuple[HelpdeskState, Actor]]:
    """Hold the state lock for a route, signed in by ``authenticate`` (and ``require_admin`` if ``admin``)."""
    state = helpdesk()
    with state.lock:
        actor = authenticate(account_id, bot_ok=bot_ok)
        if admin and account_id is not None:
            require_admin(actor, account_id)
        yield state, actor


# ---------------------------------------------------------------------- error answers
def error_response(status: int) -> Response:
    """What a failing Chatwoot (or the proxy in front of it) answers with a given status."""
    try:
        phrase = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        phrase = str(status)
    if status in (502, 503, 504):
        return Response(_NGINX_PAGE.format(phrase), status=status, mimetype="text/html")
    if status == 429:  # Rack::Attack's throttled response
        return Response("Retry later\n", status=429, mimetype="text/plain")
    bodies: dict[int, JsonDict] = {401: SIGN_IN_ERROR, 403: NOT_AUTHORIZED_ERROR, 404: NOT_FOUND_ERROR}
    body = bodies.get(status, {"status": status, "error": phrase.split(" ", 1)[-1]})
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _api_error(exc: ApiError) -> Response:
    if exc.body is None:
        return Response(status=exc.status)
    response = jsonify(exc.body)
    response.status_code = exc.status
    return response


def _http_error(exc: HTTPException) -> Response:
    return error_response(exc.code or 500)


def install_error_handlers(app: Flask) -> None:
    """``ApiError`` as its status and body; any other HTTP error (404, 405, …) as Chatwoot answers it."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
