"""Meta's signed event notifications (POST /webhooks/meta): every message, status and account change of a
verified webhook enqueued in one atomic step, each item once."""

from __future__ import annotations

import hmac

from adapter.errors import Forbidden, PayloadTooLarge, RequestError, Unauthorized
from adapter.json_body import parse_json_body
from adapter.meta import signature
from adapter.meta.ingest import jobs_from_webhook
from adapter.monitoring import payload_log
from adapter.services import Services
from adapter.webhooks.answer import Answer, Headers, refuse


def handle_meta_webhook(services: Services, body: bytes, headers: Headers) -> Answer:
    """Verify X-Hub-Signature-256, validate the envelope, enqueue each new item; refusals are answered with
    why (401, 400, 413, 503 when Redis is down, so Meta retries)."""
    try:
        return _accept(services, body, headers)
    except RequestError as exc:
        return refuse(services, "meta", "", body, exc)


def _accept(services: Services, body: bytes, headers: Headers) -> Answer:
    secret = services.settings.meta_app_secret
    if not secret:
        raise Unauthorized("META_APP_SECRET is not configured, so no webhook can be verified")
    if len(body) > services.settings.max_body_bytes:
        raise PayloadTooLarge(f"the body is larger than the {services.settings.max_body_bytes} byte limit")
    if not signature.verify_signature(secret, body, headers.get(signature.HEADER)):
        raise Unauthorized(f"missing or wrong {signature.HEADER}")
    # A lone surrogate (half an emoji) is kept: the payload is still stored and delivered.
    payload = parse_json_body(body, lone_surrogates=True)
    jobs = jobs_from_webhook(payload)
    enqueued = services.queue.enqueue_once(jobs)
    # Written behind, within a second: they need no atomicity with the enqueue (store/deferred.py).
    services.metrics.count("webhooks_received", result="accepted", source="meta")
    services.metrics.count("webhook_items", by=enqueued, result="enqueued", source="meta")
    services.metrics.count("webhook_items", by=len(jobs) - enqueued, result="duplicate", source="meta")
    answer = {"received": len(jobs), "enqueued": enqueued}
    payload_log.keep_accepted_meta(services.deferred, payload, body, services.clock.now(), answer)
    return Answer(200, answer)


def verify_subscription(services: Services, mode: str, token: str, challenge: str) -> str:
    """Meta's verification handshake (GET /webhooks/meta): the challenge to echo, or Forbidden."""
    expected = services.settings.meta_verify_token
    if not expected or mode != "subscribe" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Forbidden("verification failed: hub.mode must be 'subscribe' and hub.verify_token must match")
    return challenge
