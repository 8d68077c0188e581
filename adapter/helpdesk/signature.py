"""X-Chatwoot-Signature: `sha256=` HMAC-SHA256 of "<X-Chatwoot-Timestamp>.<raw body>" with the inbox secret."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Chatwoot-Signature"
TIMESTAMP_HEADER = "X-Chatwoot-Timestamp"
DELIVERY_HEADER = "X-Chatwoot-Delivery"
MISMATCH = "signature does not match"


def generate_signature(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    *,
    signature: str | None,
    timestamp: str | None,
    now: float,
    max_age_seconds: float,
) -> str | None:
    """None when valid; otherwise the reason it is refused (stale timestamps included)."""
    if not signature or not timestamp:
        return "missing X-Chatwoot-Signature or X-Chatwoot-Timestamp"
    if not signature.isascii():
        return MISMATCH
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "X-Chatwoot-Timestamp is not a unix time"
    if abs(now - sent_at) > max_age_seconds:
        return "X-Chatwoot-Timestamp is outside the allowed window (stale or replayed)"
    if not secret or not hmac.compare_digest(generate_signature(secret, timestamp, body), signature.strip()):
        return MISMATCH
    return None
