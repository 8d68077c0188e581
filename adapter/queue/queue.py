"""JobQueue: the Redis operations of the queue, each one atomic.

Layout: P partition streams (`wa:jobs:{p<n>}`), one consumer group. A chat always hashes to the
same partition and a partition is consumed by one leaseholder at a time, so a chat's jobs run
in order. A job that fails and will be retried is *parked* with the rest of its chat behind it
(`wa:parked:{p<n>}:<chat>`), and its chat is scheduled in `wa:delayed:{p<n>}`; when due, the leaseholder
runs the parked jobs from that list, in order. Other chats are never held up by it.

Every key a step touches carries its partition's hash tag, so each step is atomic in one slot of a
Redis Cluster as on a single Redis; a webhook's batch is enqueued partition by partition.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, cast

import redis

from adapter.clock import Clock
from adapter.errors import StoreUnavailable
from adapter.queue.jobs import Job
from adapter.store import keys
from adapter.store.connection import Store, is_cluster
from adapter.store.fence import Fence, fenced
from adapter.store.replies import text, texts

logger = logging.getLogger(__name__)

# KEYS: the streams and dedupe marks of the items. ARGV: ttl, then per item (its stream's index in KEYS, its
# mark's index or 0 for none, job_json). Returns how many were added. On a cluster each call holds one
# partition's items (every key in its slot); on a single Redis one call holds them all. Only what must be atomic
# is here: the webhook's counters and troubleshooting record are written behind (store/deferred.py).
_ENQUEUE_ONCE = """
local call = redis.call  -- a local: a 50-message batch makes 100 calls
local added = 0
for i = 2, #ARGV, 3 do
  local mark = tonumber(ARGV[i + 1])
  if mark == 0 or call("SET", KEYS[mark], "1", "NX", "EX", ARGV[1]) then
    call("XADD", KEYS[tonumber(ARGV[i])], "*", "job", ARGV[i + 2])
    added = added + 1
  end
end
return added
"""

# Stream entry ids to ack (and delete), per stream.
Acks = Mapping[str, Sequence[str]]
NO_ACKS: Acks = MappingProxyType({})


class JobQueue:
    def __init__(self, store: Store, *, partitions: int, dedupe_ttl_seconds: int, clock: Clock) -> None:
        self.store = store
        self.partitions = partitions
        self.dedupe_ttl_seconds = dedupe_ttl_seconds
        self.clock = clock
        self._enqueue_once = store.register_script(_ENQUEUE_ONCE)
        self._per_partition = is_cluster(store)  # a cluster's script call may touch one slot only
        self._streams = [keys.stream(partition) for partition in range(partitions)]

    def partition_of(self, chat: str) -> int:
        return zlib.crc32(chat.encode()) % self.partitions

    def stream_of(self, chat: str) -> str:
        return keys.stream(self.partition_of(chat))

    def delayed_of(self, chat: str) -> str:
        return keys.delayed(self.partition_of(chat))

    def parked_of(self, chat: str) -> str:
        return keys.parked(self.partition_of(chat), chat)

    def dead_of(self, chat: str) -> str:
        return keys.dead_letters(self.partition_of(chat))

    # --- producers -------------------------------------------------------------------

    def enqueue_once(self, items: Iterable[tuple[str | None, Job]]) -> int:
        """Enqueue each job whose dedupe id (keys.dedupe_id) is new. Returns how many were new.

        An item's dedupe mark and its job are stored in one atomic step, never separated: all items in one
        script call on a single Redis; on a cluster one call per partition, its keys all in the partition's slot.
        Raises StoreUnavailable when any step fails, so the web layer answers 503 and the sender retries
        instead of losing the payload; the partitions already stored then find their marks and add nothing twice.
        """
        try:
            return sum(int(self._enqueue_once(keys=call.keys, args=call.args)) for call in self.script_calls(items))
        except redis.RedisError as exc:
            raise StoreUnavailable("the queue store is unavailable; retry later") from exc

    def script_calls(self, items: Iterable[tuple[str | None, Job]]) -> list[ScriptCall]:
        """The KEYS and ARGV of each enqueue script call these items take (bench/enqueue.py weighs them)."""
        now = self.clock.now()
        calls: dict[int, ScriptCall] = {}
        for dedupe_id, job in items:
            partition = self.partition_of(job.chat)
            group = partition if self._per_partition else 0  # which script call takes the item
            call = calls.get(group)
            if call is None:
                call = calls[group] = ScriptCall(self.dedupe_ttl_seconds)
            mark = keys.dedupe(partition, dedupe_id) if dedupe_id else None
            call.add(self._streams[partition], mark, job.to_json(enqueued_at=job.enqueued_at or now))
        return list(calls.values())

    def enqueue(self, job: Job) -> None:
        """Enqueue without dedupe (replays, follow-up work)."""
        self.enqueue_once([(None, job)])

    # --- consumers -------------------------------------------------------------------

    def park(
        self, stream: str, entry_id: str, job: Job, *, due: float | None, also_ack: Acks = NO_ACKS,
        fence: Fence | None = None,
    ) -> None:  # fmt: skip
        """Move a stream entry to the end of its chat's parked list (scheduling the chat when `due` is
        given), and ack it and `also_ack`, in one step (refused with StaleLease once `fence` is stale)."""

        def commands(pipe: Any) -> None:
            pipe.rpush(self.parked_of(job.chat), job.to_json())
            if due is not None:
                pipe.zadd(self.delayed_of(job.chat), {job.chat: due})
            else:
                # A no-op while the chat is parked (it is scheduled). Should its list have gone meanwhile (Redis
                # restarted without persistence), the job is not left behind nothing, unscheduled.
                pipe.zadd(self.delayed_of(job.chat), {job.chat: self.clock.now()}, nx=True)
            _ack_in(pipe, {stream: [entry_id]})
            _ack_in(pipe, also_ack)

        fenced(self.store, fence, commands)

    def parked_among(self, chats: Iterable[str]) -> set[str]:
        """The chats of these that have jobs parked, in one round trip."""
        distinct = list(set(chats))
        if not distinct:
            return set()
        pipe = self.store.pipeline(transaction=False)
        for chat in distinct:
            pipe.exists(self.parked_of(chat))
        return {chat for chat, parked in zip(distinct, pipe.execute(), strict=True) if parked}

    def ack(self, acks: Acks, fence: Fence | None = None) -> None:
        """Ack (and delete) these entries in one transaction; none when there are none."""
        if any(acks.values()):
            fenced(self.store, fence, lambda pipe: _ack_in(pipe, acks))

    def bury(
        self, stream: str, entry_id: str, job: Job, error: str, *, also_ack: Acks = NO_ACKS, fence: Fence | None = None
    ) -> None:
        """Move a job that will not succeed to the dead letters, and ack it and `also_ack`, in one step."""

        def commands(pipe: Any) -> None:
            pipe.lpush(self.dead_of(job.chat), self._dead_record(job, error))
            _ack_in(pipe, {stream: [entry_id]})
            _ack_in(pipe, also_ack)

        fenced(self.store, fence, commands)

    def _dead_record(self, job: Job, error: str) -> str:
        return json.dumps({"job": job.as_dict(), "error": error, "failed_at": self.clock.now()})

    # --- parked chats: drained in place by their partition's leaseholder ---------------

    def due_chats(self, partitions: set[int], limit: int = 500) -> list[str]:
        """Chats of these partitions whose parked jobs may run now, at most `limit` of each partition: each
        partition has its own schedule, so one consumer's due chats never wait behind another's."""
        if not partitions:
            return []
        pipe = self.store.pipeline(transaction=False)
        now = self.clock.now()
        for partition in sorted(partitions):
            pipe.zrangebyscore(keys.delayed(partition), "-inf", now, start=0, num=limit)
        return [chat for due in pipe.execute() for chat in texts(due)]

    def adopt_single_schedule(self) -> int:
        """Move chats scheduled in the one `wa:delayed` set of earlier versions into their partitions' sets, so
        parked jobs from before an upgrade still run. Returns how many moved."""
        moved = 0
        scheduled = cast(list[tuple[str, float]], self.store.zrange(keys.LEGACY_DELAYED, 0, -1, withscores=True))
        for chat, due in scheduled:
            # Added, then removed (two slots on a cluster): a crash in between leaves it in both, never in none.
            self.store.zadd(self.delayed_of(text(chat)), {text(chat): due}, nx=True)
            self.store.zrem(keys.LEGACY_DELAYED, chat)
            moved += 1
        return moved

    def scheduled_chats(self) -> list[str]:
        """Every chat with parked jobs, due or not."""
        pipe = self.store.pipeline(transaction=False)
        for partition in range(self.partitions):
            pipe.zrange(keys.delayed(partition), 0, -1)
        return [chat for scheduled in pipe.execute() for chat in texts(scheduled)]

    def parked_head(self, chat: str) -> Job | None:
        raw = self.store.lindex(self.parked_of(chat), 0)
        return Job.from_json(text(raw)) if raw else None

    def pop_parked(
        self, chat: str, dead_error: str | None = None, job: Job | None = None, fence: Fence | None = None
    ) -> bool:
        """Drop the head (done, or dead-lettered with `dead_error`). True when the chat has more waiting;
        when it has none, the chat is unscheduled, so its new messages flow through the stream again."""

        def commands(pipe: Any) -> None:
            pipe.lpop(self.parked_of(chat))
            if dead_error is not None and job is not None:
                pipe.lpush(self.dead_of(chat), self._dead_record(job, dead_error))
            pipe.llen(self.parked_of(chat))

        remaining = int(fenced(self.store, fence, commands)[-1])
        if remaining == 0:
            # Only this partition's leaseholder parks this chat, so nothing was parked since the LLEN.
            self.store.zrem(self.delayed_of(chat), chat)
        return remaining > 0

    def reschedule_parked(self, chat: str, head: Job, due: float, fence: Fence | None = None) -> None:
        """The head failed again (or must wait): keep it first, with its new attempt count, until `due`."""

        def commands(pipe: Any) -> None:
            pipe.lset(self.parked_of(chat), 0, head.to_json())
            pipe.zadd(self.delayed_of(chat), {chat: due})

        fenced(self.store, fence, commands)

    # --- dead letters ----------------------------------------------------------------

    # Each partition keeps its own list, so that burying stays one step with the ack; readers merge them.

    def _dead_lists(self, end: int) -> list[tuple[str, list[str]]]:
        """(list key, its first `end` raw records, or all with -1) of every partition, in one round trip."""
        pipe = self.store.pipeline(transaction=False)
        for partition in range(self.partitions):
            pipe.lrange(keys.dead_letters(partition), 0, end)
        return [(keys.dead_letters(p), texts(raws)) for p, raws in enumerate(pipe.execute())]

    def dead_letters(self, start: int = 0, count: int = 100) -> list[dict[str, Any]]:
        """Dead letters of every partition, newest first."""
        records = [json.loads(raw) for _, raws in self._dead_lists(start + count - 1) for raw in raws]
        records.sort(key=lambda record: -float(record.get("failed_at") or 0))
        return records[start : start + count]

    def replay_dead_letters(self, job_id: str | None = None) -> int:
        """Re-enqueue one dead job (by id) or all of them as fresh attempts."""
        replayed = 0
        for dead_key, raws in self._dead_lists(-1):
            for raw in raws:
                record = json.loads(raw)
                if job_id is not None and record["job"]["id"] != job_id:
                    continue
                if self.store.lrem(dead_key, 1, raw):
                    self.enqueue(Job(**record["job"]).fresh(self.clock.now()))
                    replayed += 1
        return replayed

    def adopt_dead_letters(self, legacy_key: str) -> int:
        """Move the dead letters of a list of earlier versions (one list for every partition) into their
        partitions' lists, oldest first so each list stays newest first. Returns how many moved."""
        moved = 0
        while (raw := self.store.lindex(legacy_key, -1)) is not None:
            record = json.loads(text(raw))
            # Copied, then removed: a crash in between leaves a copy (a replay runs idempotent handlers), never none.
            self.store.lpush(self.dead_of(str(record.get("job", {}).get("chat", ""))), text(raw))
            self.store.lrem(legacy_key, -1, text(raw))
            moved += 1
        return moved

    # --- visibility ------------------------------------------------------------------

    def backlog(self) -> dict[str, Any]:
        """What waits, in three round trips: stream entries, parked jobs, the age of the oldest entry (on Redis's
        clock, which stamps stream ids), chats retrying per number, dead letters."""
        redis_seconds, redis_micros = self.store.time()  # alone: a cluster pipeline takes only keyed commands
        pipe = self.store.pipeline(transaction=False)
        for partition in range(self.partitions):
            pipe.xlen(keys.stream(partition))
            pipe.xrange(keys.stream(partition), count=1)
            pipe.zrange(keys.delayed(partition), 0, -1)
            pipe.llen(keys.dead_letters(partition))
        per_partition = pipe.execute()
        streams = [reply for i, reply in enumerate(per_partition) if i % 4 in (0, 1)]
        retrying = [chat for scheduled in per_partition[2::4] for chat in scheduled]
        dead = sum(int(length) for length in per_partition[3::4])
        waiting = sum(int(length) for length in streams[0::2])
        firsts = [int(first[0][0].split("-")[0]) for first in streams[1::2] if first]
        redis_now = redis_seconds + redis_micros / 1e6
        age = max(0.0, redis_now - min(firsts) / 1000) if firsts else 0.0
        by_number: dict[str, int] = {}
        held: dict[str, dict[str, float]] = {}
        pipe = self.store.pipeline(transaction=False)
        for chat in retrying:
            pipe.llen(self.parked_of(chat))
            pipe.lindex(self.parked_of(chat), 0)
        parked = pipe.execute() if retrying else []
        now = self.clock.now()  # as `enqueued_at` was stamped
        for chat, count, head in zip(retrying, parked[0::2], parked[1::2], strict=True):
            number = chat.split(":", 1)[0]
            by_number[number] = by_number.get(number, 0) + 1
            entry = held.setdefault(number, {"jobs": 0, "oldest_age_seconds": 0.0})
            entry["jobs"] += int(count)
            if head:
                since = float(json.loads(head).get("enqueued_at") or now)
                entry["oldest_age_seconds"] = round(max(entry["oldest_age_seconds"], now - since), 3)
        return {
            "waiting": waiting,
            "oldest_age_seconds": round(age, 3),
            "retrying_chats": len(retrying),
            "retrying_by_number": by_number,
            "held_by_number": held,  # jobs waiting behind a retry, and the oldest one's age, per number
            "dead_letters": int(dead),
        }


class ScriptCall:
    """The KEYS and ARGV of one _ENQUEUE_ONCE call, built item by item."""

    __slots__ = ("args", "keys", "_stream_index")

    def __init__(self, ttl_seconds: int) -> None:
        self.keys: list[str] = []
        self.args: list[Any] = [ttl_seconds]
        self._stream_index: dict[str, int] = {}

    def add(self, stream: str, mark: str | None, job_json: str) -> None:
        index = self._stream_index.get(stream)
        if index is None:
            self.keys.append(stream)
            index = self._stream_index[stream] = len(self.keys)
        if mark is not None:
            self.keys.append(mark)
        self.args += (index, len(self.keys) if mark is not None else 0, job_json)


def _ack_in(pipe: Any, acks: Acks) -> None:
    """Queue XACK and XDEL of each stream's entries (several ids per command) on a pipeline."""
    for stream, entry_ids in acks.items():
        if entry_ids:
            pipe.xack(stream, keys.CONSUMER_GROUP, *entry_ids)
            pipe.xdel(stream, *entry_ids)
