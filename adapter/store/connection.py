"""Open the Redis connection (a single Redis or a Redis Cluster), or the embedded in-process store when
REDIS_URL is unset."""

from __future__ import annotations

import logging
from typing import Any, TypeAlias

import redis

from adapter import messages

logger = logging.getLogger(__name__)

# A redis.Redis or redis.RedisCluster with decode_responses=True: both take the same commands, pipelines
# and scripts (every atomic step touches one slot: see keys.py).
Store: TypeAlias = redis.Redis | redis.RedisCluster

_OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "health_check_interval": 30,
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
}


def connect(redis_url: str) -> Store:
    """A client for REDIS_URL: a single Redis, or any node of a cluster (found by its INFO cluster, and then
    a RedisCluster client that follows the slots); with no URL, an embedded store that lives in this process
    only. rediss:// and passwords in the URL apply to either."""
    if redis_url:
        single = redis.Redis.from_url(redis_url, **_OPTIONS)
        if not _cluster_enabled(single):
            return single
        single.close()
        return redis.RedisCluster.from_url(redis_url, **_OPTIONS)
    import fakeredis  # only needed in embedded mode

    logger.warning(messages.EMBEDDED_STORE)
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


def _cluster_enabled(node: redis.Redis) -> bool:
    """Whether this node runs in cluster mode (it answers INFO cluster with cluster_enabled:1)."""
    try:
        return bool(node.info("cluster").get("cluster_enabled"))
    except redis.ConnectionError as exc:  # unreachable now: the client reconnects later, the web answers 503
        logger.warning(messages.STORE_MODE_UNKNOWN, exc)
        return False


def is_cluster(store: Store) -> bool:
    return isinstance(store, redis.RedisCluster)


def is_embedded(store: Store) -> bool:
    return type(store).__module__.startswith("fakeredis")
