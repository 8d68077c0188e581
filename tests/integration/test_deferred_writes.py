"""DeferredWrites on a real Redis: coalesced in the process, written in one round trip each flush, by a
flusher started on first use, and at close."""

from __future__ import annotations

from collections.abc import Callable

import redis

from adapter.store.deferred import DeferredWrites
from tests.conftest import RoundTrips, wait_for


def test_writes_are_coalesced_and_sent_in_one_round_trip(store: redis.Redis, round_trips: RoundTrips) -> None:
    deferred = DeferredWrites(store, every=3600)  # the flusher waits an hour: only flush() writes
    for n in range(5):
        deferred.hincrby("h", "in", ttl=60)
        deferred.hset("last", "in", str(n))
        deferred.lpush_capped("recent", f"item {n}", 3)
    deferred.hincrby("h", "out", 2)
    assert store.exists("h", "last", "recent") == 0
    round_trips.count = 0
    deferred.flush()
    assert round_trips.count == 1
    assert store.hgetall("h") == {"in": "5", "out": "2"} and 0 < store.ttl("h") <= 60
    assert store.hget("last", "in") == "4"
    assert store.lrange("recent", 0, -1) == ["item 4", "item 3", "item 2"]  # newest first, capped
    round_trips.count = 0
    deferred.flush()
    assert round_trips.count == 0  # nothing buffered: no round trip
    deferred.close()


def test_the_flusher_starts_on_first_use_and_close_writes_what_is_left(store: redis.Redis) -> None:
    deferred = DeferredWrites(store, every=0.1)
    deferred.hincrby("h", "in")
    assert wait_for(lambda: store.hget("h", "in"), timeout=2, message="written by the flusher") == "1"
    slow = DeferredWrites(store, every=3600)
    slow.lpush_capped("recent", "kept at exit", 10)
    slow.close()
    assert store.lrange("recent", 0, -1) == ["kept at exit"]
    deferred.close()


def test_redis_down_loses_only_the_buffered_second_and_never_raises() -> None:
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    deferred = DeferredWrites(dead, every=3600)
    deferred.hincrby("h", "in")
    deferred.flush()  # logged, not raised
    deferred.close()


def test_a_capped_list_holds_no_more_than_its_length_while_it_waits(store: redis.Redis) -> None:
    deferred = DeferredWrites(store, every=3600)
    for n in range(10_000):
        deferred.lpush_capped("recent", f"item {n}", 200)
    assert len(deferred._pushes["recent"]) == 200  # a delayed flush does not let the buffer grow
    deferred.flush()
    assert store.llen("recent") == 200 and store.lindex("recent", 0) == "item 9999"
    deferred.close()


def test_a_flush_writes_at_most_per_flush_items_and_the_list_keeps_its_length(store: redis.Redis) -> None:
    deferred = DeferredWrites(store, every=3600)
    for second in range(3):
        for n in range(100):
            deferred.lpush_capped("recent", f"item {second}.{n}", 120, per_flush=50)
        deferred.flush()
        assert store.lindex("recent", 0) == f"item {second}.99"  # the newest of each second is written
    # 50 a flush (the newest of each second), kept to 120 over the flushes
    assert store.llen("recent") == 120
    assert store.lrange("recent", 49, 50) == ["item 2.50", "item 1.99"]
    assert store.lindex("recent", -1) == "item 0.80"
    deferred.close()


def test_a_list_item_given_as_a_callable_is_rendered_at_the_flush_only_if_kept(store: redis.Redis) -> None:
    deferred = DeferredWrites(store, every=3600)
    rendered: list[int] = []

    def item(n: int) -> Callable[[], str]:
        def render() -> str:
            rendered.append(n)
            return f"record {n}"

        return render

    for n in range(1000):
        deferred.lpush_capped("recent", item(n), 5)
    assert rendered == []  # nothing is built on the caller's path
    deferred.flush()
    assert sorted(rendered) == [995, 996, 997, 998, 999]  # the 995 trimmed ones are never built
    assert store.lrange("recent", 0, -1) == [f"record {n}" for n in range(999, 994, -1)]
    deferred.close()
