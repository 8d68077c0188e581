"""The queue on a real Redis: atomic dedupe+enqueue, order per chat, retries, dead letters, takeover."""

from __future__ import annotations

import threading

import pytest
import redis

from adapter.clock import ManualClock
from adapter.errors import ExternalApiError, PermanentJobError
from adapter.queue.consumer import Consumer, RetryPolicy
from adapter.queue.jobs import Job
from adapter.queue.queue import JobQueue
from adapter.store import keys


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def queue(store: redis.Redis, clock: ManualClock) -> JobQueue:
    return JobQueue(store, partitions=4, dedupe_ttl_seconds=60, clock=clock)


def consumer(queue: JobQueue, handlers: dict, clock: ManualClock, **kw: object) -> Consumer:
    policy = RetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=10)
    return Consumer(queue=queue, handlers=handlers, policy=policy, clock=clock, block_ms=10, **kw)  # type: ignore[arg-type]


def drain(c: Consumer, rounds: int = 5) -> None:
    for _ in range(rounds):
        c.run_once()


def test_enqueue_once_skips_duplicates_in_the_same_and_later_batches(queue: JobQueue) -> None:
    key = keys.dedupe("t", "a")
    first = [(key, Job("k", "chat-1", {"n": 1})), (key, Job("k", "chat-1", {"n": 2}))]
    assert queue.enqueue_once(first) == 1
    assert queue.enqueue_once([(keys.dedupe("t", "a"), Job("k", "chat-1", {"n": 3}))]) == 0
    assert queue.backlog()["waiting"] == 1


def test_jobs_of_one_chat_run_in_order_and_a_retry_holds_the_rest_of_that_chat_only(
    queue: JobQueue, clock: ManualClock
) -> None:
    seen: list[tuple[str, int]] = []
    failures = {"left": 1}

    def handle(job: Job) -> None:
        if job.payload["n"] == 1 and job.chat == "a" and failures["left"]:
            failures["left"] -= 1
            raise ExternalApiError("helpdesk down", retryable=True)
        seen.append((job.chat, job.payload["n"]))

    for n in range(1, 4):
        queue.enqueue(Job("k", "a", {"n": n}))
        queue.enqueue(Job("k", "b", {"n": n}))
    c = consumer(queue, {"k": handle}, clock)
    drain(c)
    assert [s for s in seen if s[0] == "b"] == [("b", 1), ("b", 2), ("b", 3)]
    assert [s for s in seen if s[0] == "a"] == []  # a1 failed; a2, a3 wait behind it
    clock.advance(11)
    drain(c)
    assert [s for s in seen if s[0] == "a"] == [("a", 1), ("a", 2), ("a", 3)]


def test_a_job_that_keeps_failing_goes_to_dead_letters_and_the_chat_moves_on(
    queue: JobQueue, clock: ManualClock
) -> None:
    seen: list[int] = []
    given_up: list[str] = []

    def handle(job: Job) -> None:
        if job.payload["n"] == 1:
            raise ExternalApiError("still down", retryable=True)
        seen.append(job.payload["n"])

    queue.enqueue(Job("k", "a", {"n": 1}))
    queue.enqueue(Job("k", "a", {"n": 2}))
    c = consumer(queue, {"k": handle}, clock, on_give_up=lambda job, error: given_up.append(error))
    for _ in range(4):
        drain(c)
        clock.advance(11)
    assert seen == [2]
    dead = queue.dead_letters()
    assert len(dead) == 1 and dead[0]["job"]["payload"] == {"n": 1} and dead[0]["error"] == "still down"
    assert dead[0]["job"]["attempt"] == 2
    assert given_up == ["still down"]


def test_permanent_errors_are_not_retried(queue: JobQueue, clock: ManualClock) -> None:
    calls = []

    def handle(job: Job) -> None:
        calls.append(job.id)
        raise PermanentJobError("bad data")

    queue.enqueue(Job("k", "a", {}))
    drain(consumer(queue, {"k": handle}, clock))
    assert len(calls) == 1
    assert queue.dead_letters()[0]["error"] == "bad data"


def test_replayed_dead_letter_runs_again(queue: JobQueue, clock: ManualClock) -> None:
    state = {"fail": True}
    done = []

    def handle(job: Job) -> None:
        if state["fail"]:
            raise PermanentJobError("not yet")
        done.append(job.payload)

    queue.enqueue(Job("k", "a", {"x": 1}))
    c = consumer(queue, {"k": handle}, clock)
    drain(c)
    state["fail"] = False
    job_id = queue.dead_letters()[0]["job"]["id"]
    assert queue.replay_dead_letters(job_id) == 1
    drain(c)
    assert done == [{"x": 1}] and queue.dead_letters() == []


def test_work_in_flight_on_a_dead_consumer_is_taken_over_in_order(
    queue: JobQueue, clock: ManualClock, store: redis.Redis
) -> None:
    for n in range(3):
        queue.enqueue(Job("k", "a", {"n": n}))
    partition = queue.partition_of("a")
    # A consumer took the partition, read the entries, and died before acking any.
    store.xgroup_create(keys.stream(partition), keys.CONSUMER_GROUP, id="0", mkstream=True)
    store.xreadgroup(keys.CONSUMER_GROUP, "dead-consumer", {keys.stream(partition): ">"}, count=10)
    assert store.xpending(keys.stream(partition), keys.CONSUMER_GROUP)["pending"] == 3
    seen: list[int] = []
    survivor = consumer(queue, {"k": lambda job: seen.append(job.payload["n"])}, clock)
    drain(survivor)
    assert seen == [0, 1, 2]
    assert store.xpending(keys.stream(partition), keys.CONSUMER_GROUP)["pending"] == 0


def test_two_consumers_share_the_partitions_without_overlap(queue: JobQueue, clock: ManualClock) -> None:
    a = consumer(queue, {}, clock)
    b = consumer(queue, {}, clock)
    a.rebalance()
    b.rebalance()
    a.rebalance()  # a now sees two live consumers and gives back its excess
    b.rebalance()
    assert a.held.isdisjoint(b.held)
    assert len(a.held) == 2 and len(b.held) == 2


def test_threads_processing_many_chats_lose_nothing(queue: JobQueue, clock: ManualClock) -> None:
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def handle(job: Job) -> None:
        with lock:
            seen.append((job.chat, job.payload["n"]))

    for n in range(50):
        for chat in ("a", "b", "c", "d", "e"):
            queue.enqueue(Job("k", chat, {"n": n}))
    consumers = [consumer(queue, {"k": handle}, clock) for _ in range(3)]
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,)) for c in consumers]
    for t in threads:
        t.start()
    deadline = threading.Event()
    for _ in range(200):
        if len(seen) == 250:
            break
        deadline.wait(0.05)
    stop.set()
    for t in threads:
        t.join(5)
    assert len(seen) == 250
    for chat in ("a", "b", "c", "d", "e"):
        assert [n for c, n in seen if c == chat] == list(range(50))


def test_an_entry_interrupted_by_a_store_error_is_handled_when_the_store_is_back(
    queue: JobQueue, clock: ManualClock
) -> None:
    calls: list[int] = []

    def handle(job: Job) -> None:
        calls.append(job.payload["n"])
        if len(calls) == 1:
            raise redis.ConnectionError("Connection closed by server.")

    queue.enqueue(Job("k", "a", {"n": 1}))
    c = consumer(queue, {"k": handle}, clock)
    stop = threading.Event()
    thread = threading.Thread(target=c.run, args=(stop,))
    thread.start()
    for _ in range(100):
        if len(calls) >= 2:
            break
        threading.Event().wait(0.05)
    stop.set()
    thread.join(5)
    assert calls == [1, 1], "the interrupted entry was read again from the pending list"


def test_the_backlog_shows_what_waits_behind_a_retry_per_number(queue: JobQueue, clock: ManualClock) -> None:
    def fail(job: Job) -> None:
        raise ExternalApiError("helpdesk down", retryable=True)

    for n in range(3):
        queue.enqueue(Job("k", "111:alice", {"n": n}))
    queue.enqueue(Job("k", "222:bob", {"n": 0}))
    drain(consumer(queue, {"k": fail}, clock))
    backlog = queue.backlog()
    assert backlog["retrying_by_number"] == {"111": 1, "222": 1}
    assert backlog["held_by_number"]["111"]["jobs"] == 3 and backlog["held_by_number"]["222"]["jobs"] == 1
