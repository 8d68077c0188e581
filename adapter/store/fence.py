"""Fencing tokens: a consumer that lost its lease can no longer write a chat's progress or send for it.

A partition's lease holds "<consumer>:<token>", the token a counter incremented on every acquisition, so
a holder that stalled past its lease (a GC pause, a stopped VM) and a new holder never hold the same
value. Every write that records progress (ack, park, bury, the outbound idempotency mark, the sent-part
record) runs in a transaction that WATCHes the lease and checks it still holds the writer's value: a
stale holder's write is refused with StaleLease, and the consumer drops the job and the partition at
once, leaving the entry to the new holder.

The job being run carries its fence in a context variable, so the repositories the handlers call (the
mappings of a send) are fenced without every function passing it on.

The lease and what a fenced transaction writes share the partition's hash tag (keys.py), so the WATCH and
the MULTI run in one slot of a cluster. The outbound idempotency mark lives in its chat's slot instead:
`fenced_mark` reads the lease in the same round trip as it sets the mark, and takes a fresh mark back
when the lease turned out to be another's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import redis

from adapter.store.connection import Store
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


def fenced(store: Store, fence: Fence | None, queue_commands: Callable[[Any], Any]) -> list[Any]:
    """Run the commands `queue_commands` adds to a transaction, only while `fence` still holds its lease.

    Without a fence (a handler run outside a consumer, in tests and tools) it is a plain transaction.
    Raises StaleLease when the lease holds another value, or changed before the transaction ran.
    """
    with store.pipeline(transaction=True) as pipe:
        if fence is not None:
            pipe.watch(fence.lease_key)
            if text(pipe.get(fence.lease_key) or "") != fence.holder:
                raise StaleLease(f"the lease {fence.lease_key} is no longer held by {fence.holder}")
            pipe.multi()
        queue_commands(pipe)
        try:
            return list(pipe.execute())
        except redis.WatchError:
            raise StaleLease(f"the lease {fence.lease_key if fence else ''} changed hands during the write") from None


def fenced_mark(store: Store, fence: Fence | None, key: str, value: str, ttl_seconds: int) -> tuple[bool, str | None]:
    """SET `key` NX (a mark taken before an outside call), only while `fence` holds its lease: (whether this
    call set it, the mark's value). One round trip: the lease is read in the same pipeline, and a mark this
    call set is deleted again when the lease is another's (raising StaleLease), so a stale holder leaves
    nothing behind but a moment's mark the new holder waits out."""
    pipe = store.pipeline(transaction=False)
    if fence is not None:
        pipe.get(fence.lease_key)
    pipe.set(key, value, nx=True, ex=ttl_seconds)
    pipe.get(key)
    *lease, fresh, current = pipe.execute()
    if fence is not None and text(lease[0] or "") != fence.holder:
        if fresh:
            store.delete(key)
        raise StaleLease(f"the lease {fence.lease_key} is no longer held by {fence.holder}")
    return bool(fresh), text(current) if current is not None else None
