"""Per-hour traffic counters of each number (messages in, out, failures by reason) for the last day.

One small Redis hash per number and hour (keys.hourly_stats), kept two days; the bridge calls the
record_* functions, the console reads `last_day`. A failed counter write never fails the message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from redis import RedisError

from adapter.store import keys
from adapter.store.connection import Store
from adapter.store.deferred import DeferredWrites
from adapter.store.replies import text_hash

logger = logging.getLogger(__name__)

HOUR = 3600
KEEP_SECONDS = 48 * HOUR
RECENT_FAILURES = 20
_REASON = re.compile(r"[^A-Za-z0-9 _.\-]+")


@dataclass(frozen=True)
class HourStats:
    hour: int  # Unix time // 3600
    inbound: int = 0
    outbound: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def _reason(reason: str) -> str:
    cleaned = _REASON.sub(" ", reason).strip()[:60]
    return cleaned or "unknown"


def _stage(pipe: Any, phone_number_id: str, at: float, counter: str, last: str | None) -> None:
    key = keys.hourly_stats(phone_number_id, int(at) // HOUR)
    pipe.hincrby(key, counter, 1)
    pipe.expire(key, KEEP_SECONDS)
    if last:
        pipe.hset(keys.last_traffic(phone_number_id), last, repr(float(at)))


def _bump(store: Store, phone_number_id: str, at: float, counter: str, last: str | None) -> None:
    try:
        pipe = store.pipeline(transaction=False)
        _stage(pipe, phone_number_id, at, counter, last)
        pipe.execute()
    except RedisError as exc:
        logger.warning("could not count %s for %s: %s", counter, phone_number_id, exc)


def record_inbound(store: Store, phone_number_id: str, at: float) -> None:
    """A customer message reached the number at `at` (Unix time)."""
    _bump(store, phone_number_id, at, "in", "in")


def count_inbound_later(deferred: DeferredWrites, phone_number_id: str, at: float) -> None:
    """record_inbound, written behind (store/deferred.py): one HINCRBY per hour and number each second, not one
    per message, on the workers' hot path."""
    deferred.hincrby(keys.hourly_stats(phone_number_id, int(at) // HOUR), "in", ttl=KEEP_SECONDS)
    deferred.hset(keys.last_traffic(phone_number_id), "in", repr(float(at)))


def record_outbound(store: Store, phone_number_id: str, at: float) -> None:
    """The number sent a message (Graph accepted it) at `at`."""
    _bump(store, phone_number_id, at, "out", "out")


def record_failure(store: Store, phone_number_id: str, reason: str, at: float) -> None:
    """A message of the number failed for `reason` (e.g. "131047" or "window closed")."""
    reason = _reason(reason)
    _bump(store, phone_number_id, at, f"fail:{reason}", None)
    try:
        pipe = store.pipeline(transaction=False)
        pipe.lpush(keys.recent_failures(phone_number_id), f"{float(at)!r} {reason}")
        pipe.ltrim(keys.recent_failures(phone_number_id), 0, RECENT_FAILURES - 1)
        pipe.execute()
    except RedisError as exc:
        logger.warning("could not record a failure for %s: %s", phone_number_id, exc)


def last_day(store: Store, phone_number_id: str, now: float) -> list[HourStats]:
    """The 24 hours up to and including the current one, oldest first (empty hours included)."""
    current = int(now) // HOUR
    hours = list(range(current - 23, current + 1))
    pipe = store.pipeline(transaction=False)
    for hour in hours:
        pipe.hgetall(keys.hourly_stats(phone_number_id, hour))
    result = []
    for hour, data in zip(hours, pipe.execute(), strict=True):
        failures = {name[5:]: int(count) for name, count in data.items() if name.startswith("fail:")}
        result.append(HourStats(hour, int(data.get("in", 0)), int(data.get("out", 0)), failures))
    return result


def last_traffic(store: Store, phone_number_id: str) -> dict[str, float]:
    """{"in": when it last received, "out": when it last sent}; a missing key = never."""
    return {k: float(v) for k, v in text_hash(store.hgetall(keys.last_traffic(phone_number_id))).items()}


def recent_failures(store: Store, phone_number_id: str) -> list[tuple[float, str]]:
    items = []
    for raw in store.lrange(keys.recent_failures(phone_number_id), 0, RECENT_FAILURES - 1):
        at, _, reason = str(raw).partition(" ")
        items.append((float(at), reason))
    return items
