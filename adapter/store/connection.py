"""Open the Redis connection, or the embedded in-process store when REDIS_URL is unset."""

from __future__ import annotations

import logging
from typing import TypeAlias

import redis

from adapter import messages

logger = logging.getLogger(__name__)

# A redis.Redis with decode_responses=True. Typed as Any: redis-py's stubs mix bytes and str replies.
Store: TypeAlias = redis.Redis


def connect(redis_url: str) -> Store:
    """A client for REDIS_URL; with no URL, an embedded store that lives in this process only."""
    if redis_url:
        return redis.Redis.from_url(
            redis_url, decode_responses=True, health_check_interval=30, socket_timeout=5, socket_connect_timeout=5
        )
    import fakeredis  # only needed in embedded mode

    logger.warning(messages.EMBEDDED_STORE)
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


def is_embedded(store: Store) -> bool:
    return type(store).__module__.startswith("fakeredis")
