"""Redis writes no caller waits for, written behind: metric counts, the console's hourly counters and recent
events, and the troubleshooting records of webhooks that needed no action (the helpdesk's echo of every
incoming message is most of them).

They are buffered in this process and written together, in one pipeline, at least every `every` seconds, by
a daemon thread started on first use (and again in a forked child). A process that stops cleanly writes what
is left (`close`); one killed outright loses at most that last second of counts and records, never a
message, a job or a decision.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque
from collections.abc import Callable

from redis.client import Pipeline

from adapter.store.connection import Store

logger = logging.getLogger(__name__)

Write = Callable[[Pipeline], None]
# A list item given as text, or as what renders it: rendered at the flush, and only if it is still among the
# list's newest (under load most are pushed out before they are written, and are never rendered at all).
Item = str | Callable[[], str]


class DeferredWrites:
    def __init__(self, store: Store, *, every: float = 1.0) -> None:
        self.store = store
        self.every = every
        self._lock = threading.Lock()
        self._drains: list[Write] = []  # buffers that aggregate in place (metrics), emptied into each flush
        # Coalesced until the flush: one HINCRBY per field, one LPUSH per list, the last HSET of a field.
        self._increments: dict[tuple[str, str], int] = {}
        self._expiries: dict[str, int] = {}
        self._fields: dict[tuple[str, str], str] = {}
        self._pushes: dict[str, deque[Item]] = {}  # only a list's newest items: the rest would be trimmed
        self._lengths: dict[str, int] = {}  # each pushed list's length in Redis (its LTRIM)
        self._flusher_pid: int | None = None
        self._stop = threading.Event()

    def hincrby(self, key: str, field: str, amount: int = 1, *, ttl: int | None = None) -> None:
        """HINCRBY, summed per key and field until the flush; with `ttl`, the key's EXPIRE is set with it."""
        with self._lock:
            self._increments[(key, field)] = self._increments.get((key, field), 0) + amount
            if ttl is not None:
                self._expiries[key] = ttl
        self.ensure_flusher()

    def hset(self, key: str, field: str, value: str) -> None:
        """HSET of one field; of several before the flush, the last is written."""
        with self._lock:
            self._fields[(key, field)] = value
        self.ensure_flusher()

    def lpush_capped(self, key: str, value: Item, length: int, *, per_flush: int | None = None) -> None:
        """LPUSH onto a list kept to its newest `length` items: one LPUSH and one LTRIM per flush. No more than
        `length` wait here either, however long a flush is delayed. A callable `value` is rendered at the flush.

        With `per_flush`, a flush sends at most the newest `per_flush` items of a list, a sample of a busier
        second: one flush renders and writes no more than that however busy the process, and under load the list
        holds the last seconds of every process rather than the last fraction of a second of one."""
        with self._lock:
            pushed = self._pushes.get(key)
            if pushed is None:
                pushed = self._pushes[key] = deque(maxlen=min(length, per_flush or length))
                self._lengths[key] = length
            pushed.append(value)
        self.ensure_flusher()

    def drain_each_flush(self, drain: Write) -> None:
        """`drain` moves its buffer into the flush's pipeline (it keeps its own lock)."""
        self._drains.append(drain)

    def ensure_flusher(self) -> None:
        if self._flusher_pid != os.getpid():
            self.start_flusher(threading.Event())

    def start_flusher(self, stop: threading.Event) -> threading.Thread | None:
        """Start this process's flusher, which stops (after one last flush) once `stop` is set; None when one
        runs already. A forked child has no thread of its parent's, so it starts its own."""
        with self._lock:
            if self._flusher_pid == os.getpid():
                return None
            self._flusher_pid, self._stop = os.getpid(), stop
        thread = threading.Thread(target=self.run, args=(stop,), name="deferred-writes", daemon=True)
        thread.start()
        atexit.register(self.close)
        return thread

    def run(self, stop: threading.Event) -> None:
        """Flush every `every` seconds until `stop` is set, then once more."""
        while True:
            stopping = stop.wait(self.every)
            self.flush()
            if stopping:
                return

    def close(self) -> None:
        self._stop.set()
        self.flush()

    def flush(self) -> None:
        """Write what is buffered in one round trip. A failure is logged: these writes must never break a caller."""
        with self._lock:
            increments, self._increments = self._increments, {}
            expiries, self._expiries = self._expiries, {}
            fields, self._fields = self._fields, {}
            pushes, self._pushes = self._pushes, {}
        try:
            pipe = self.store.pipeline(transaction=False)
            for (key, field), amount in increments.items():
                pipe.hincrby(key, field, amount)
            for key, ttl in expiries.items():
                pipe.expire(key, ttl)
            for (key, field), value in fields.items():
                pipe.hset(key, field, value)
            for key, values in pushes.items():
                pipe.lpush(key, *(value if isinstance(value, str) else value() for value in values))
                pipe.ltrim(key, 0, self._lengths[key] - 1)  # a key's length never changes: read without the lock
            for drain in self._drains:
                drain(pipe)
            if len(pipe):
                pipe.execute()
        except Exception as exc:
            logger.warning("could not write the counts and records of the last second: %s", exc)
