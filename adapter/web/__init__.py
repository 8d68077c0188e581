"""The web layer, the only package that imports flask: it verifies, validates, dedupes, enqueues, answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from adapter.web import admin_api, console, errors, health, helpdesk_webhook, meta_webhook, openapi
from adapter.web.webhook_shortcuts import WebhookShortcuts


class _SessionFromCookieOnly(SecureCookieSessionInterface):
    """Builds the cookie signer only when cookies came with the request: webhooks never carry any, and the
    signer cost more per webhook than its signature check."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return SecureCookieSession()
        return super().open_session(app, request)


class WebApp(Flask):
    """Flask, without two costs it pays on every request for nothing here (both seen profiling the ingest)."""

    session_interface = _SessionFromCookieOnly()

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask asks, for every hook and view of every request, whether it is a coroutine; the answer is fixed.
        known = self._sync.get(func)
        if known is None:
            known = self._sync[func] = super().ensure_sync(func)
        return known


def register(app: Flask) -> None:
    errors.register(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(meta_webhook.blueprint)
    app.register_blueprint(helpdesk_webhook.blueprint)
    app.register_blueprint(admin_api.blueprint)
    app.register_blueprint(openapi.blueprint)
    console.register(app)
    app.wsgi_app = WebhookShortcuts(app.wsgi_app, app.extensions["adapter"])  # type: ignore[method-assign]
