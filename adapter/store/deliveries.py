"""Helpdesk webhook deliveries of events that act: each delivery id is accepted once (replay protection), in
one round trip that also counts the webhook. (Events that need nothing are not checked: see
webhooks/helpdesk.py.)"""

from __future__ import annotations

from adapter.store import keys
from adapter.store.connection import Store

# ARGV: delivery key (or "" when the helpdesk sent no id), ttl, metrics hash, metrics field. Returns 1 for a
# first delivery, 0 for a replay.
_ACCEPT = """
redis.call("HINCRBY", ARGV[3], ARGV[4], 1)
if ARGV[1] ~= "" and not redis.call("SET", ARGV[1], "1", "NX", "EX", ARGV[2]) then
  return 0
end
return 1
"""


class DeliveryGate:
    def __init__(self, store: Store, *, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds
        self._accept = store.register_script(_ACCEPT)

    def accept(self, delivery_id: str) -> bool:
        """Whether this delivery is new (and the webhook counted either way)."""
        argv: list[str | int] = [
            keys.delivery(delivery_id) if delivery_id else "", self.ttl_seconds,
            keys.metric("webhooks_received"), "result=verified,source=helpdesk",
        ]  # fmt: skip
        return bool(self._accept(args=argv))
