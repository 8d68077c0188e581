"""The admin console at /admin and the Dashboard App at /app: one module per page group; `register` wires them."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from adapter.console import auth
from adapter.web.console import app as dashboard_app
from adapter.web.console import connect, errors, home, numbers, templates, troubleshooting  # noqa: F401  (routes on `blueprint`)
from adapter.web.console.support import blueprint

SESSION_HOURS = 12


class ConsoleSessions(SecureCookieSessionInterface):
    """The console's signed-cookie session, left unopened for the webhooks: Meta and the helpdesk send no
    cookie, and opening one costs each webhook a signing serializer for nothing."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/webhooks/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def register(app: Flask) -> None:
    """Blueprints, the session cookie and HTML error pages for the console."""
    settings = app.extensions["adapter"].settings
    app.secret_key = auth.signing_secret(settings) or secrets.token_hex(32)
    app.session_interface = ConsoleSessions()
    app.config.update(
        SESSION_COOKIE_NAME="wa_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )
    app.register_blueprint(blueprint)
    app.register_blueprint(dashboard_app.blueprint)
    errors.install(app)
