"""A consumer: one thread of a worker process, holding leases on some partitions.

Each live consumer heartbeats in `wa:workers`; the partitions are shared out evenly by leases
(`SET NX PX`) that expire when a consumer dies. A consumer that takes a partition over first
claims its pending entries (XAUTOCLAIM), so work in flight on a dead consumer is finished by
another one, in order. At-least-once: handlers are idempotent (dedupe marks, sent-part keys).
"""

from __future__ import annotations

import logging
import math
import random
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import redis

from adapter import messages
from adapter.clock import Clock
from adapter.errors import ExternalApiError, PermanentJobError
from adapter.queue.jobs import Job
from adapter.queue.queue import JobQueue
from adapter.queue.retry import backoff_seconds
from adapter.store import keys

logger = logging.getLogger(__name__)

Handler = Callable[[Job], None]
GiveUpHook = Callable[[Job, str], None]

DEFAULT_LEASE_SECONDS = 15.0

_RENEW = """
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    cap_seconds: float


@dataclass
class Consumer:
    queue: JobQueue
    handlers: Mapping[str, Handler]
    policy: RetryPolicy
    clock: Clock
    on_give_up: GiveUpHook | None = None
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}")
    block_ms: int = 1000
    batch: int = 20
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    held: set[int] = field(default_factory=set)
    _draining: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        store = self.queue.store
        self._renew = store.register_script(_RENEW)
        self._release = store.register_script(_RELEASE)

    # --- leases ----------------------------------------------------------------------

    def _live_consumers(self) -> int:
        store = self.queue.store
        now = self.clock.now()
        pipe = store.pipeline(transaction=False)
        pipe.zadd(keys.WORKERS, {self.name: now})
        pipe.zremrangebyscore(keys.WORKERS, "-inf", now - self.lease_seconds)
        pipe.zcard(keys.WORKERS)
        return max(1, int(pipe.execute()[2]))

    def rebalance(self) -> None:
        """Renew held leases, take free partitions up to a fair share, give back the excess."""
        ttl_ms = int(self.lease_seconds * 1000)
        for partition in list(self.held):
            if not self._renew(keys=[keys.lease(partition)], args=[self.name, ttl_ms]):
                self.held.discard(partition)
                self._draining.discard(partition)
        share = math.ceil(self.queue.partitions / self._live_consumers())
        if len(self.held) < share:
            candidates = [p for p in range(self.queue.partitions) if p not in self.held]
            random.shuffle(candidates)
            for partition in candidates:
                if len(self.held) >= share:
                    break
                if self.queue.store.set(keys.lease(partition), self.name, nx=True, px=ttl_ms):
                    self._take_over(partition)
        while len(self.held) > share:
            partition = self.held.pop()
            self._draining.discard(partition)
            self._release(keys=[keys.lease(partition)], args=[self.name])

    def _take_over(self, partition: int) -> None:
        stream = keys.stream(partition)
        try:
            self.queue.store.xgroup_create(stream, keys.CONSUMER_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        # Entries a previous holder read but never acked: ours now, handled first and in order.
        start = "0-0"
        while True:
            result = self.queue.store.xautoclaim(stream, keys.CONSUMER_GROUP, self.name, 0, start, count=100)
            start = result[0]
            if start in ("0-0", b"0-0"):
                break
        self.held.add(partition)
        self._draining.add(partition)

    def release_all(self) -> None:
        for partition in list(self.held):
            self._release(keys=[keys.lease(partition)], args=[self.name])
        self.held.clear()
        self.queue.store.zrem(keys.WORKERS, self.name)

    # --- the loop --------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        logger.info("consumer %s started", self.name)
        while not stop.is_set():
            try:
                self.run_once()
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # Redis lost our streams (restarted without persistence): take the partitions anew.
                logger.warning("consumer %s: queue streams are gone; recreating them", self.name)
                self.held.clear()
                self._draining.clear()
            except redis.RedisError as exc:
                logger.warning("consumer %s: store unavailable (%s); retrying", self.name, exc)
                stop.wait(1.0)
        self.release_all()
        logger.info("consumer %s stopped", self.name)

    def run_once(self) -> int:
        """One pass: rebalance, release due retries, handle what is waiting. Returns jobs handled."""
        self.rebalance()
        self.queue.release_due()
        if not self.held:
            threading.Event().wait(self.block_ms / 1000)
            return 0
        streams = {keys.stream(p): ("0" if p in self._draining else ">") for p in sorted(self.held)}
        block = None if self._draining else self.block_ms
        response = self.queue.store.xreadgroup(
            keys.CONSUMER_GROUP, self.name, streams, count=self.batch, block=block
        )
        handled = 0
        still_pending = set()
        for stream, entries in response or []:
            if entries:
                still_pending.add(stream)
            for entry_id, fields in entries:
                self._handle(stream, entry_id, fields)
                handled += 1
        for partition in list(self._draining):
            if keys.stream(partition) not in still_pending:
                self._draining.discard(partition)  # our pending list is empty: switch to new entries
        return handled

    def _handle(self, stream: str, entry_id: str, fields: Mapping[str, str]) -> None:
        if not fields or "job" not in fields:  # deleted entry still listed in the pending list
            self.queue.ack(stream, entry_id)
            return
        job = Job.from_json(fields["job"])
        if self.queue.is_parked(job.chat):
            self.queue.park(stream, entry_id, job, due=None, at_head=False)  # wait behind its chat
            return
        handler = self.handlers.get(job.kind)
        if handler is None:
            self._give_up(stream, entry_id, job, f"no handler for job kind {job.kind!r}")
            return
        try:
            handler(job)
        except PermanentJobError as exc:
            self._give_up(stream, entry_id, job, str(exc))
        except ExternalApiError as exc:
            if exc.retryable:
                self._retry(stream, entry_id, job, exc.message, exc.retry_delay(job.attempt))
            else:
                self._give_up(stream, entry_id, job, exc.message)
        except redis.RedisError:
            raise  # leave the entry pending; it is retried when the store is back
        except Exception as exc:  # a bug: keep the job, retry, then dead-letter with the trace
            logger.exception(messages.JOB_CRASHED, job.id, job.kind)
            trace = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self._retry(stream, entry_id, job, f"unexpected error: {trace}")
        else:
            self.queue.ack(stream, entry_id)

    def _retry(self, stream: str, entry_id: str, job: Job, error: str, wait: float | None = None) -> None:
        if job.attempt + 1 >= self.policy.max_attempts:
            self._give_up(stream, entry_id, job, error)
            return
        delay = wait if wait is not None else backoff_seconds(
            job.attempt, base=self.policy.base_seconds, cap=self.policy.cap_seconds
        )
        logger.warning(messages.JOB_RETRY, job.id, job.kind, job.attempt + 1, delay, error)
        self.queue.park(stream, entry_id, job.retried(error), due=self.clock.now() + delay, at_head=True)

    def _give_up(self, stream: str, entry_id: str, job: Job, error: str) -> None:
        logger.error(messages.JOB_DEAD, job.id, job.kind, job.attempt + 1, error)
        if self.on_give_up is not None:
            try:
                self.on_give_up(job, error)
            except Exception:  # the dead letter below is the record that matters
                logger.exception("job %s: could not report the failure", job.id)
        self.queue.bury(stream, entry_id, job, error)
