"""MULTI/EXEC transactions on the calling thread's own connection (adapter.store.scripts.run_transaction), on a
real Redis: the replies redis-py gives, errors raised with the connection still in step, and redis-py's own
path wherever the short one does not apply."""

from __future__ import annotations

import fakeredis
import pytest
import redis

from adapter.store.scripts import _connections_of, run_transaction


def _staged(store: redis.Redis) -> redis.client.Pipeline:
    pipe = store.pipeline(transaction=True)
    pipe.hset("h", mapping={"a": 1, "b": "two"})
    pipe.expire("h", 60)
    pipe.set("claim", "x", nx=True, ex=30)
    pipe.set("claim", "y", nx=True, ex=30)
    pipe.lpush("l", "1", "2")
    pipe.ltrim("l", 0, 0)
    pipe.hgetall("h")
    pipe.zadd("z", {"m": 2.5})
    pipe.zrange("z", 0, -1, withscores=True)
    return pipe


def test_replies_are_those_redis_py_gives(store: redis.Redis) -> None:
    expected = _staged(store).execute()
    store.flushdb()
    pipe = _staged(store)
    assert run_transaction(store, pipe) == expected
    assert expected == [2, True, True, None, 2, True, {"a": "1", "b": "two"}, 1, [("m", 2.5)]]
    assert pipe.command_stack == []  # reset, as execute() leaves it


def test_it_runs_on_the_threads_own_connection(store: redis.Redis) -> None:
    connection = _connections_of(store).get()
    connection.send_command("CLIENT", "SETNAME", "own")
    connection.read_response()
    pipe = store.pipeline(transaction=True)
    pipe.client_getname()
    assert run_transaction(store, pipe) == ["own"]


def test_an_error_reply_is_raised_after_the_whole_exchange_and_the_next_call_answers(store: redis.Redis) -> None:
    store.set("text", "not a list")
    pipe = store.pipeline(transaction=True)
    pipe.set("before", "1")
    pipe.lpush("text", "x")  # WRONGTYPE at EXEC: the other commands still ran, as in redis-py
    pipe.set("after", "2")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        run_transaction(store, pipe)
    assert store.mget("before", "after") == ["1", "2"]
    pipe.incr("counter")
    assert run_transaction(store, pipe) == [1]


def test_a_command_refused_while_queued_discards_the_transaction(store: redis.Redis) -> None:
    pipe = store.pipeline(transaction=True)
    pipe.set("kept", "no")
    pipe.execute_command("NOSUCHCOMMAND", "x")
    with pytest.raises(redis.ResponseError, match="unknown command"):
        run_transaction(store, pipe)
    assert store.get("kept") is None  # EXECABORT: nothing ran
    pipe.set("kept", "yes")
    assert run_transaction(store, pipe) == [True]


def test_a_killed_connection_falls_back_to_redis_py_and_the_writes_land_once(store: redis.Redis) -> None:
    connection = _connections_of(store).get()
    connection.send_command("CLIENT", "ID")
    assert store.client_kill_filter(_id=connection.read_response()) == 1
    pipe = store.pipeline(transaction=True)
    pipe.incr("n")
    assert run_transaction(store, pipe) == [1]
    pipe.incr("n")
    assert run_transaction(store, pipe) == [2]


def test_pipelines_without_multi_and_the_embedded_store_take_redis_py_s_path(store: redis.Redis) -> None:
    plain = store.pipeline(transaction=False)
    plain.set("a", "1")
    plain.get("a")
    assert run_transaction(store, plain) == [True, "1"]
    embedded = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    pipe = embedded.pipeline(transaction=True)
    pipe.set("a", "1")
    pipe.get("a")
    assert run_transaction(embedded, pipe) == [True, "1"]
