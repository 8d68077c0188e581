"""A status's `pricing` read at the edge, table-driven over tests/contracts/meta_statuses.json: Meta's strings
kept (also those it adds later), `billable` derived from `type` when absent, and a malformed pricing dropped
without losing the status. The ledger's arithmetic on buckets is here too (no Redis needed)."""

from __future__ import annotations

import pytest

from adapter.meta.events import MessagePricing, MessageStatus, StatusKind, pricing_name
from adapter.meta.ingest import jobs_from_webhook
from adapter.monitoring.costs import CostTotals, counter_of, day_of
from tests import contracts

STATUSES = contracts.load("meta_statuses")


def status_of(variant: str) -> MessageStatus:
    ((_, job),) = jobs_from_webhook(STATUSES[variant])
    return MessageStatus.from_item(job.payload["status"], phone_number_id="PNID1")


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("sent", MessagePricing("utility", "regular", True, "PMP")),
        ("delivered_free_customer_service", MessagePricing("service", "free_customer_service", False, "PMP")),
        ("sent_free_entry_point", MessagePricing("utility", "free_entry_point", False, "PMP")),
        ("sent_cbp_before_july_2025", MessagePricing("marketing", "regular", True, "CBP")),
        ("read_new_category", MessagePricing("authentication_international", "regular", True, "PMP")),
        ("sent_unknown_pricing_strings", MessagePricing("marketing_lite", "free_future_kind", False, "XYZ")),
        ("delivered", None),
    ],
)
def test_status_pricing_is_read_as_meta_sends_it(variant: str, expected: MessagePricing | None) -> None:
    assert status_of(variant).pricing == expected


@pytest.mark.parametrize("variant", ["sent_malformed_pricing", "sent_pricing_wrong_field_types"])
def test_malformed_pricing_is_dropped_and_the_status_kept(variant: str, caplog: pytest.LogCaptureFixture) -> None:
    status = status_of(variant)
    assert status.status is StatusKind.SENT and status.wamid.startswith("wamid.")
    assert status.pricing is None
    assert "pricing ignored" in caplog.text


def test_billable_is_derived_from_the_type_when_meta_leaves_it_out() -> None:
    assert MessagePricing.from_raw({"type": "regular", "category": "marketing"}, wamid="w").billable is True
    assert MessagePricing.from_raw({"type": "free_entry_point", "category": "marketing"}, wamid="w").billable is False
    # Meta's own flag wins when it is there.
    assert MessagePricing.from_raw({"billable": False, "type": "regular", "category": "x"}, wamid="w").billable is False


def test_pricing_names_are_safe_as_fields_and_attribute_names() -> None:
    assert pricing_name("Authentication-International") == "authentication_international"
    assert pricing_name("  ") == "unknown"
    assert pricing_name("a:b{c}") == "a_b_c"
    assert len(pricing_name("x" * 100)) == 40


def test_billable_messages_count_by_category_and_free_ones_by_type() -> None:
    assert counter_of(MessagePricing("marketing", "regular", True)) == "billable:marketing"
    assert counter_of(MessagePricing("service", "free_customer_service", False)) == "free:free_customer_service"


def test_totals_add_buckets_up_and_ignore_foreign_fields() -> None:
    totals = CostTotals.of([
        {"billable:marketing": "2", "free:free_customer_service": "3"},
        {"billable:marketing": "1", "billable:utility": "4", "other": "9", "free:": "1"},
    ])  # fmt: skip
    assert totals.billable == {"marketing": 3, "utility": 4}
    assert totals.free == {"free_customer_service": 3}
    assert (totals.billable_count, totals.free_count) == (7, 3)


def test_days_are_utc_days() -> None:
    assert day_of(1_751_327_999) == "20250630"  # 23:59:59 UTC
    assert day_of(1_751_328_000) == "20250701"
