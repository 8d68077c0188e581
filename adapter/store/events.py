"""EventLog: short, capped lists of recent payloads an admin can read when troubleshooting.

Work is never kept here (that is the queue's job); this is the window onto what came in.
"""

from __future__ import annotations

import json
from typing import Any

from adapter.clock import Clock
from adapter.queue.jobs import Job
from adapter.store import keys
from adapter.store.connection import Store
from adapter.store.deferred import DeferredWrites

RECENT_LIMIT = 200


class EventLog:
    def __init__(self, store: Store, clock: Clock, deferred: DeferredWrites) -> None:
        self.store = store
        self.clock = clock
        self.deferred = deferred

    def record(self, source: str, item: dict[str, Any]) -> None:
        """Keep `item` as the latest of `source`."""
        key = keys.recent_events(source)
        pipe = self.store.pipeline(transaction=False)
        pipe.lpush(key, json.dumps({"at": self.clock.now(), **item}, ensure_ascii=False))
        pipe.ltrim(key, 0, RECENT_LIMIT - 1)
        pipe.execute()

    def record_later(self, source: str, item: dict[str, Any]) -> None:
        """`record`, written behind (store/deferred.py) with this process's other records of the second."""
        self.deferred.lpush_capped(
            keys.recent_events(source), json.dumps({"at": self.clock.now(), **item}, ensure_ascii=False), RECENT_LIMIT
        )

    def recent(self, source: str, count: int = 50) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.store.lrange(keys.recent_events(source), 0, count - 1)]

    # --- payloads for numbers we don't know: kept whole until an admin replays or clears them ---

    def keep_unrouted(self, job: Job) -> None:
        self.store.rpush(keys.UNROUTED, job.to_json(compact=False))  # whole: the admin API shows every field

    def unrouted(self, count: int = 100) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.store.lrange(keys.UNROUTED, 0, count - 1)]

    def take_unrouted(self) -> list[str]:
        pipe = self.store.pipeline(transaction=True)
        pipe.lrange(keys.UNROUTED, 0, -1)
        pipe.delete(keys.UNROUTED)
        items, _ = pipe.execute()
        return list(items)
