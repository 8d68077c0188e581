"""A webhook's headers and answer, and what every handler does with a refusal: count it, keep it for
troubleshooting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from adapter.errors import RequestError, error_body
from adapter.monitoring import payload_log
from adapter.services import Services


class Headers(Protocol):
    """A request's headers, looked up case-insensitively (werkzeug's Headers, or any such mapping)."""

    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def refuse(services: Services, source: str, number: str, body: bytes, exc: RequestError) -> Answer:
    """The answer to a refused webhook, counted and kept (with why) for the Troubleshooting page."""
    answer = Answer(exc.http_status, error_body(exc))
    services.metrics.count("webhooks_received", result=str(answer.status), source=source)
    if answer.status >= 500:
        return answer  # Redis is what failed: there is nowhere to keep it
    parsed = payload_log.parse_body(body) if answer.status != 413 else None
    if source == "meta":
        numbers, items = payload_log.meta_items(parsed)
    else:
        numbers, items = [number], payload_log.helpdesk_items(number, parsed)
    record = payload_log.WebhookRecord(
        source=source,
        at=services.clock.now(),
        status=answer.status,
        verification=payload_log.verification_words(source, answer.status),
        outcome=payload_log.outcome_words(answer.status, answer.body),
        numbers=tuple(numbers),
        items=tuple(items),
        body=payload_log.body_excerpt(body),
    )
    payload_log.record(services.store, record)  # never fails the answer
    return answer
