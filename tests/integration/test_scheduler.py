"""Periodic work is safe to run in every worker process: each sync and each warning is enqueued once."""

from __future__ import annotations

from typing import Any

import redis

from adapter import create_app, scheduler
from adapter.clock import ManualClock
from adapter.queue.jobs import Job
from adapter.store import keys
from adapter.work.kinds import JobKind
from tests.conftest import PNID, make_channel, make_settings


def queued(store: redis.Redis) -> list[Job]:
    return [Job.from_json(f["job"]) for p in range(4) for _, f in store.xrange(keys.stream(p))]


def services_with_clock(store: redis.Redis, clock: ManualClock) -> Any:
    return create_app(make_settings(TEMPLATE_SYNC_INTERVAL_SECONDS="3600"), store=store, clock=clock).extensions[
        "adapter"
    ]


def test_template_syncs_are_enqueued_once_per_period_whatever_the_number_of_workers(store: redis.Redis) -> None:
    clock = ManualClock(1_800_000_000)
    first, second = services_with_clock(store, clock), services_with_clock(store, clock)
    first.channels.save(make_channel())
    first.channels.save(make_channel(phone_number_id="222", helpdesk_inbox_id=13))  # same WABA
    assert scheduler.enqueue_template_syncs(first) == 1
    assert scheduler.enqueue_template_syncs(second) == 0  # another worker process, same period
    clock.advance(3600)
    assert scheduler.enqueue_template_syncs(second) == 1
    assert [job.kind for job in queued(store)] == [JobKind.TEMPLATES_SYNC, JobKind.TEMPLATES_SYNC]


def test_a_window_warning_is_claimed_by_one_process_only(store: redis.Redis) -> None:
    clock = ManualClock(1_800_000_000)
    first, second = services_with_clock(store, clock), services_with_clock(store, clock)
    from adapter.meta.events import MessageType

    first.window.record_inbound(PNID, "16505551234", int(clock.now()), MessageType.TEXT)
    clock.advance(23 * 3600 + 1800)
    assert scheduler.enqueue_window_warnings(first) + scheduler.enqueue_window_warnings(second) == 1
