"""Lua scripts, run on a connection of the calling thread's own: the hot paths' one round trip.

Every webhook runs one script and every job several. redis-py's `Script` sends each call through the
client's whole command path: a checkout from the pool (with a poll of the socket), retry and deprecation
wrappers, observability hooks, the release. Under callgrind that is 206k instructions a call, against 80k
for the same EVALSHA written to a connection this thread keeps.

Anything unusual takes redis-py's path, unchanged: the embedded store, and a call whose connection failed
(retried there with the client's backoff, as before).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Sequence
from typing import Any, TypeAlias

import redis

from adapter.store.connection import Store, is_embedded

# A redis-py connection. Typed as Any: its send_command and read_response carry no annotations.
Connection: TypeAlias = Any


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


class Script:
    """A Lua script: `script(keys=[...], args=[...])` returns its reply, as redis-py's `Script` does."""

    def __init__(self, store: Store, source: str) -> None:
        self.source = source
        self._fallback = store.register_script(source)  # loads on NOSCRIPT, retries on connection errors
        self.sha: str = self._fallback.sha
        self._connections = None if is_embedded(store) else _connections_of(store)

    def __call__(self, keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> Any:
        if self._connections is not None:
            connection = self._connections.get()
            try:
                return self._run(connection, keys, args)
            except (redis.ConnectionError, redis.TimeoutError):
                connection.disconnect()  # the next call reconnects; this one goes redis-py's way, with its retries
            except redis.ResponseError:
                raise  # the script's own error: the connection is still in step
            except BaseException:
                connection.disconnect()  # interrupted between a command and its reply: never read a stale reply
                raise
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
