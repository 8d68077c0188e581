"""The webhooks' usual case, answered before Flask.

At full load nearly every request the web answers is one of two: Meta's webhook, verified and enqueued,
and the helpdesk's echo of every incoming message, verified and ignored. Flask's request machinery cost
more than either's own work (about 225 µs a request under gunicorn, measured with wrk against a bare Flask
app and a bare WSGI app), so this WSGI middleware answers them. It answers only what the Flask views would
answer 200 in the same way, through the same functions; anything else (an unknown number, a refused
signature, a body that is not plain JSON or not valid, an event that acts, Redis unavailable, any error)
goes on to the Flask view with its body put back, and the view gives the answer it always gives.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from adapter import jsonfast
from adapter.console import payload_log
from adapter.helpdesk import signature as helpdesk_signature
from adapter.helpdesk.ingest import Routed, jobs_from_event
from adapter.meta import signature as meta_signature
from adapter.meta.ingest import jobs_from_webhook
from adapter.services import Services

logger = logging.getLogger(__name__)

META_PATH = "/webhooks/meta"
HELPDESK_PREFIX = "/webhooks/helpdesk/"


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


_META_SIGNATURE = _environ_key(meta_signature.HEADER)
_HELPDESK_SIGNATURE = _environ_key(helpdesk_signature.SIGNATURE_HEADER)
_HELPDESK_TIMESTAMP = _environ_key(helpdesk_signature.TIMESTAMP_HEADER)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def accept_meta(svc: Services, payload: Any, body: bytes) -> str:
    """Enqueue every item of a verified Meta webhook in one round trip; returns the answer."""
    jobs = jobs_from_webhook(payload)
    log = payload_log.accepted_meta_log(payload, body, svc.clock.now())
    enqueued = svc.queue.enqueue_once(jobs, source="meta", log=log)
    return f'{{"received":{len(jobs)},"enqueued":{enqueued}}}\n'


def keep_ignored(svc: Services, phone_number_id: str, payload: Any, body: bytes, routed: Routed) -> str:
    """Count a verified helpdesk event that needs no action and keep it for troubleshooting, both written
    behind (adapter/store/deferred.py); returns the answer. A replay of one is answered the same way: it
    changes nothing."""
    answer = jsonfast.dumps({"ignored": routed.ignored})
    svc.metrics.count("webhooks_received", result="verified", source="helpdesk")
    log = payload_log.accepted_helpdesk_log(phone_number_id, payload, body, svc.clock.now())
    payload_log.keep_later(svc.deferred, log, answer)
    return answer


def helpdesk_refusal(
    svc: Services, secret: str, body: bytes, signature: str | None, timestamp: str | None
) -> str | None:
    """Why a helpdesk webhook's signature is refused with `secret`, or None."""
    return helpdesk_signature.verify_signature(
        secret,
        body,
        signature=signature,
        timestamp=timestamp,
        now=svc.wall_clock.now(),
        max_age_seconds=svc.settings.helpdesk_webhook_max_age_seconds,
    )


def _meta(svc: Services, body: bytes, environ: dict[str, Any]) -> str | None:
    secret = svc.settings.meta_app_secret
    if not secret or not meta_signature.verify_signature(secret, body, environ.get(_META_SIGNATURE)):
        return None
    payload = jsonfast.read_plain(body)
    return None if payload is jsonfast.UNREAD else accept_meta(svc, payload, body)


def _helpdesk(svc: Services, phone_number_id: str, body: bytes, environ: dict[str, Any]) -> str | None:
    secret = svc.channels.webhook_secret(phone_number_id, cached=True)
    if secret is None or helpdesk_refusal(
        svc, secret, body, environ.get(_HELPDESK_SIGNATURE), environ.get(_HELPDESK_TIMESTAMP)
    ):
        return None
    payload = jsonfast.read_plain(body)
    if payload is jsonfast.UNREAD:
        return None
    routed = jobs_from_event(phone_number_id, payload)
    return None if routed.jobs else keep_ignored(svc, phone_number_id, payload, body, routed)


class WebhookShortcuts:
    """WSGI middleware around the Flask app (see the module's docstring)."""

    def __init__(self, app: WsgiApp, services: Services) -> None:
        self.app = app
        self.services = services

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            path: str = environ.get("PATH_INFO", "")
            number = path[len(HELPDESK_PREFIX):] if path.startswith(HELPDESK_PREFIX) else None
            if path == META_PATH or (number and "/" not in number):
                answer = self._answer(environ, number)
                if answer is not None:
                    data = answer.encode()
                    start_response("200 OK", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(data)))])  # fmt: skip
                    return [data]
        return self.app(environ, start_response)

    def _answer(self, environ: dict[str, Any], number: str | None) -> str | None:
        length = _content_length(environ)
        if not 0 <= length <= self.services.settings.max_body_bytes:
            return None  # chunked, or too large: Flask's to judge
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            if number is None:
                return _meta(self.services, body, environ)
            return _helpdesk(self.services, number, body, environ)
        except Exception:  # the view answers it again, refused or failed, as it always does
            logger.debug("webhook shortcut passed a request on to Flask", exc_info=True)
            return None


def _content_length(environ: dict[str, Any]) -> int:
    """The declared body length; -1 when there is none (chunked) or it is not a number."""
    try:
        return int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return -1
