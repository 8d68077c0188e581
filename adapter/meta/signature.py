"""X-Hub-Signature-256: HMAC-SHA256 of the raw request bytes with the Meta app secret."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"


def generate_signature(app_secret: str, body: bytes) -> str:
    """The header value Meta would send for `body` (tests sign with this too)."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(app_secret: str, body: bytes, header_value: str | None) -> bool:
    """True when `header_value` signs exactly these bytes. Never re-serialize JSON before calling."""
    if not app_secret or not header_value or not header_value.isascii():
        return False
    return hmac.compare_digest(generate_signature(app_secret, body), header_value.strip())
