"""A consumer: one thread of a worker process, holding leases on some partitions.

Each live consumer heartbeats in `wa:workers`; the partitions are shared out evenly by leases
(`SET NX PX`) that expire when a consumer dies. A consumer that takes a partition over first
claims its pending entries (XAUTOCLAIM), so work in flight on a dead consumer is finished by
another one, in order. At-least-once: handlers are idempotent (dedupe marks, sent-part keys).

A job that must be tried again later is parked at the head of its chat's list; the chat's later
entries are appended behind it, and when it is due its leaseholder drains the list in place, so a
chat's messages always run in the order they arrived.

Each lease carries a fencing token (queue/fence.py): a consumer that stalled past its lease finds its
acks, parks and sends refused, drops the partition and leaves the entry to the new holder.
"""

from __future__ import annotations

import logging
import math
import random
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

import redis
from redis.typing import KeyT, StreamIdT

from adapter import messages
from adapter.clock import Clock
from adapter.errors import ExternalApiError, PermanentJobError
from adapter.ids import new_id
from adapter.logs import log_context
from adapter.metrics import Metrics
from adapter.queue.jobs import Job
from adapter.queue.queue import JobQueue
from adapter.queue.retry import backoff_seconds
from adapter.store import keys
from adapter.store.connection import is_cluster
from adapter.store.fence import Fence, StaleLease, running_under

logger = logging.getLogger(__name__)

Handler = Callable[[Job], None]
GiveUpHook = Callable[[Job, str], None]
StreamReply = list[tuple[str, list[tuple[str, Mapping[str, str] | None]]]]  # XREADGROUP's: entries per stream

DEFAULT_LEASE_SECONDS = 15.0
# After a fault of the consumer's own (a bug, not the store's state) the next pass waits longer each time, up to
# this: a fault that repeats is logged with its traceback this often, not every second.
MAX_FAULT_PAUSE_SECONDS = 30.0
# On a cluster each partition's stream is read on its own (one XREADGROUP cannot span slots, and a blocking
# read holds its connection), so an idle consumer polls its partitions this often instead of blocking.
CLUSTER_POLL_SECONDS = 0.05

# KEYS: the lease, its acquisition counter; ARGV: consumer name, ttl ms. The holder value, or false if taken.
_ACQUIRE = """
if redis.call("EXISTS", KEYS[1]) == 1 then return false end
local holder = ARGV[1] .. ":" .. redis.call("INCR", KEYS[2])
redis.call("SET", KEYS[1], holder, "PX", ARGV[2])
return holder
"""
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
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{new_id(4)}")
    block_ms: int = 1000
    batch: int = 20
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    metrics: Metrics | None = None
    held: set[int] = field(default_factory=set)
    _draining: set[int] = field(default_factory=set)
    _holders: dict[int, str] = field(default_factory=dict)  # partition -> our lease value, with its token

    def __post_init__(self) -> None:
        store = self.queue.store
        self._acquire = store.register_script(_ACQUIRE)
        self._renew = store.register_script(_RENEW)
        self._release = store.register_script(_RELEASE)

    def fence_of(self, partition: int) -> Fence | None:
        holder = self._holders.get(partition)
        return Fence(keys.lease(partition), holder) if holder is not None else None

    def _drop(self, partition: int) -> None:
        """The lease is gone (expired, or taken over): stop working for its chats at once."""
        self.held.discard(partition)
        self._draining.discard(partition)
        self._holders.pop(partition, None)

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
            if not self._renew(keys=[keys.lease(partition)], args=[self._holders.get(partition, ""), ttl_ms]):
                self._drop(partition)
        share = math.ceil(self.queue.partitions / self._live_consumers())
        if len(self.held) < share:
            candidates = [p for p in range(self.queue.partitions) if p not in self.held]
            random.shuffle(candidates)
            for partition in candidates:
                if len(self.held) >= share:
                    break
                holder = self._acquire(keys=[keys.lease(partition), keys.fence(partition)], args=[self.name, ttl_ms])
                if holder:
                    self._holders[partition] = str(holder)
                    self._take_over(partition)
        while len(self.held) > share:
            partition = next(iter(self.held))
            self._release(keys=[keys.lease(partition)], args=[self._holders.get(partition, "")])
            self._drop(partition)

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
            self._release(keys=[keys.lease(partition)], args=[self._holders.get(partition, "")])
            self._drop(partition)
        self.queue.store.zrem(keys.WORKERS, self.name)

    # --- the loop --------------------------------------------------------------------

    def renew_leases(self) -> None:
        """Keep our leases while a long job runs; a partition whose lease was lost is dropped at once."""
        ttl_ms = int(self.lease_seconds * 1000)
        for partition in list(self.held):
            if not self._renew(keys=[keys.lease(partition)], args=[self._holders.get(partition, ""), ttl_ms]):
                self._drop(partition)

    def _keep_leases(self, stop: threading.Event) -> None:
        while not stop.wait(self.lease_seconds / 3):
            try:
                self.renew_leases()
                self.queue.store.zadd(keys.WORKERS, {self.name: self.clock.now()})
            except redis.RedisError:
                pass  # the main loop reports the store's state

    def run(self, stop: threading.Event) -> None:
        logger.info("consumer %s started", self.name)
        done = threading.Event()
        threading.Thread(target=self._keep_leases, args=(done,), name=f"lease-{self.name}", daemon=True).start()
        try:
            self._loop(stop)
        finally:
            done.set()

    def _loop(self, stop: threading.Event) -> None:
        """Run passes until `stop`. No error ends the thread: a consumer that stopped would leave its process
        running with its partitions' jobs unhandled until their leases expired."""
        faults = 0
        while not stop.is_set():
            try:
                self.run_once()
                faults = 0
            except redis.ResponseError as exc:
                if "NOGROUP" in str(exc):
                    # Redis lost our streams (restarted without persistence): take the partitions anew.
                    logger.warning("consumer %s: queue streams are gone; recreating them", self.name)
                    for partition in list(self.held):
                        self._drop(partition)
                else:  # CLUSTERDOWN or TRYAGAIN in a failover, READONLY from a demoted master, OOM: they pass
                    logger.warning("consumer %s: the store answered %s; retrying in 1s", self.name, exc)
                    self._pause(stop, 1.0)
            except redis.RedisError as exc:
                logger.warning("consumer %s: store unavailable (%s); retrying in 1s", self.name, exc)
                self._pause(stop, 1.0)
            except Exception:
                faults += 1
                pause = min(MAX_FAULT_PAUSE_SECONDS, 2.0 ** (faults - 1))
                logger.exception("consumer %s: unexpected error; pending entries run again in %gs", self.name, pause)
                self._pause(stop, pause)
        try:
            self.release_all()
        except redis.RedisError:  # the store is away (a failover): our leases expire on their own
            logger.warning("consumer %s: could not release its leases; they expire", self.name)
        logger.info("consumer %s stopped", self.name)

    def _pause(self, stop: threading.Event, seconds: float) -> None:
        # An entry being handled when the pass broke off is still in our pending list: read it again first (new
        # entries only come after it).
        self._draining |= self.held
        stop.wait(seconds)

    def run_once(self) -> int:
        """One pass: rebalance, run due parked chats, handle what is waiting. Returns jobs handled."""
        self.rebalance()
        handled = sum(self._drain(chat) for chat in self.queue.due_chats(self.held))
        if not self.held:
            threading.Event().wait(self.block_ms / 1000)
            return handled
        streams: dict[KeyT, StreamIdT] = {
            keys.stream(p): ("0" if p in self._draining else ">") for p in sorted(self.held)
        }
        block = None if (self._draining or handled) else self.block_ms
        response = self._read(streams, block)
        handled += self._handle_batch(response)
        still_pending = {stream for stream, entries in response or [] if entries}
        for partition in list(self._draining):
            if keys.stream(partition) not in still_pending:
                self._draining.discard(partition)  # our pending list is empty: switch to new entries
        return handled

    def _read(self, streams: dict[KeyT, StreamIdT], block: int | None) -> StreamReply:
        """XREADGROUP of our partitions' streams: one command on a single Redis; on a cluster one per
        partition, in one pipeline, polled until something comes or `block` ms have passed."""
        store = self.queue.store
        if not is_cluster(store):
            reply = store.xreadgroup(keys.CONSUMER_GROUP, self.name, streams, count=self.batch, block=block)
            return cast(StreamReply | None, reply) or []
        until = time.monotonic() + (block or 0) / 1000
        while True:
            pipe = store.pipeline(transaction=False)
            for stream, last in streams.items():
                pipe.xreadgroup(keys.CONSUMER_GROUP, self.name, {stream: last}, count=self.batch)
            response = [read for reply in pipe.execute() for read in cast(StreamReply | None, reply) or []]
            if any(entries for _, entries in response) or time.monotonic() >= until:
                return response
            threading.Event().wait(CLUSTER_POLL_SECONDS)

    def _handle_batch(self, response: StreamReply) -> int:
        """Handle one XREADGROUP reply: one round trip finds its parked chats, one acks what was done."""
        jobs = [(stream, [(entry_id, _job_of(fields)) for entry_id, fields in entries]) for stream, entries in response]
        parked = self.queue.parked_among(job.chat for _, entries in jobs for _, job in entries if job is not None)
        handled = 0
        for stream, entries in jobs:
            partition = keys.partition_of_stream(stream)
            batch = _Batch(self.queue, parked, stream, self.fence_of(partition))
            try:
                for entry_id, job in entries:
                    if partition not in self.held:
                        break  # lease lost (we were too slow): its new holder takes these entries over
                    self._handle_entry(batch, entry_id, job)
                    handled += 1
                # Also when a store error broke the batch off: what was done need not run again. Should this fail
                # too, those entries stay pending and run again once the store is back (handlers are idempotent).
                batch.flush()
            except StaleLease as exc:
                logger.warning("consumer %s: %s; leaving partition %d to its new holder", self.name, exc, partition)
                self._drop(partition)
            except redis.RedisError:
                try:
                    batch.flush()
                except StaleLease:  # the lease ran out while the store was away (a failover): the new holder
                    self._drop(partition)  # runs those entries again; the loop reports the store's error
                raise
        return handled

    def _handle_entry(self, batch: _Batch, entry_id: str, job: Job | None) -> None:
        if job is None:
            batch.ack(entry_id)
            return
        if job.chat in batch.parked:
            batch.park(entry_id, job, due=None)  # wait behind the chat's earlier messages
            return
        outcome = self._run(job)
        if outcome.done:
            batch.ack(entry_id)
        elif outcome.dead_error is not None:
            batch.bury(entry_id, job, outcome.dead_error)
        else:
            batch.park(entry_id, outcome.job, due=self.clock.now() + outcome.delay)

    def _drain(self, chat: str) -> int:
        """Run a due chat's parked jobs in order, from its list, until one must wait again."""
        partition = self.queue.partition_of(chat)
        try:
            return self._drain_held(chat, partition)
        except StaleLease as exc:
            logger.warning("consumer %s: %s; leaving partition %d to its new holder", self.name, exc, partition)
            self._drop(partition)
            return 0

    def _drain_held(self, chat: str, partition: int) -> int:
        handled = 0
        while (head := self.queue.parked_head(chat)) is not None:
            fence = self.fence_of(partition)
            if partition not in self.held:
                return handled
            outcome = self._run(head)
            handled += 1
            if outcome.done or outcome.dead_error is not None:
                if not self.queue.pop_parked(chat, outcome.dead_error, head, fence=fence):
                    return handled
            else:
                self.queue.reschedule_parked(chat, outcome.job, self.clock.now() + outcome.delay, fence=fence)
                return handled
        self.queue.pop_parked(chat, fence=self.fence_of(partition))  # an empty list left: unschedule the chat
        return handled

    def _run(self, job: Job) -> Outcome:
        fence = self.fence_of(self.queue.partition_of(job.chat))
        with log_context(job=job.id, kind=job.kind, chat=job.chat), running_under(fence):
            outcome = self._attempt(job)
        if self.metrics is not None:
            result = "done" if outcome.done else ("dead" if outcome.dead_error is not None else "retry")
            self.metrics.count("jobs", kind=job.kind, outcome=result)
        return outcome

    def _attempt(self, job: Job) -> Outcome:
        """Run the job's handler and decide what happens next; errors are classified here, once."""
        handler = self.handlers.get(job.kind)
        if handler is None:
            return self._dead(job, f"no handler for job kind {job.kind!r}")
        try:
            handler(job)
        except StaleLease:
            raise  # the new leaseholder runs it; this consumer must write nothing more for the chat
        except PermanentJobError as exc:
            return self._dead(job, str(exc))
        except ExternalApiError as exc:
            if exc.retryable and not exc.consumes_attempt:  # throughput shaping: wait, don't count it
                return Outcome(job=job, delay=exc.retry_delay(job.attempt) or 1.0)
            if exc.retryable:
                return self._retry(job, exc.message, exc.retry_delay(job.attempt))
            return self._dead(job, exc.message)
        except redis.RedisError:
            raise  # leave the entry pending; it is retried when the store is back
        except Exception as exc:  # a bug: keep the job, retry, then dead-letter with the trace
            logger.exception(messages.JOB_CRASHED, job.id, job.kind)
            trace = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return self._retry(job, f"unexpected error: {trace}", None)
        return Outcome(job=job, done=True)

    def _retry(self, job: Job, error: str, wait: float | None) -> Outcome:
        if job.attempt + 1 >= self.policy.max_attempts:
            return self._dead(job, error)
        delay = wait if wait is not None else backoff_seconds(
            job.attempt, base=self.policy.base_seconds, cap=self.policy.cap_seconds
        )
        logger.warning(messages.JOB_RETRY, job.id, job.kind, job.attempt + 1, delay, error)
        return Outcome(job=job.retried(error), delay=delay)

    def _dead(self, job: Job, error: str) -> Outcome:
        logger.error(messages.JOB_DEAD, job.id, job.kind, job.attempt + 1, error)
        if self.on_give_up is not None:
            try:
                self.on_give_up(job, error)
            except Exception:  # the dead letter is the record that matters
                logger.exception("job %s: could not report the failure", job.id)
        return Outcome(job=job, dead_error=error)


@dataclass(frozen=True)
class Outcome:
    """What happens to a job after a run: done, dead (with its error), or again after `delay` seconds."""

    job: Job
    done: bool = False
    dead_error: str | None = None
    delay: float = 0.0


def _job_of(fields: Mapping[str, str] | None) -> Job | None:
    """An entry's job; None for a deleted entry still listed in the pending list (it is only acked)."""
    return Job.from_json(fields["job"]) if fields and "job" in fields else None


@dataclass
class _Batch:
    """One stream's entries of an XREADGROUP reply, as their handling sees the queue. `parked` (the chats
    parked when it was read) is kept current here: only a partition's leaseholder parks its chats. Done
    entries are acked together at the end, or with the next park or bury: in the same step, so that after
    a crash no done entry is run again behind a later job of its chat that was parked. Every write is
    fenced by the partition's lease."""

    queue: JobQueue
    parked: set[str]
    stream: str
    fence: Fence | None
    acks: list[str] = field(default_factory=list)

    def ack(self, entry_id: str) -> None:
        self.acks.append(entry_id)

    def park(self, entry_id: str, job: Job, *, due: float | None) -> None:
        self.queue.park(self.stream, entry_id, job, due=due, also_ack={self.stream: self.acks}, fence=self.fence)
        self.acks = []
        self.parked.add(job.chat)

    def bury(self, entry_id: str, job: Job, error: str) -> None:
        self.queue.bury(self.stream, entry_id, job, error, also_ack={self.stream: self.acks}, fence=self.fence)
        self.acks = []

    def flush(self) -> None:
        self.queue.ack({self.stream: self.acks}, fence=self.fence)
        self.acks = []
