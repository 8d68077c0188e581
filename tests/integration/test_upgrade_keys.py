"""Keys of the layout before hash tags: renamed once by upgrade_keys, dead letters moved by the worker."""

from __future__ import annotations

import json

import redis

from adapter.clock import SystemClock
from adapter.queue.jobs import Job
from adapter.queue.queue import JobQueue
from adapter.store import keys
from adapter.store.upgrade import upgrade_keys

PNID, CUSTOMER, WABA = "106540352242922", "16505551234", "102290129340398"


def test_a_chats_consent_window_and_conversation_and_a_wabas_templates_get_their_tagged_names(
    store: redis.Redis,
) -> None:
    store.set(f"wa:optout:{PNID}:{CUSTOMER}", "1")
    store.set(f"wa:window:{PNID}:{CUSTOMER}", "1700000000", ex=3600)
    store.hset(f"wa:conv:{PNID}:{CUSTOMER}", mapping={"contact_id": 7, "conversation_id": 42})
    store.hset(f"wa:tpl:{WABA}", "hello:en_us", "{}")
    store.set(keys.window(PNID, "other"), "1700000500")
    store.set(f"wa:window:{PNID}:other", "1600000000")  # older than what the new name holds already

    assert upgrade_keys(store) == 4
    assert store.get(keys.optout(PNID, CUSTOMER)) == "1" and store.ttl(keys.optout(PNID, CUSTOMER)) == -1
    assert store.get(keys.window(PNID, CUSTOMER)) == "1700000000" and 0 < store.ttl(keys.window(PNID, CUSTOMER))
    assert store.hget(keys.conversation(PNID, CUSTOMER), "conversation_id") == "42"
    assert store.hget(keys.templates(WABA), "hello:en_us") == "{}"
    assert store.get(keys.window(PNID, "other")) == "1700000500"
    assert not store.exists(f"wa:optout:{PNID}:{CUSTOMER}", f"wa:window:{PNID}:other", f"wa:tpl:{WABA}")
    assert upgrade_keys(store) == 0  # once is enough


def test_the_single_dead_letter_list_is_moved_into_the_partitions_lists_newest_first(store: redis.Redis) -> None:
    queue = JobQueue(store, partitions=4, dedupe_ttl_seconds=60, clock=SystemClock())
    chats = [f"{PNID}:1650555000{n}" for n in range(6)]
    for n, chat in enumerate(chats):  # LPUSH: newest first, as bury wrote them
        record = {"job": Job("k", chat, {"n": n}, id=f"job-{n}").as_dict(), "error": "x", "failed_at": n}
        store.lpush(keys.LEGACY_DEAD_LETTERS, json.dumps(record))

    assert queue.adopt_dead_letters(keys.LEGACY_DEAD_LETTERS) == 6
    assert [record["job"]["id"] for record in queue.dead_letters()] == [f"job-{n}" for n in reversed(range(6))]
    for chat in chats:
        assert any(json.loads(raw)["job"]["chat"] == chat for raw in store.lrange(queue.dead_of(chat), 0, -1))
    assert not store.exists(keys.LEGACY_DEAD_LETTERS)
