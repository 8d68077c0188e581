"""The queue on a real Redis: atomic dedupe+enqueue, order per chat, retries, dead letters, takeover."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
import redis

from adapter.clock import ManualClock
from adapter.errors import ExternalApiError, PermanentJobError
from adapter.queue.consumer import Consumer, RetryPolicy
from adapter.queue.jobs import Job
from adapter.queue.queue import JobQueue
from adapter.store import keys
from adapter.store.fence import StaleLease
from adapter.store.mappings import Mappings
from tests.conftest import ON_CLUSTER, RoundTrips


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def queue(store: redis.Redis, clock: ManualClock) -> JobQueue:
    return JobQueue(store, partitions=4, dedupe_ttl_seconds=60, clock=clock)


def consumer(queue: JobQueue, handlers: dict, clock: ManualClock, **kw: object) -> Consumer:
    policy = RetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=10)
    return Consumer(queue=queue, handlers=handlers, policy=policy, clock=clock, block_ms=10, **kw)  # type: ignore[arg-type]


def failing_once_for(chat: str, seen: list[tuple[str, int]]) -> Callable[[Job], None]:
    """A handler that fails, retryably, the first job of `chat` it is given, and records (chat, n) of each job
    it handles."""
    failed: list[Job] = []

    def handle(job: Job) -> None:
        if job.chat == chat and not failed:
            failed.append(job)
            raise ExternalApiError("helpdesk down", retryable=True)
        seen.append((job.chat, job.payload["n"]))

    return handle


def drain(c: Consumer, rounds: int = 5) -> None:
    for _ in range(rounds):
        c.run_once()


def test_enqueue_once_skips_duplicates_in_the_same_and_later_batches(queue: JobQueue) -> None:
    key = keys.dedupe_id("t", "a")
    first = [(key, Job("k", "chat-1", {"n": 1})), (key, Job("k", "chat-1", {"n": 2}))]
    assert queue.enqueue_once(first) == 1
    assert queue.enqueue_once([(keys.dedupe_id("t", "a"), Job("k", "chat-1", {"n": 3}))]) == 0
    assert queue.backlog()["waiting"] == 1


def test_jobs_of_one_chat_run_in_order_and_a_retry_holds_the_rest_of_that_chat_only(
    queue: JobQueue, clock: ManualClock
) -> None:
    seen: list[tuple[str, int]] = []
    handle = failing_once_for("a", seen)

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


# --- one XREADGROUP batch: one round trip finds its parked chats, one acks what was done -----------------


def chats_of_one_partition(queue: JobQueue, count: int) -> list[str]:
    """Chats whose entries share a stream, so they come in one batch in the order they were enqueued."""
    chats = [f"chat-{i}" for i in range(200)]
    return [chat for chat in chats if queue.partition_of(chat) == queue.partition_of(chats[0])][:count]


def ready(c: Consumer) -> Consumer:
    c.run_once()  # takes the partitions over (nothing pending): the next pass reads new entries
    return c


def entry_ids(store: redis.Redis, stream: str) -> list[str]:
    return [entry_id for entry_id, _ in store.xrange(stream)]


def pending_ids(store: redis.Redis, stream: str) -> list[str]:
    return [p["message_id"] for p in store.xpending_range(stream, keys.CONSUMER_GROUP, "-", "+", 100)]


def test_a_batch_costs_the_same_round_trips_however_many_jobs_it_holds(
    queue: JobQueue, clock: ManualClock, store: redis.Redis, round_trips: RoundTrips
) -> None:
    parked, *chats = chats_of_one_partition(queue, 6)
    # A chat waiting behind a retry.
    queue.park(queue.stream_of(parked), "0-1", Job("k", parked, {}), due=clock.now() + 60)
    c = ready(consumer(queue, {"k": lambda job: None}, clock))

    def trips_of_a_batch(jobs: int) -> int:
        queue.enqueue(Job("k", parked, {}))  # first: parking it acks nothing yet
        for n in range(jobs):
            queue.enqueue(Job("k", chats[n % len(chats)], {"n": n}))
        round_trips.count = 0
        assert c.run_once() == jobs + 1
        return round_trips.count

    assert trips_of_a_batch(1) == trips_of_a_batch(15)
    assert queue.backlog()["waiting"] == 0 and store.llen(queue.parked_of(parked)) == 3


def test_a_job_of_a_chat_that_failed_earlier_in_the_same_batch_waits_behind_it_in_order(
    queue: JobQueue, clock: ManualClock
) -> None:
    seen: list[tuple[str, int]] = []
    handle = failing_once_for("a", seen)

    c = ready(consumer(queue, {"k": handle}, clock))
    for chat, n in [("a", 1), ("b", 1), ("a", 2), ("a", 3), ("b", 2)]:
        queue.enqueue(Job("k", chat, {"n": n}))
    assert c.run_once() == 5  # one batch: a1 failed in it, so a2 and a3 were parked behind it
    assert seen == [("b", 1), ("b", 2)]
    assert [Job.from_json(raw).payload["n"] for raw in queue.store.lrange(queue.parked_of("a"), 0, -1)] == [1, 2, 3]
    clock.advance(11)
    drain(c)
    assert seen == [("b", 1), ("b", 2), ("a", 1), ("a", 2), ("a", 3)]
    backlog = queue.backlog()
    assert (backlog["waiting"], backlog["retrying_chats"], backlog["dead_letters"]) == (0, 0, 0)


def test_the_jobs_done_before_a_park_are_acked_in_the_same_step(
    queue: JobQueue, clock: ManualClock, store: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, other = chats_of_one_partition(queue, 2)
    stream = queue.stream_of(chat)

    def handle(job: Job) -> None:
        if job.payload["n"] == 2:
            raise ExternalApiError("helpdesk down", retryable=True)

    def store_gone(acks: object, fence: object = None) -> None:
        raise redis.ConnectionError("Connection closed by server.")

    c = ready(consumer(queue, {"k": handle}, clock))
    for to, n in [(chat, 1), (chat, 2), (other, 3)]:
        queue.enqueue(Job("k", to, {"n": n}))
    _, _, third = entry_ids(store, stream)
    monkeypatch.setattr(queue, "ack", store_gone)  # the store goes away after the park
    with pytest.raises(redis.ConnectionError):
        c.run_once()
    # Left pending past the park, the first job would run again after a crash: parked behind the second one.
    assert pending_ids(store, stream) == entry_ids(store, stream) == [third]
    assert store.llen(queue.parked_of(chat)) == 1


def test_a_store_error_mid_batch_keeps_the_acks_of_the_jobs_done_before_it(
    queue: JobQueue, clock: ManualClock, store: redis.Redis
) -> None:
    calls: list[int] = []

    def handle(job: Job) -> None:
        calls.append(job.payload["n"])
        if calls == [1, 2]:
            raise redis.ConnectionError("Connection closed by server.")

    c = ready(consumer(queue, {"k": handle}, clock))
    for n in (1, 2, 3):
        queue.enqueue(Job("k", "a", {"n": n}))
    stream = queue.stream_of("a")
    _, second, third = entry_ids(store, stream)
    with pytest.raises(redis.ConnectionError):
        c.run_once()
    assert pending_ids(store, stream) == entry_ids(store, stream) == [second, third]  # 1 is done and gone
    c.release_all()  # the worker dies; another one takes its pending entries over
    drain(consumer(queue, {"k": handle}, clock))
    assert calls == [1, 2, 2, 3]
    assert entry_ids(store, stream) == [] and pending_ids(store, stream) == []


def test_a_store_error_after_the_lease_ran_out_drops_the_partition_and_leaves_its_entries_pending(
    queue: JobQueue, clock: ManualClock, store: redis.Redis
) -> None:
    def handle(job: Job) -> None:
        if job.payload["n"] == 2:  # the store went away (a failover) for longer than the lease
            store.delete(keys.lease(queue.partition_of("a")))
            raise redis.ConnectionError("Connection closed by server.")

    c = ready(consumer(queue, {"k": handle}, clock))
    for n in (1, 2):
        queue.enqueue(Job("k", "a", {"n": n}))
    with pytest.raises(redis.ConnectionError):  # the store's error, for the loop to wait on: not StaleLease
        c.run_once()
    stream = queue.stream_of("a")
    assert queue.partition_of("a") not in c.held
    assert pending_ids(store, stream) == entry_ids(store, stream) and len(entry_ids(store, stream)) == 2


def test_a_deleted_entry_still_pending_is_acked_with_the_batch(
    queue: JobQueue, clock: ManualClock, store: redis.Redis
) -> None:
    calls: list[int] = []
    stream = queue.stream_of("a")

    def handle(job: Job) -> None:
        calls.append(job.payload["n"])
        if calls == [1]:  # the entry read after this one is deleted, then the store goes away
            store.xdel(stream, entry_ids(store, stream)[1])
            raise redis.ConnectionError("Connection closed by server.")

    c = ready(consumer(queue, {"k": handle}, clock))
    for n in (1, 2, 3):
        queue.enqueue(Job("k", "a", {"n": n}))
    with pytest.raises(redis.ConnectionError):
        c.run_once()
    assert len(pending_ids(store, stream)) == 3 and len(entry_ids(store, stream)) == 2
    c.release_all()
    drain(consumer(queue, {"k": handle}, clock))
    assert calls == [1, 1, 3]
    assert entry_ids(store, stream) == [] and pending_ids(store, stream) == []


def test_entries_not_handled_when_the_lease_was_lost_mid_batch_are_left_to_its_new_holder(
    queue: JobQueue, clock: ManualClock, store: redis.Redis
) -> None:
    calls: list[int] = []
    c = consumer(queue, {}, clock)

    def handle(job: Job) -> None:
        calls.append(job.payload["n"])
        c.held.discard(queue.partition_of("a"))  # what the lease thread does when a renewal fails

    c.handlers = {"k": handle}
    ready(c)
    for n in (1, 2, 3):
        queue.enqueue(Job("k", "a", {"n": n}))
    stream = queue.stream_of("a")
    _, second, third = entry_ids(store, stream)
    assert c.run_once() == 1
    assert calls == [1]
    assert pending_ids(store, stream) == entry_ids(store, stream) == [second, third]


def test_a_job_parked_behind_a_chat_whose_parked_list_went_away_still_runs(
    queue: JobQueue, clock: ManualClock, store: redis.Redis
) -> None:
    failing, other = chats_of_one_partition(queue, 2)
    seen: list[tuple[str, int]] = []

    def handle(job: Job) -> None:
        if (job.chat, job.payload["n"]) == (failing, 1):
            raise ExternalApiError("helpdesk down", retryable=True)
        if job.chat == other:  # meanwhile the failing chat's list is lost (e.g. Redis restarted empty)
            store.delete(queue.parked_of(failing))
            store.zrem(keys.delayed(queue.partition_of(failing)), failing)
        seen.append((job.chat, job.payload["n"]))

    c = ready(consumer(queue, {"k": handle}, clock))
    for chat, n in [(failing, 1), (other, 1), (failing, 2)]:
        queue.enqueue(Job("k", chat, {"n": n}))
    c.run_once()  # failing/2 is parked behind failing/1, which this batch believes is still parked
    drain(c)
    assert seen == [(other, 1), (failing, 2)]
    assert store.exists(queue.parked_of(failing)) == 0 and store.zcard(keys.delayed(queue.partition_of(failing))) == 0


def stall_past_the_lease(stale: Consumer, successor: Consumer, partition: int, store: redis.Redis) -> None:
    """What a stopped VM looks like from Redis: the lease expires and another consumer takes the partition."""
    store.delete(keys.lease(partition))
    successor.rebalance()
    assert partition in successor.held and partition in stale.held  # the stale one has not noticed yet


def test_a_consumer_stalled_past_its_lease_sends_nothing_and_acks_nothing_and_the_new_holder_runs_it(
    store: redis.Redis, clock: ManualClock
) -> None:
    queue = JobQueue(store, partitions=1, dedupe_ttl_seconds=60, clock=clock)
    mappings = Mappings(store)
    sends: list[tuple[str, int]] = []
    stale, successor = consumer(queue, {}, clock, name="stale"), consumer(queue, {}, clock, name="successor")

    def send(job: Job, who: str) -> None:
        if who == "stale":
            stall_past_the_lease(stale, successor, 0, store)
        if mappings.begin_send("a", f"part-{job.payload['n']}", clock.now()) is None:  # fenced: the idempotency mark
            sends.append((who, job.payload["n"]))

    ready(stale)
    queue.enqueue(Job("k", "a", {"n": 1}))
    queue.enqueue(Job("k", "a", {"n": 2}))
    stale.handlers = {"k": lambda job: send(job, "stale")}
    successor.handlers = {"k": lambda job: send(job, "successor")}
    stale.run_once()
    assert 0 not in stale.held  # it stopped at once
    assert pending_ids(store, keys.stream(0))  # and acked nothing: both entries wait for the new holder
    drain(successor)
    assert sends == [("successor", 1), ("successor", 2)]
    assert entry_ids(store, keys.stream(0)) == [] and pending_ids(store, keys.stream(0)) == []


def test_a_stale_holders_park_and_ack_are_refused(store: redis.Redis, clock: ManualClock) -> None:
    queue = JobQueue(store, partitions=1, dedupe_ttl_seconds=60, clock=clock)
    stale, successor = consumer(queue, {}, clock, name="stale"), consumer(queue, {}, clock, name="successor")
    ready(stale)
    fence = stale.fence_of(0)
    assert fence is not None and fence.holder.startswith("stale:")
    queue.enqueue(Job("k", "a", {"n": 1}))
    stall_past_the_lease(stale, successor, 0, store)
    assert successor.fence_of(0) != fence  # a new token
    (entry,) = entry_ids(store, keys.stream(0))
    with pytest.raises(StaleLease):
        queue.ack({keys.stream(0): [entry]}, fence=fence)
    with pytest.raises(StaleLease):
        queue.park(keys.stream(0), entry, Job("k", "a", {"n": 1}), due=clock.now(), fence=fence)
    assert entry_ids(store, keys.stream(0)) == [entry] and not store.exists(queue.parked_of("a"))
    queue.ack({keys.stream(0): [entry]}, fence=successor.fence_of(0))
    assert entry_ids(store, keys.stream(0)) == []


def test_due_chats_are_read_per_partition_so_others_retries_do_not_crowd_ours(
    queue: JobQueue, clock: ManualClock
) -> None:
    ours, *theirs = chats_of_one_partition(queue, 1) + [f"other-{n}" for n in range(60)]
    theirs = [chat for chat in theirs if queue.partition_of(chat) != queue.partition_of(ours)]
    for chat in theirs:
        queue.park(queue.stream_of(chat), "0-1", Job("k", chat, {}), due=clock.now() - 10)
    queue.park(queue.stream_of(ours), "0-1", Job("k", ours, {}), due=clock.now())
    assert queue.due_chats({queue.partition_of(ours)}, limit=5) == [ours]


def test_chats_scheduled_by_an_earlier_version_still_run_after_the_upgrade(
    queue: JobQueue, clock: ManualClock, store: redis.Redis
) -> None:
    seen: list[int] = []
    store.rpush(queue.parked_of("a"), Job("k", "a", {"n": 1}).to_json())
    store.zadd(keys.LEGACY_DELAYED, {"a": clock.now() - 1})  # the single schedule of before
    assert queue.adopt_single_schedule() == 1 and not store.exists(keys.LEGACY_DELAYED)
    drain(ready(consumer(queue, {"k": lambda job: seen.append(job.payload["n"])}, clock)))
    assert seen == [1]


def test_a_webhook_enqueues_in_one_round_trip_on_one_redis_and_its_scripts_survive_a_flush(
    queue: JobQueue, store: redis.Redis, round_trips: RoundTrips
) -> None:
    one_partition = chats_of_one_partition(queue, 3)
    spread = [f"chat-{i}" for i in range(40)]
    assert len({queue.partition_of(chat) for chat in spread}) == queue.partitions
    queue.enqueue_once([("warm", Job("k", one_partition[0], {}))])  # the script is loaded

    round_trips.count = 0
    assert queue.enqueue_once([(f"a{n}", Job("k", chat, {})) for n, chat in enumerate(one_partition)]) == 3
    assert round_trips.count == 1
    round_trips.count, asked = 0, script_exists_calls(store)
    assert queue.enqueue_once([(f"b{n}", Job("k", chat, {})) for n, chat in enumerate(spread)]) == 40
    assert round_trips.count == (queue.partitions if ON_CLUSTER else 1)  # on a cluster, one per partition (slot)
    assert script_exists_calls(store) == asked  # nor a hidden one before it

    store.script_flush()  # as after a Redis restart: the next call loads the script again and loses nothing
    batch = [(f"c{n}", Job("k", chat, {})) for n, chat in enumerate(spread)]
    assert queue.enqueue_once(batch) == 40
    assert queue.enqueue_once(batch) == 0  # and nothing twice
    assert queue.backlog()["waiting"] == 1 + 3 + 40 + 40


def script_exists_calls(store: redis.Redis) -> int:
    """SCRIPT EXISTS calls Redis has served (every node of a cluster): a pipeline of registered scripts asks it
    in a round trip the client's counts do not see."""
    stats = store.info("commandstats")
    nodes = stats.values() if ON_CLUSTER else [stats]
    return sum(int(node.get("cmdstat_script|exists", {}).get("calls", 0)) for node in nodes)


def loop_through(worker: Consumer, monkeypatch: pytest.MonkeyPatch, passes: list[Exception | None]) -> list[float]:
    """Run the consumer's loop for these passes (each raising its error, or None for a good pass); returns the
    pauses it took between them."""
    remaining = list(passes)
    pauses: list[float] = []
    stop = threading.Event()

    def run_once() -> int:
        error = remaining.pop(0)
        if not remaining:
            stop.set()
        if error is not None:
            raise error
        return 0

    monkeypatch.setattr(worker, "run_once", run_once)
    monkeypatch.setattr(stop, "wait", lambda timeout=None: pauses.append(timeout) or False)  # no real pause
    worker._loop(stop)  # returns once the passes ran: no error ended the consumer's thread
    return pauses


@pytest.mark.parametrize(
    "reply",
    [
        redis.exceptions.ClusterDownError("CLUSTERDOWN The cluster is down"),  # a master failing over
        redis.exceptions.TryAgainError("TRYAGAIN Multiple keys request during rehashing of slot"),
        redis.exceptions.ReadOnlyError("READONLY You can't write against a read only replica."),
        redis.exceptions.OutOfMemoryError("OOM command not allowed when used memory > 'maxmemory'."),
    ],
    ids=["CLUSTERDOWN", "TRYAGAIN", "READONLY", "OOM"],
)
def test_the_stores_passing_states_are_waited_out_not_fatal_to_the_consumer(
    queue: JobQueue, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, reply: redis.ResponseError
) -> None:
    # Retried each second for as long as it lasts: unlike a fault of the consumer's own, with no growing pause.
    assert loop_through(consumer(queue, {}, clock), monkeypatch, [reply, reply, reply, None]) == [1.0, 1.0, 1.0]


def test_an_unexpected_error_is_logged_whole_and_the_consumer_goes_on_with_its_pending_entries(
    queue: JobQueue, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    worker = consumer(queue, {}, clock)
    worker.held, worker._draining = {3}, set()
    monkeypatch.setattr(worker, "release_all", lambda: None)  # partition 3's lease is not really held
    with caplog.at_level(logging.ERROR, logger="adapter.queue.consumer"):
        assert loop_through(worker, monkeypatch, [KeyError("a bug"), None]) == [1.0]
    assert 3 in worker._draining  # its pending entries are read again first
    assert any(record.exc_info and "unexpected error" in record.getMessage() for record in caplog.records)


def test_a_repeating_fault_waits_longer_each_time_up_to_the_cap(
    queue: JobQueue, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    passes: list[Exception | None] = [RuntimeError("the same bug again")] * 8 + [None, RuntimeError("once more"), None]
    pauses = loop_through(consumer(queue, {}, clock), monkeypatch, passes)
    assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 1.0]  # a good pass starts the pauses over
