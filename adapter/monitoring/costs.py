"""What each message costs: Meta's `pricing` of every status, counted once per message, per number (by hour for
the last 24 hours, by UTC day for the last 30 days) and per helpdesk conversation, and kept per message.

Meta sends a message's pricing with `sent` and again with `delivered` (or `read`), and redelivers webhooks;
the first status with pricing counts, the others find the message counted. One Lua script does it all in one
round trip, so two workers handling two statuses of one message at once still count it once. Every key of a
script call is one number's ({<phone_number_id>} hash tag): on Redis Cluster the call stays in one slot.

Buckets are by the status's own time (when Meta says it happened), capped at the clock's now: a redelivery a
day late still lands in the hour the message went out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from adapter.clock import Clock
from adapter.meta.events import MessagePricing
from adapter.store import keys
from adapter.store.connection import Store
from adapter.store.replies import text_hash, texts

HOUR = 3600
DAY = 24 * HOUR
HOUR_BUCKET_TTL_SECONDS = 2 * DAY  # the last 24 hours are read by the hour
CONVERSATION_TTL_SECONDS = 400 * DAY  # a conversation's totals outlive a quiet month; refreshed on every count

# The counted mark says whether the conversation's attributes still have to be written ("pending") or not.
# KEYS: counted mark, pricing hash, day bucket, hour bucket[, conversation totals]
# ARGV: field ("billable:<category>" or "free:<type>"), ttl, hour ttl, category, type, billable (1/0),
#       pricing model, conversation ttl
# Returns {1 when counted now, else 0} and, while the conversation's attributes are pending, its totals.
_RECORD = """
local mark = redis.call("GET", KEYS[1])
if mark then
  if mark == "pending" and KEYS[5] then return {0, redis.call("HGETALL", KEYS[5])} end
  return {0}
end
redis.call("SET", KEYS[1], KEYS[5] and "pending" or "done", "EX", ARGV[2])
redis.call("HSET", KEYS[2], "category", ARGV[4], "type", ARGV[5], "billable", ARGV[6], "pricing_model", ARGV[7])
redis.call("EXPIRE", KEYS[2], ARGV[2])
redis.call("HINCRBY", KEYS[3], ARGV[1], 1)
redis.call("EXPIRE", KEYS[3], ARGV[2])
redis.call("HINCRBY", KEYS[4], ARGV[1], 1)
redis.call("EXPIRE", KEYS[4], ARGV[3])
if KEYS[5] then
  redis.call("HINCRBY", KEYS[5], ARGV[1], 1)
  redis.call("EXPIRE", KEYS[5], ARGV[8])
  return {1, redis.call("HGETALL", KEYS[5])}
end
return {1}
"""


@dataclass(frozen=True)
class CostTotals:
    """Messages counted, billable ones by category and free ones by type."""

    billable: dict[str, int] = field(default_factory=dict)
    free: dict[str, int] = field(default_factory=dict)

    @property
    def billable_count(self) -> int:
        return sum(self.billable.values())

    @property
    def free_count(self) -> int:
        return sum(self.free.values())

    @classmethod
    def of(cls, buckets: list[dict[str, str]]) -> CostTotals:
        billable: dict[str, int] = {}
        free: dict[str, int] = {}
        for bucket in buckets:
            for name, count in bucket.items():
                kind, _, label = name.partition(":")
                into = billable if kind == "billable" else free if kind == "free" else None
                if into is not None and label:
                    into[label] = into.get(label, 0) + int(count)
        return cls(dict(sorted(billable.items())), dict(sorted(free.items())))


@dataclass(frozen=True)
class Counted:
    """What recording a message's pricing did."""

    new: bool  # this call counted it (False: an earlier status or delivery did)
    pending: CostTotals | None = None  # its conversation's totals, while they are still to be written there


def counter_of(pricing: MessagePricing) -> str:
    """The bucket field a message counts in: billable ones by category, free ones by type."""
    return f"billable:{pricing.category}" if pricing.billable else f"free:{pricing.type}"


def day_of(at: float) -> str:
    return time.strftime("%Y%m%d", time.gmtime(at))


class CostLedger:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._record = store.register_script(_RECORD)

    def count(
        self, phone_number_id: str, wamid: str, conversation_id: int | None, pricing: MessagePricing,
        at: float | None = None,
    ) -> Counted:  # fmt: skip
        """Count the message's pricing at `at` (Unix time; the clock's now when None or later), once, in one round
        trip that also says whether its conversation's attributes are still to be written, and with what."""
        now = self.clock.now()
        when = now if at is None or at <= 0 or at > now else at
        names = [
            keys.cost_counted(phone_number_id, wamid),
            keys.cost_pricing(phone_number_id, wamid),
            keys.cost_day(phone_number_id, day_of(when)),
            keys.cost_hour(phone_number_id, int(when) // HOUR),
        ]
        if conversation_id is not None:
            names.append(keys.cost_conversation(phone_number_id, conversation_id))
        reply = self._record(
            keys=names,
            args=[counter_of(pricing), keys.COST_TTL_SECONDS, HOUR_BUCKET_TTL_SECONDS, pricing.category, pricing.type,
                  "1" if pricing.billable else "0", pricing.pricing_model, CONVERSATION_TTL_SECONDS],
        )  # fmt: skip
        if len(reply) < 2:
            return Counted(bool(int(reply[0])))
        flat = texts(reply[1])  # HGETALL inside Lua: [field, value, field, value, ...]
        return Counted(bool(int(reply[0])), CostTotals.of([dict(zip(flat[::2], flat[1::2], strict=True))]))

    def attributes_written(self, phone_number_id: str, wamid: str) -> None:
        """The message's conversation has its totals: later statuses of it need not write them again."""
        self.store.set(keys.cost_counted(phone_number_id, wamid), "done", xx=True, keepttl=True)

    def totals(self, phone_number_id: str, days: int) -> CostTotals:
        """The last 24 hours (`days` = 1: the current hour and the 23 before it, by the hour), or the last `days`
        UTC days (today and the days - 1 before it, by the day)."""
        now = self.clock.now()
        if days == 1:
            current = int(now) // HOUR
            names = [keys.cost_hour(phone_number_id, hour) for hour in range(current - 23, current + 1)]
        else:
            names = [keys.cost_day(phone_number_id, day_of(now - n * DAY)) for n in range(days)]
        pipe = self.store.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(name)
        return CostTotals.of([text_hash(bucket) for bucket in pipe.execute()])

    def conversation_totals(self, phone_number_id: str, conversation_id: int) -> CostTotals:
        return CostTotals.of([text_hash(self.store.hgetall(keys.cost_conversation(phone_number_id, conversation_id)))])

    def pricing_of(self, phone_number_id: str, wamid: str) -> MessagePricing | None:
        """What the message costs, once a status told it (kept 35 days)."""
        return self.pricing_of_many(phone_number_id, [wamid]).get(wamid)

    def pricing_of_many(self, phone_number_id: str, wamids: list[str]) -> dict[str, MessagePricing]:
        """pricing_of for several messages in one round trip; those not known are left out."""
        pipe = self.store.pipeline(transaction=False)
        for wamid in wamids:
            pipe.hgetall(keys.cost_pricing(phone_number_id, wamid))
        found = {wamid: _pricing(text_hash(data)) for wamid, data in zip(wamids, pipe.execute(), strict=True)}
        return {wamid: pricing for wamid, pricing in found.items() if pricing is not None}


def _pricing(data: dict[str, str]) -> MessagePricing | None:
    if not data:
        return None
    return MessagePricing(
        category=data.get("category", "unknown"), type=data.get("type", "unknown"),
        billable=data.get("billable") == "1", pricing_model=data.get("pricing_model", ""),
    )  # fmt: skip
