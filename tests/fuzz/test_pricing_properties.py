"""Whatever Meta (or anyone) puts in a status's `pricing`, the status stands, and what is kept of the pricing is
safe to count: names a Redis field and a custom attribute can carry."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapter.meta.events import MessageStatus, StatusKind
from tests import contracts
from tests.fuzz.strategies import fuzz_settings, json_values, odd_text

SENT = contracts.load("meta_statuses")["sent"]["entry"][0]["changes"][0]["value"]["statuses"][0]
SAFE_NAME = re.compile(r"[a-z0-9_]{1,40}")
PRICING_FIELDS = st.fixed_dictionaries(
    {},
    optional={"billable": json_values(), "pricing_model": json_values(), "type": st.one_of(odd_text, json_values()),
              "category": st.one_of(odd_text, json_values())},
)  # fmt: skip


@fuzz_settings(max_examples=300)
@given(pricing=st.one_of(json_values(), PRICING_FIELDS))
def test_any_pricing_keeps_the_status_and_only_safe_names(pricing: Any) -> None:
    item = copy.deepcopy(SENT)
    item["pricing"] = pricing
    status = MessageStatus.from_item(item, phone_number_id="PNID1")
    assert status.status is StatusKind.SENT and status.wamid == SENT["id"]
    if status.pricing is not None:
        assert SAFE_NAME.fullmatch(status.pricing.category) and SAFE_NAME.fullmatch(status.pricing.type)
        assert isinstance(status.pricing.billable, bool) and len(status.pricing.pricing_model) <= 10
