"""Redis writes no caller waits for, written behind: metric counts, and the troubleshooting records of webhooks
that needed no action (the helpdesk's echo of every incoming message is most of them).

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
from collections.abc import Callable

from redis.client import Pipeline

from adapter.store.connection import Store

logger = logging.getLogger(__name__)

Write = Callable[[Pipeline], None]


class DeferredWrites:
    def __init__(self, store: Store, *, every: float = 1.0) -> None:
        self.store = store
        self.every = every
        self._lock = threading.Lock()
        self._writes: list[Write] = []
        self._drains: list[Write] = []  # buffers that aggregate in place (metrics), emptied into each flush
        self._flusher_pid: int | None = None
        self._stop = threading.Event()

    def add(self, write: Write) -> None:
        with self._lock:
            self._writes.append(write)
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
            writes, self._writes = self._writes, []
        try:
            pipe = self.store.pipeline(transaction=False)
            for write in (*writes, *self._drains):
                write(pipe)
            if len(pipe):
                pipe.execute()
        except Exception as exc:
            logger.warning("could not write %d buffered counts and records: %s", len(writes), exc)
