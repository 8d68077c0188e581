"""The cost ledger on a real Redis: a message counted once whatever statuses and redeliveries bring its pricing,
the last 24 hours by the hour and the last 30 days by the day, buckets rolling over and expiring by the clock."""

from __future__ import annotations

import redis
from redis.crc import key_slot

from adapter.clock import ManualClock
from adapter.meta.events import MessagePricing
from adapter.monitoring.costs import HOUR, CostLedger
from adapter.store import keys

PNID = "PNID1"
MARKETING = MessagePricing("marketing", "regular", True, "PMP")
UTILITY = MessagePricing("utility", "regular", True, "PMP")
SERVICE = MessagePricing("service", "free_customer_service", False, "PMP")
ENTRY = MessagePricing("service", "free_entry_point", False, "PMP")
DAY = 24 * HOUR
START = 1_751_364_000.0  # 2025-07-01 10:00 UTC


def test_a_message_is_counted_once_per_wamid(store: redis.Redis) -> None:
    ledger = CostLedger(store, ManualClock(START))
    assert ledger.count(PNID, "wamid.A", 7, MARKETING).new is True
    assert ledger.count(PNID, "wamid.A", 7, MARKETING).new is False  # delivered, with pricing again
    assert ledger.count(PNID, "wamid.A", 7, MARKETING).new is False  # Meta redelivers the webhook
    assert ledger.count(PNID, "wamid.B", 7, SERVICE).new is True
    assert ledger.count(PNID, "wamid.C", None, UTILITY).new is True  # not sent through the helpdesk: the number's only
    day = ledger.totals(PNID, 30)
    assert day.billable == {"marketing": 1, "utility": 1} and day.free == {"free_customer_service": 1}
    assert ledger.totals(PNID, 1) == day
    conversation = ledger.conversation_totals(PNID, 7)
    assert conversation.billable == {"marketing": 1} and conversation.free == {"free_customer_service": 1}
    assert ledger.pricing_of(PNID, "wamid.A") == MARKETING
    assert ledger.pricing_of(PNID, "wamid.unknown") is None
    assert ledger.pricing_of_many(PNID, ["wamid.B", "wamid.x"]) == {"wamid.B": SERVICE}


def test_numbers_are_counted_apart(store: redis.Redis) -> None:
    ledger = CostLedger(store, ManualClock(START))
    ledger.count(PNID, "wamid.A", 1, MARKETING)
    assert ledger.count("PNID2", "wamid.A", 1, MARKETING).new is True
    assert ledger.totals("PNID2", 1).billable == {"marketing": 1}
    assert ledger.conversation_totals("PNID2", 1).billable == {"marketing": 1}


def test_the_last_24_hours_roll_over_by_the_hour_and_30_days_by_the_day(store: redis.Redis) -> None:
    clock = ManualClock(START)
    ledger = CostLedger(store, clock)
    ledger.count(PNID, "wamid.1", None, MARKETING)
    clock.advance(23 * HOUR)  # 09:00 the next day: still within 24 hours
    ledger.count(PNID, "wamid.2", None, ENTRY)
    assert ledger.totals(PNID, 1).billable == {"marketing": 1}
    clock.advance(HOUR)  # the first message's hour has left the last 24 hours
    assert ledger.totals(PNID, 1).billable == {} and ledger.totals(PNID, 1).free == {"free_entry_point": 1}
    assert ledger.totals(PNID, 30).billable == {"marketing": 1}
    clock.advance(29 * DAY)  # 2025-07-31: the 1st of July is the 31st day back
    assert ledger.totals(PNID, 30).billable == {} and ledger.totals(PNID, 30).free == {"free_entry_point": 1}


def test_a_late_status_counts_when_the_message_went_out(store: redis.Redis) -> None:
    clock = ManualClock(START + 3 * DAY)
    ledger = CostLedger(store, clock)
    ledger.count(PNID, "wamid.late", None, UTILITY, at=START)
    assert ledger.totals(PNID, 1).billable == {}
    assert ledger.totals(PNID, 30).billable == {"utility": 1}
    ledger.count(PNID, "wamid.future", None, UTILITY, at=START + 9 * DAY)  # a clock ahead of ours: now
    assert ledger.totals(PNID, 1).billable == {"utility": 1}


def test_every_key_expires_and_one_call_stays_in_one_cluster_slot(store: redis.Redis) -> None:
    ledger = CostLedger(store, ManualClock(START))
    ledger.count(PNID, "wamid.A", 7, MARKETING)
    names = sorted(store.scan_iter("wa:cost:*"))
    assert len(names) == 5
    assert all(0 < store.ttl(name) for name in names)
    assert store.ttl(keys.cost_hour(PNID, int(START) // HOUR)) <= 2 * DAY
    assert store.ttl(keys.cost_day(PNID, "20250701")) <= keys.COST_TTL_SECONDS
    assert len({key_slot(name.encode()) for name in names}) == 1


def test_conversation_attributes_stay_pending_until_written(store: redis.Redis) -> None:
    ledger = CostLedger(store, ManualClock(START))
    first = ledger.count(PNID, "wamid.A", 7, MARKETING)
    assert first.new and first.pending is not None and first.pending.billable == {"marketing": 1}
    again = ledger.count(PNID, "wamid.A", 7, MARKETING)  # the write failed: the next status brings the totals again
    assert not again.new and again.pending == first.pending
    ledger.attributes_written(PNID, "wamid.A")
    assert ledger.count(PNID, "wamid.A", 7, MARKETING).pending is None
    assert store.ttl(keys.cost_counted(PNID, "wamid.A")) > 0
    assert ledger.count(PNID, "wamid.B", None, MARKETING).pending is None  # no conversation: nothing to write
    assert ledger.conversation_totals(PNID, 7).billable == {"marketing": 1}
