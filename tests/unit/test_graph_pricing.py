"""The Graph simulator prices messages as Meta does: free inside the customer service window (non-templates and
utility templates), free for 72 hours after answering a customer who came from an ad, charged otherwise; the
price rides on `sent` and on one later status."""

from __future__ import annotations

from tests.simulators import meta_payloads as mp
from tests.simulators.graph_pricing import PricingModel

NOW = 1_751_364_000.0
HOUR = 3600


def wrote(model: PricingModel, at: float, **extra: object) -> None:
    message = {**mp.text("hi"), "timestamp": str(int(at)), **extra}
    model.observe_webhook(mp.inbound("PNID1", wa_id="16505551234", name="S", message=message))


def price(model: PricingModel, category: str | None, at: float) -> dict[str, object]:
    return model.price("PNID1", "16505551234", category, at).pricing


def test_inside_the_window_replies_and_utility_templates_are_free() -> None:
    model = PricingModel()
    wrote(model, NOW)
    assert price(model, None, NOW + HOUR) == {"billable": False, "pricing_model": "PMP",
                                              "type": "free_customer_service", "category": "service"}  # fmt: skip
    assert price(model, "UTILITY", NOW + HOUR)["type"] == "free_customer_service"
    assert price(model, "MARKETING", NOW + HOUR) == {"billable": True, "pricing_model": "PMP", "type": "regular",
                                                     "category": "marketing"}  # fmt: skip


def test_outside_the_window_templates_are_charged() -> None:
    model = PricingModel()
    wrote(model, NOW)
    assert price(model, "UTILITY", NOW + 25 * HOUR)["type"] == "regular"
    assert price(model, "AUTHENTICATION", NOW)["category"] == "authentication"


def test_an_answer_to_an_ad_opens_a_72_hour_free_entry_point() -> None:
    model = PricingModel()
    wrote(model, NOW, referral={"source_type": "ad", "source_id": "1", "source_url": "https://fb.me/x"})
    first = model.price("PNID1", "16505551234", "MARKETING", NOW + HOUR)
    assert first.pricing["type"] == "free_entry_point" and first.pricing["billable"] is False
    assert first.conversation is not None and first.conversation["origin"] == {"type": "referral_conversion"}
    assert price(model, "MARKETING", NOW + 70 * HOUR)["type"] == "free_entry_point"
    assert price(model, "MARKETING", NOW + 74 * HOUR)["type"] == "regular"


def test_the_price_rides_on_sent_and_on_one_later_status() -> None:
    model = PricingModel()
    priced = model.price("PNID1", "16505551234", "MARKETING", NOW)
    assert "pricing" in model.carry(priced, "sent")
    assert "pricing" in model.carry(priced, "delivered")
    assert model.carry(priced, "read") == {}
    assert "pricing" in model.carry(priced, "delivered")  # a redelivery is the same webhook again
    skipped = model.price("PNID1", "16505551234", "MARKETING", NOW)
    assert "pricing" in model.carry(skipped, "read")  # delivered never came
    assert model.carry(skipped, "failed") == {}
