"""Throughput shaping on a real Redis with an injected clock: by waiting, never by failing."""

from __future__ import annotations

import redis

from adapter.bridge.throttle import Limits, Throttle
from adapter.clock import ManualClock
from adapter.errors import Throttled
from adapter.queue.consumer import Consumer, RetryPolicy
from adapter.queue.jobs import Job
from adapter.queue.queue import JobQueue


def test_a_number_sends_at_most_its_rate_per_second(store: redis.Redis) -> None:
    clock = ManualClock()
    throttle = Throttle(store, clock, Limits(number_per_second=80, pair_per_second=1000, pair_burst=1000))
    assert all(throttle.acquire("n1", f"c{i}") == 0 for i in range(80))
    wait = throttle.acquire("n1", "c80")
    assert 0 < wait <= 1 / 80 + 1e-9
    clock.advance(1.0)
    assert all(throttle.acquire("n1", f"d{i}") == 0 for i in range(80))
    assert throttle.acquire("n1", "x") > 0
    assert throttle.acquire("n2", "x") == 0  # another number has its own budget


def test_one_customer_gets_a_burst_then_one_message_every_six_seconds(store: redis.Redis) -> None:
    clock = ManualClock()
    throttle = Throttle(store, clock, Limits(number_per_second=80, pair_per_second=1 / 6, pair_burst=10))
    for _ in range(10):
        assert throttle.acquire("n1", "c1") == 0
        clock.advance(0.01)
    wait = throttle.acquire("n1", "c1")
    assert 5.0 < wait <= 6.0
    assert throttle.acquire("n1", "c2") == 0  # other customers are not held up
    clock.advance(wait)
    assert throttle.acquire("n1", "c1") == 0
    assert throttle.acquire("n1", "c1") > 5.0


def test_a_refused_slot_takes_no_token_from_either_bucket(store: redis.Redis) -> None:
    clock = ManualClock()
    throttle = Throttle(store, clock, Limits(number_per_second=2, pair_per_second=1 / 6, pair_burst=1))
    assert throttle.acquire("n1", "c1") == 0
    assert throttle.acquire("n1", "c1") > 0  # the pair bucket is empty…
    assert throttle.acquire("n1", "c2") == 0  # …and the number's second token was not taken by that refusal


def test_waiting_for_throughput_does_not_count_as_an_attempt(store: redis.Redis) -> None:
    clock = ManualClock()
    queue = JobQueue(store, partitions=1, dedupe_ttl_seconds=60, clock=clock)
    calls: list[int] = []

    def handle(job: Job) -> None:
        calls.append(job.attempt)
        if len(calls) < 5:
            raise Throttled(2.0)

    consumer = Consumer(queue=queue, handlers={"k": handle}, clock=clock, block_ms=10,
                        policy=RetryPolicy(max_attempts=2, base_seconds=1, cap_seconds=1))
    queue.enqueue(Job("k", "chat", {}))
    for _ in range(5):
        consumer.run_once()
        clock.advance(2.1)
        consumer.run_once()
    assert calls == [0, 0, 0, 0, 0] and queue.dead_letters() == []
