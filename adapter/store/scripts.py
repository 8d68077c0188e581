"""Lua scripts and MULTI/EXEC transactions, run on a connection of the calling thread's own: the hot paths'
round trips.

Every webhook runs one script and every job several, and a job's bookkeeping is one transaction. redis-py
sends each through the client's whole command path: a checkout from the pool (with a poll of the socket),
retry and deprecation wrappers, observability hooks, the release. Under callgrind that is 206k instructions
a script call, against 80k for the same EVALSHA written to a connection this thread keeps.

Anything unusual takes redis-py's path, unchanged: the embedded store, and a call whose connection failed
(retried there with the client's backoff, as before).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar

import redis
from redis.client import EMPTY_RESPONSE, NEVER_DECODE

from adapter.store.connection import Store, is_embedded

# A redis-py connection. Typed as Any: its send_command and read_response carry no annotations.
Connection: TypeAlias = Any
_T = TypeVar("_T")


class _ThreadConnections:
    """One connection per thread and process, made with the settings of the store's own pool."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self._make = pool.connection_class
        self._settings = pool.connection_kwargs
        self._local = threading.local()

    def get(self) -> Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # new thread, or a forked child: never share a socket
            local.connection = self._make(**self._settings)
            local.pid = os.getpid()
        return local.connection


# Keyed by the client, which nothing here refers to, so a client no longer used is freed with its connections.
# (Not by its pool: the connections' settings refer to the pool, which would then stay alive for ever.)
_by_store: weakref.WeakKeyDictionary[Store, _ThreadConnections] = weakref.WeakKeyDictionary()
_by_store_lock = threading.Lock()


def _connections_of(store: Store) -> _ThreadConnections:
    with _by_store_lock:
        found = _by_store.get(store)
        if found is None:
            found = _by_store[store] = _ThreadConnections(store.connection_pool)
        return found


class _ConnectionFailed(Exception):
    """The thread's own connection failed and was dropped: this call goes redis-py's way, with its retries."""


def _on_own_connection(connections: _ThreadConnections, exchange: Callable[[Connection], _T]) -> _T:
    """`exchange(connection)` on the calling thread's own connection, which never stays out of step."""
    connection = connections.get()
    try:
        return exchange(connection)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        connection.disconnect()  # the next call reconnects
        raise _ConnectionFailed from exc
    except redis.ResponseError:
        raise  # an error reply, read whole: the connection is still in step
    except BaseException:
        connection.disconnect()  # interrupted between a command and its reply: never read a stale reply
        raise


class Script:
    """A Lua script: `script(keys=[...], args=[...])` returns its reply, as redis-py's `Script` does."""

    def __init__(self, store: Store, source: str) -> None:
        self.source = source
        self._fallback = store.register_script(source)  # loads on NOSCRIPT, retries on connection errors
        self.sha: str = self._fallback.sha
        self._connections = None if is_embedded(store) else _connections_of(store)

    def __call__(self, keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> Any:
        if self._connections is not None:
            try:
                return _on_own_connection(self._connections, lambda connection: self._run(connection, keys, args))
            except _ConnectionFailed:
                pass
        return self._fallback(keys=keys, args=args)

    def _run(self, connection: Connection, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        connection.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
        try:
            return connection.read_response()
        except redis.exceptions.NoScriptError:  # a restarted Redis, or SCRIPT FLUSH: load it, then run it
            connection.send_command("SCRIPT", "LOAD", self.source)
            connection.read_response()
            connection.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
            return connection.read_response()


# Staged-command options that change how redis-py sends or reads a command: such a pipeline goes its way.
_UNUSUAL_OPTIONS = frozenset({EMPTY_RESPONSE, NEVER_DECODE})


def run_transaction(store: Store, pipe: redis.client.Pipeline) -> list[Any]:
    """`pipe.execute()` for a MULTI/EXEC pipeline of `store`, on the calling thread's own connection. Replies
    come back as redis-py gives them (its response callbacks applied); the first error reply is raised once
    every reply has been read, so the connection stays in step."""
    commands = pipe.command_stack
    if (
        # `transaction` read off the instance: the class has a method of that name
        is_embedded(store) or vars(pipe).get("transaction") is not True or pipe.watching or not commands
        or any(_UNUSUAL_OPTIONS & options.keys() for _, options in commands)
    ):  # fmt: skip
        return list(pipe.execute())
    staged = [args for args, _ in commands]
    try:
        replies = _on_own_connection(_connections_of(store), lambda own: _exchange_transaction(own, staged))
    except _ConnectionFailed:
        return list(pipe.execute())
    except redis.ResponseError:
        pipe.reset()
        raise
    pipe.reset()
    callbacks: Any = pipe.response_callbacks  # redis-py's case-insensitive dict, by command name
    results = []
    for reply, (args, options) in zip(replies, commands, strict=True):
        callback = callbacks.get(args[0])
        extra = {name: value for name, value in options.items() if name != "keys"}
        results.append(reply if callback is None else callback(reply, **extra))
    return results


def _exchange_transaction(connection: Connection, commands: list[tuple[Any, ...]]) -> list[Any]:
    connection.send_packed_command(connection.pack_commands([("MULTI",), *commands, ("EXEC",)]))
    queued_error: redis.ResponseError | None = None
    for _ in range(len(commands) + 1):  # MULTI's OK, then each command's QUEUED (or why it was refused)
        try:
            connection.read_response()
        except redis.ResponseError as exc:
            queued_error = queued_error or exc
    try:
        replies = connection.read_response()  # EXEC: every command's reply
    except redis.exceptions.ExecAbortError:
        raise queued_error or redis.exceptions.ExecAbortError("transaction discarded") from None
    if not isinstance(replies, list) or len(replies) != len(commands):
        raise redis.ConnectionError(f"EXEC answered {replies!r} to {len(commands)} commands")
    failed = next((reply for reply in replies if isinstance(reply, redis.ResponseError)), None)
    if failed is not None:
        raise failed
    return replies
