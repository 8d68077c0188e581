"""What every console page shares: the blueprint, sign-in and CSRF checks, rendering and flash messages."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from adapter.console import auth
from adapter.console.installation import Installation, load_installation
from adapter.errors import BadRequest
from adapter.services import Services
from adapter.web.common import services

blueprint = Blueprint(
    "console",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

PUBLIC_ENDPOINTS = frozenset({"console.login", "console.signed_link", "console.static"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_REFUSED = "This form expired or did not come from this console. Reload the page and try again."


def csrf_token() -> str:
    """The session's CSRF token, created on first use (forms put it in a hidden field)."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = auth.new_csrf_token()
        session["csrf"] = token
    return token


def check_csrf() -> None:
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not auth.csrf_matches(session.get("csrf"), given):
        raise BadRequest(CSRF_REFUSED)


def signed_in() -> bool:
    return bool(session.get("user"))


def start_session(user: str) -> None:
    """A fresh session for `user`: new CSRF token and session id, so nothing from before sign-in carries over."""
    session.clear()
    session.permanent = True
    session["user"] = user
    session["sid"] = secrets.token_urlsafe(16)
    session["csrf"] = auth.new_csrf_token()


def session_owner() -> str:
    sid = session.get("sid")
    if not isinstance(sid, str) or not sid:
        sid = secrets.token_urlsafe(16)
        session["sid"] = sid
    return sid


@blueprint.before_request
def guard() -> Response | None:
    if request.method == "POST":
        check_csrf()
    if request.endpoint in PUBLIC_ENDPOINTS or signed_in():
        return None
    if request.method == "GET":
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    raise HTTPUnauthorized()


class HTTPUnauthorized(HTTPException):
    code = 401
    description = "Sign in to the console first."


@blueprint.after_request
def no_framing(response: Response) -> Response:
    """Console pages are never shown inside another site's frame (clickjacking); the Dashboard App is, on /app."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response


@blueprint.app_context_processor
def console_globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "console_user": session.get("user")}


def page(name: str, code: int = 200, /, **context: Any) -> tuple[str, int]:
    """Render console/<name> with `context`, answered with HTTP status `code`."""
    return render_template(f"console/{name}", **context), code


def done(message: str, endpoint: str, **values: Any) -> Response:
    """Flash a success message and redirect (POST → redirect → GET)."""
    flash(message, "ok")
    return redirect(url_for(endpoint, **values))


def installation_or_none() -> Installation | None:
    return load_installation(services())


def svc() -> Services:
    return services()


def form_int(name: str) -> int | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise BadRequest(f"{name.replace('_', ' ')} must be a whole number")
    return int(raw)


Handler = Callable[..., Any]


@blueprint.app_template_filter("when")
def when(value: float | int | None) -> str:
    """A Unix time as "2026-11-24 21:05 UTC"; "never" for none."""
    if not value:
        return "never"
    return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%d %H:%M UTC")


@blueprint.app_template_filter("ago")
def ago(value: float | int | None, now: float) -> str:
    if not value:
        return "never"
    seconds = int(now - float(value))
    if seconds < 0:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


@blueprint.app_template_filter("phone")
def phone(value: str | None) -> str:
    """A WhatsApp display number as people write it: "15550783881" -> "+1 555-078-3881"."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    if not digits:
        return str(value or "")
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return str(value)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
