"""Helpdesk webhook deliveries of events that act: each delivery id is accepted once (replay protection), in
one round trip that also counts the webhook. (Events that need nothing are not checked: see
webhooks/helpdesk.py.) The count and the mark are two keys of different slots, pipelined: neither depends on
the other."""

from __future__ import annotations

from adapter.store import keys
from adapter.store.connection import Store


class DeliveryGate:
    def __init__(self, store: Store, *, ttl_seconds: int) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    def accept(self, delivery_id: str) -> bool:
        """Whether this delivery is new (and the webhook counted either way)."""
        pipe = self.store.pipeline(transaction=False)
        pipe.hincrby(keys.metric("webhooks_received"), "result=verified,source=helpdesk", 1)
        if delivery_id:
            pipe.set(keys.delivery(delivery_id), "1", nx=True, ex=self.ttl_seconds)
        results = pipe.execute()
        return not delivery_id or bool(results[-1])
