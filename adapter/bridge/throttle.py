"""Outbound throughput shaping, shared by every worker through Redis: a token bucket per number (Meta's
80 messages/s by default) and one per customer on that number (Meta's pair rate: about one message per
6 s, short bursts allowed). A send that would exceed either waits; it is never failed for it."""

from __future__ import annotations

from dataclasses import dataclass

from adapter.clock import Clock
from adapter.store import keys
from adapter.store.connection import Store

# KEYS: bucket hashes. ARGV: now, then (rate per second, capacity) per key. Takes one token from every
# bucket, or none; returns 0, or the seconds to wait (as a string) until all of them have one.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local wait = 0
local levels = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local capacity = tonumber(ARGV[2 * i + 1])
  local state = redis.call("HMGET", key, "tokens", "at")
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local capacity = tonumber(ARGV[2 * i + 1])
  redis.call("HSET", key, "tokens", levels[i] - 1, "at", now)
  redis.call("EXPIRE", key, math.ceil(capacity / rate) + 60)
end
return "0"
"""


@dataclass(frozen=True)
class Limits:
    number_per_second: float = 80.0
    pair_per_second: float = 1 / 6
    pair_burst: int = 10


class Throttle:
    def __init__(self, store: Store, clock: Clock, limits: Limits) -> None:
        self.clock = clock
        self.limits = limits
        self._acquire = store.register_script(_ACQUIRE)

    def acquire(self, phone_number_id: str, customer: str) -> float:
        """Take a send slot for this number and customer: 0.0, or the seconds to wait before trying again."""
        limits = self.limits
        wait = self._acquire(
            keys=[keys.rate(phone_number_id), keys.rate(phone_number_id, customer)],  # one slot: the number's
            args=[
                repr(self.clock.now()),
                limits.number_per_second, max(1.0, limits.number_per_second),
                limits.pair_per_second, limits.pair_burst,
            ],
        )
        return float(wait)
