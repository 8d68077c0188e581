"""Every failure of a console page as a clear HTML page (400, 401, 403, 404, 405, 429, 500) — never a stack trace.

The adapter's JSON error handlers (errors.py) stay in charge of everything else: `install` wraps them
and only answers with HTML for console pages (under /admin and /app, except their JSON APIs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from adapter.errors import RequestError
from adapter.ids import new_id

logger = logging.getLogger(__name__)

TITLES = {
    400: "The request could not be used",
    401: "Sign in first",
    403: "Not allowed",
    404: "Page not found",
    405: "Not available this way",
    409: "Already done",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
    502: "A service did not answer properly",
    503: "Temporarily unavailable",
}
HINTS = {
    400: "Go back, check what was entered, and try again.",
    401: "Sign in to the console, then open the page again.",
    403: "Sign in with an account that may do this, or ask for a new link.",
    404: "Check the address, or start again from the console's home page.",
    405: "Use the console's buttons and forms rather than typing the address.",
    429: "Wait a little, then try again.",
    500: "Try again. If it keeps happening, give the reference to whoever runs the adapter.",
}
JSON_PREFIXES = ("/admin/api", "/app/api")


def is_html_request() -> bool:
    path = request.path
    if path.startswith(JSON_PREFIXES) or not (path in ("/admin", "/app") or path.startswith(("/admin/", "/app/"))):
        return False
    return "application/json" not in request.headers.get("Accept", "") and not request.is_json


def error_page(status: int, message: str, reference: str | None = None) -> tuple[str, int]:
    return render_template(
        "console/error.html",
        status=status,
        title=TITLES.get(status, "Something went wrong"),
        message=message,
        hint=HINTS.get(status, HINTS[400] if status < 500 else HINTS[500]),
        reference=reference,
    ), status


def install(app: Flask) -> None:
    handlers = app.error_handler_spec.setdefault(None, {}).setdefault(None, {})
    previous: dict[type[BaseException], Callable[[Any], Any]] = {k: v for k, v in handlers.items()}

    def dispatch(kind: type[Exception], html: Callable[[Any], tuple[str, int]]) -> None:
        fallback = previous.get(kind)

        def handle(exc: Any) -> Any:
            if is_html_request() or fallback is None:
                return html(exc)
            return fallback(exc)

        app.register_error_handler(kind, handle)

    def request_error(exc: RequestError) -> tuple[str, int]:
        return error_page(exc.http_status, exc.message)

    def http_error(exc: HTTPException) -> tuple[str, int]:
        status = exc.code or 500
        return error_page(status, exc.description or TITLES.get(status, "error"))

    def unexpected(exc: Exception) -> tuple[str, int]:
        reference = new_id(6)
        logger.exception("unexpected console error, reference %s", reference)
        return error_page(500, "The console hit an unexpected error; nothing was shown of it here.", reference)

    dispatch(RequestError, request_error)
    dispatch(HTTPException, http_error)
    dispatch(Exception, unexpected)
