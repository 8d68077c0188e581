"""Who may use the console: the session key, the admin password check, slowing failed sign-ins, CSRF tokens.

Every comparison is constant-time. The session key must be the same in every web process, so when
SESSION_SECRET is empty it is derived from the admin token and password (never random per process).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from adapter.clock import Clock
from adapter.settings import Settings
from adapter.store import keys
from adapter.store.connection import Store

FREE_ATTEMPTS = 3  # failures before sign-ins from a client are slowed down
MAX_DELAY_SECONDS = 300
FAILURE_MEMORY_SECONDS = 15 * 60


def signing_secret(settings: Settings) -> str:
    """SESSION_SECRET, or a key derived from ADMIN_TOKEN and ADMIN_PASSWORD; "" when none is set."""
    if settings.session_secret:
        return settings.session_secret
    material = f"{settings.admin_token}\0{settings.admin_password}"
    if material == "\0":
        return ""
    return hmac.new(b"whatsapp-adapter console session", material.encode(), hashlib.sha256).hexdigest()


def password_login_enabled(settings: Settings) -> bool:
    return bool(settings.admin_password)


def check_password(settings: Settings, username: str, password: str) -> bool:
    """Both compared in constant time, always both, so timing tells nothing about which one was wrong."""
    if not settings.admin_password:
        return False
    name_ok = hmac.compare_digest(username.encode(), settings.admin_username.encode())
    password_ok = hmac.compare_digest(password.encode(), settings.admin_password.encode())
    return name_ok and password_ok


@dataclass(frozen=True)
class Throttle:
    """Failed sign-ins per client: after FREE_ATTEMPTS, each further attempt waits twice as long."""

    store: Store
    clock: Clock

    def wait_seconds(self, client: str) -> int:
        """How long this client must wait before its next attempt (0 = may try now)."""
        data = self.store.hgetall(keys.login_failures(client))
        failures = int(data.get("count", 0))
        if failures < FREE_ATTEMPTS:
            return 0
        delay = min(2 ** (failures - FREE_ATTEMPTS), MAX_DELAY_SECONDS)
        remaining = float(data.get("last", 0)) + delay - self.clock.now()
        return max(0, int(remaining + 0.999))

    def record_failure(self, client: str) -> None:
        key = keys.login_failures(client)
        pipe = self.store.pipeline(transaction=True)
        pipe.hincrby(key, "count", 1)
        pipe.hset(key, "last", repr(self.clock.now()))
        pipe.expire(key, FAILURE_MEMORY_SECONDS)
        pipe.execute()

    def reset(self, client: str) -> None:
        self.store.delete(keys.login_failures(client))


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
