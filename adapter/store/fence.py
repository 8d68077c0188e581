"""Fencing tokens: a consumer that lost its lease can no longer write a chat's progress or send for it.

A partition's lease holds "<consumer>:<token>", the token a counter incremented on every acquisition, so
a holder that stalled past its lease (a GC pause, a stopped VM) and a new holder never hold the same
value. Every write that records progress (ack, park, bury, the outbound idempotency mark, the sent-part
record) runs in a transaction that WATCHes the lease and checks it still holds the writer's value: a
stale holder's write is refused with StaleLease, and the consumer drops the job and the partition at
once, leaving the entry to the new holder.

The job being run carries its fence in a context variable, so the repositories the handlers call (the
mappings of a send) are fenced without every function passing it on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from redis.client import Pipeline

from adapter.store.replies import text

T = TypeVar("T")


class StaleLease(Exception):
    """This consumer's lease on the partition was taken over: stop, write nothing more for its chats."""


@dataclass(frozen=True)
class Fence:
    lease_key: str
    holder: str  # "<consumer>:<token>", the lease's value while we hold it


_current: ContextVar[Fence | None] = ContextVar("fence", default=None)


@contextlib.contextmanager
def running_under(fence: Fence | None) -> Iterator[None]:
    """Run a job's handler with its partition's fence, for the fenced writes it makes."""
    token = _current.set(fence)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> Fence | None:
    return _current.get()


def fenced(store: redis.Redis, fence: Fence | None, queue_commands: Callable[[Pipeline], Any]) -> list[Any]:
    """Run the commands `queue_commands` adds to a transaction, only while `fence` still holds its lease.

    Without a fence (a handler run outside a consumer, in tests and tools) it is a plain transaction.
    Raises StaleLease when the lease holds another value, or changed before the transaction ran.
    """
    with store.pipeline(transaction=True) as pipe:
        if fence is not None:
            pipe.watch(fence.lease_key)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            if text(pipe.get(fence.lease_key) or "") != fence.holder:
                raise StaleLease(f"the lease {fence.lease_key} is no longer held by {fence.holder}")
            pipe.multi()
        queue_commands(pipe)
        try:
            return list(pipe.execute())
        except redis.WatchError:
            raise StaleLease(f"the lease {fence.lease_key if fence else ''} changed hands during the write") from None
