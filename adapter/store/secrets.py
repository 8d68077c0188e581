"""Secrets at rest: access tokens and webhook secrets are stored in Redis encrypted with ENCRYPTION_KEY
(Fernet: AES-128-CBC + HMAC-SHA256), never as plain text."""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken

from adapter.errors import ConfigurationError

PREFIX = "enc:v1:"
HOW_TO_MAKE_A_KEY = (
    'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class SecretBox:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigurationError(f"ENCRYPTION_KEY is not a valid Fernet key; {HOW_TO_MAKE_A_KEY}") from None

    def seal(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode()).decode() if value else ""

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption was configured; sealed on the next save
        return self._decrypted(stored)

    @functools.lru_cache(maxsize=256)  # noqa: B019 (one box per process, kept for its life)
    def _decrypted(self, stored: str) -> str:
        """Memoized: every helpdesk webhook reads its channel's sealed secret, and decrypting it cost more than
        the rest of an ignored event's handling. A changed secret is a new token, so it is never stale."""
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise ConfigurationError("a stored secret cannot be decrypted: ENCRYPTION_KEY has changed") from None


def secret_box(key: str) -> SecretBox | None:
    return SecretBox(key) if key else None
