"""The web layer, the only package that imports flask: it verifies, validates, dedupes, enqueues, answers."""

from __future__ import annotations

from flask import Flask

from adapter.web import admin_api, console, errors, health, helpdesk_webhook, meta_webhook, openapi


def register(app: Flask) -> None:
    errors.register(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(meta_webhook.blueprint)
    app.register_blueprint(helpdesk_webhook.blueprint)
    app.register_blueprint(admin_api.blueprint)
    app.register_blueprint(openapi.blueprint)
    console.register(app)
