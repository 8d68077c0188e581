"""Helpdesk webhook deliveries: each delivery id is accepted once (replay protection), in one round trip
that also counts the webhook and, when its answer is already known, keeps it for troubleshooting."""

from __future__ import annotations

from adapter.queue.queue import RequestLog
from adapter.store import keys
from adapter.store.connection import Store
from adapter.store.scripts import Script

# ARGV: delivery key (or "" when the helpdesk sent no id), ttl, metrics hash, metrics field, then a log list
# (or ""), the record's JSON and the log's length. Returns 1 for a first delivery, 0 for a replay; a replay
# writes no record here (its 409 is kept after the answer, like any refusal).
_ACCEPT = """
redis.call("HINCRBY", ARGV[3], ARGV[4], 1)
if ARGV[1] ~= "" and not redis.call("SET", ARGV[1], "1", "NX", "EX", ARGV[2]) then
  return 0
end
if ARGV[5] ~= "" then
  redis.call("LPUSH", ARGV[5], ARGV[6])
  redis.call("LTRIM", ARGV[5], 0, tonumber(ARGV[7]) - 1)
end
return 1
"""


class DeliveryGate:
    def __init__(self, store: Store, *, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds
        self._accept = Script(store, _ACCEPT)

    def accept(self, delivery_id: str, *, log: RequestLog | None = None, answer: str = "") -> bool:
        """Whether this delivery is new. With `log`, a new one is kept with `answer` in the same step."""
        record = (log.key, log.before + answer + log.after, log.length) if log is not None else ("", "", 1)
        argv = [
            keys.delivery(delivery_id) if delivery_id else "", self.ttl_seconds,
            keys.metric("webhooks_received"), "result=verified,source=helpdesk", *record,
        ]  # fmt: skip
        return bool(self._accept(args=argv))
