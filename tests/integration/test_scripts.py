"""Lua scripts on the calling thread's own connection, on a real Redis: same replies as redis-py's Script, and
every unusual case (script cache flushed, connection killed, script error, fork, embedded store) handled."""

from __future__ import annotations

import gc
import os
import threading
import weakref

import fakeredis
import pytest
import redis

from adapter.store.scripts import Script, _connections_of

ECHO = "return {KEYS[1], ARGV[1], #ARGV}"
FAIL = "return redis.error_reply('refused by the script')"


def test_a_script_answers_as_redis_py_does(store: redis.Redis) -> None:
    ours = Script(store, ECHO)
    assert ours(keys=["k"], args=["a", "b"]) == store.register_script(ECHO)(keys=["k"], args=["a", "b"])
    assert ours(keys=["k"], args=["a", "b"]) == ["k", "a", 2]


def test_each_thread_keeps_one_connection_of_its_own(store: redis.Redis) -> None:
    connections = _connections_of(store)
    mine = connections.get()
    assert connections.get() is mine
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.append(connections.get()))
    thread.start()
    thread.join()
    assert theirs and theirs[0] is not mine


def test_a_flushed_script_cache_is_loaded_again(store: redis.Redis) -> None:
    script = Script(store, ECHO)
    assert script(keys=["k"], args=["1"]) == ["k", "1", 1]
    store.script_flush()
    assert script(keys=["k"], args=["2"]) == ["k", "2", 1]


def test_a_killed_connection_is_made_again_and_the_call_still_answers(store: redis.Redis) -> None:
    script = Script(store, ECHO)
    assert script(keys=["k"], args=["1"]) == ["k", "1", 1]
    connection = _connections_of(store).get()
    connection.send_command("CLIENT", "ID")
    own_id = connection.read_response()
    assert store.client_kill_filter(_id=own_id) == 1
    assert script(keys=["k"], args=["2"]) == ["k", "2", 1]
    assert script(keys=["k"], args=["3"]) == ["k", "3", 1]


def test_a_script_error_is_raised_and_the_next_call_gets_its_own_reply(store: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="refused by the script"):
        Script(store, FAIL)()
    assert Script(store, ECHO)(keys=["k"], args=["after"]) == ["k", "after", 1]


def test_a_forked_child_makes_its_own_connection_instead_of_sharing_its_parents_socket(store: redis.Redis) -> None:
    script = Script(store, ECHO)
    assert script(keys=["k"], args=["parent"]) == ["k", "parent", 1]
    parents = _connections_of(store).get()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        ok = _connections_of(store).get() is not parents and script(keys=["k"], args=["child"]) == ["k", "child", 1]
        os.write(write, b"ok" if ok else b"shared")
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read, "rb") as pipe:
        assert pipe.read() == b"ok"
    assert _connections_of(store).get() is parents
    assert script(keys=["k"], args=["parent again"]) == ["k", "parent again", 1]


def test_a_store_no_longer_used_is_freed_with_its_connections() -> None:
    from tests.conftest import TEST_REDIS_URL

    client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    assert Script(client, ECHO)(keys=["k"], args=["x"]) == ["k", "x", 1]
    pool = weakref.ref(client.connection_pool)
    del client
    gc.collect()
    assert pool() is None


def test_the_embedded_store_runs_scripts_through_redis_py() -> None:
    embedded = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    assert Script(embedded, ECHO)(keys=["k"], args=["x"]) == ["k", "x", 1]
