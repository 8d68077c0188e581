"""The error tree: every error the adapter raises, declared once.

Request errors carry their HTTP status and answer body (`error_body`); external API
errors carry whether a retry can succeed (read by the queue in one place).
"""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every error the adapter raises on purpose."""


class ConfigurationError(AdapterError):
    """Startup configuration is invalid; the message names every bad variable."""


# --- errors answered to a caller -------------------------------------------------------


class RequestError(AdapterError):
    http_status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(RequestError):
    http_status = 400
    code = "bad_request"


class Unauthorized(RequestError):
    http_status = 401
    code = "unauthorized"


class Forbidden(RequestError):
    http_status = 403
    code = "forbidden"


class NotFound(RequestError):
    http_status = 404
    code = "not_found"


class Conflict(RequestError):
    http_status = 409
    code = "conflict"


class PayloadTooLarge(RequestError):
    http_status = 413
    code = "request_entity_too_large"


class TooManyRequests(RequestError):
    http_status = 429
    code = "too_many_requests"


class StoreUnavailable(RequestError):
    """Redis cannot be reached: answer 503 so the sender retries, never 200."""

    http_status = 503
    code = "store_unavailable"


def error_body(exc: RequestError) -> dict[str, object]:
    """The JSON body every refusal is answered with."""
    body: dict[str, object] = {"error": exc.code, "message": exc.message}
    if exc.details is not None:
        body["details"] = exc.details
    return body


# --- errors from the APIs we call --------------------------------------------------------


class ExternalApiError(AdapterError):
    """A call to Graph or the helpdesk failed. `retryable` says whether trying again can work."""

    consumes_attempt = True  # whether a retry for this counts toward JOB_MAX_ATTEMPTS

    def __init__(
        self, message: str, *, retryable: bool, http_status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.http_status = http_status
        self.retry_after = retry_after

    def retry_delay(self, attempt: int) -> float | None:
        """How long the API asks us to wait before attempt `attempt + 1`; None = the default backoff."""
        return self.retry_after

    @property
    def explanation(self) -> str:
        """One line, in plain words, safe to show to agents."""
        return self.message


class NetworkError(ExternalApiError):
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} could not be reached ({reason})", retryable=True)


class GraphApiError(ExternalApiError):
    """An error answer from Meta's Graph API, by code (see meta/error_codes.py)."""

    def __init__(
        self,
        *,
        code: int,
        title: str,
        details: str = "",
        http_status: int | None = None,
        fbtrace_id: str | None = None,
        retryable: bool,
        explanation: str,
    ) -> None:
        super().__init__(f"({code}) {title}", retryable=retryable, http_status=http_status)
        self.code = code
        self.title = title
        self.details = details
        self.fbtrace_id = fbtrace_id
        self._explanation = explanation

    @property
    def explanation(self) -> str:
        return f"WhatsApp error {self.code}: {self._explanation}"

    def retry_delay(self, attempt: int) -> float | None:
        from adapter.meta.error_codes import retry_after_seconds

        return retry_after_seconds(self.code, attempt) if self.code else self.retry_after

    @property
    def certainly_not_sent(self) -> bool:
        """Meta refused before accepting anything (throttled or a 4xx): a resend cannot duplicate."""
        return self.http_status is not None and 400 <= self.http_status < 500


class Throttled(ExternalApiError):
    """Our own throughput shaping says wait. Waiting is not a failed attempt."""

    consumes_attempt = False

    def __init__(self, wait: float) -> None:
        super().__init__(f"throughput limit: waiting {wait:.1f}s", retryable=True, retry_after=wait)


class OutcomeUnknown(ExternalApiError):
    """An earlier attempt may have succeeded: wait for the evidence (a status webhook) before resending."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retryable=True, retry_after=retry_after)


class HelpdeskApiError(ExternalApiError):
    def __init__(self, *, http_status: int, message: str) -> None:
        retryable = http_status == 429 or http_status >= 500
        super().__init__(f"helpdesk answered {http_status}: {message}", retryable=retryable, http_status=http_status)


class PermanentJobError(AdapterError):
    """The job cannot succeed as it is (bad data, unknown channel); do not retry it."""
