"""The WhatsApp channel adapter: Meta's WhatsApp Cloud API <-> a Chatwoot-compatible helpdesk."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask

from adapter import messages
from adapter.clock import Clock
from adapter.settings import Settings, load_settings
from adapter.store.connection import Store

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, store: Store | None = None, clock: Clock | None = None) -> Flask:
    """The web app. Settings come from the environment unless given (tests pass their own)."""
    from adapter import cli, web
    from adapter.logs import configure_logging
    from adapter.services import build_services, refuse_plaintext_secrets

    if settings is None:
        settings = load_settings(os.environ)
        configure_logging(settings.log_level, settings.log_format)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    services = build_services(settings, store=store, clock=clock)
    refuse_plaintext_secrets(services)
    app.extensions["adapter"] = services
    for missing, text in (
        (not settings.meta_app_secret, messages.NO_APP_SECRET),
        (not settings.meta_verify_token, messages.NO_VERIFY_TOKEN),
        (not settings.admin_token, messages.NO_ADMIN_TOKEN),
        (not settings.helpdesk_base_url, messages.NO_HELPDESK_URL),
    ):
        if missing:
            logger.warning(text)
    web.register(app)
    cli.register(app)
    _log_requests(app)
    return app


def _log_requests(app: Flask) -> None:
    """Every line logged while handling a request carries its id and path.

    Bound around the WSGI call rather than in before/teardown hooks: Flask dispatches each hook through
    several layers, on every request, webhooks included.
    """
    from adapter.ids import new_id
    from adapter.logs import bind, unbind

    inner = app.wsgi_app

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        token = bind(request_id=new_id(6), path=environ.get("PATH_INFO", ""))
        try:
            return inner(environ, start_response)
        finally:
            unbind(token)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
