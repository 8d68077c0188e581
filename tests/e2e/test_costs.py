"""What each message costs, end to end: the Graph simulator prices the statuses it sends as Meta does, the
adapter counts each message once (Meta's pricing on `sent` and again on `delivered`, and its redeliveries),
writes the conversation's totals to its custom attributes, and the number's console page shows them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from adapter.work import kinds
from tests.browser import world as console
from tests.conftest import PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World, build_world
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

CUSTOMER = "16505551234"
PROMO = {
    "name": "spring_sale", "language": "en_US", "category": "MARKETING",
    "components": [{"type": "BODY", "text": "Spring sale for you, {{1}}!", "example": {"body_text": [["Ana"]]}}],
}
AD = {"source_url": "https://fb.me/2ZulEu42P", "source_id": "120211234567890", "source_type": "ad",
      "body": "Spring collection", "headline": "Chat with us", "media_type": "image",
      "image_url": "https://scontent.xx.fbcdn.net/ad.jpg", "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ"}  # fmt: skip


@pytest.fixture
def priced(store: redis.Redis, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator) -> Iterator[World]:
    built = build_world(store, graph_server, helpdesk_server, ADMIN_PASSWORD=console.ADMIN_PASSWORD,
                        SESSION_SECRET=console.SESSION_SECRET)  # fmt: skip
    graph_server.add_template(WABA, PROMO)
    services = built.adapter.services
    services.queue.enqueue(kinds.templates_sync(WABA))
    wait_for(lambda: services.templates.list(WABA), message="templates synced")
    yield built
    built.adapter.close()


def customer_writes(world: World, **extra: Any) -> int:
    message = {**mp.text("hello"), **extra}
    assert world.graph.post_webhook(mp.inbound(PNID, wa_id=CUSTOMER, name="Sheena", message=message,
                                               waba_id=WABA)).status_code == 200  # fmt: skip
    wait_for(lambda: world.conversations(), message="the conversation")
    return world.only_conversation_id()


def reply(world: World, conversation: int, text: str, **extra: Any) -> tuple[int, str]:
    """An agent's reply, sent to WhatsApp: its helpdesk id and its wamid."""
    count = len(world.graph.sent_messages)
    message, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, text, **extra)
    sent = wait_for(lambda: world.graph.sent_messages[count:], message="the reply sent")
    return int(message["id"]), str(sent[0]["wamid"])


def attributes(world: World, conversation: int) -> dict[str, Any]:
    return dict(world.helpdesk.conversation(ACCOUNT, conversation).get("custom_attributes") or {})


def wait_attributes(world: World, conversation: int, **expected: int) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        found = attributes(world, conversation)
        return found if all(found.get(name) == count for name, count in expected.items()) else None

    return dict(wait_for(matches, message=f"conversation attributes {expected}"))


def message_status(world: World, conversation: int, message_id: int) -> str:
    return str(next(m for m in world.helpdesk.messages_in(ACCOUNT, conversation) if m["id"] == message_id)["status"])


def test_a_free_reply_and_a_marketing_template_land_in_the_conversation_attributes_counted_once(
    priced: World, store: redis.Redis,
) -> None:
    world, ledger = priced, priced.adapter.services.costs
    conversation = customer_writes(world)
    message_id, wamid = reply(world, conversation, "Hello, how can I help?")
    for status in ("sent", "delivered", "read"):
        assert world.graph.deliver_status(wamid, status).status_code == 200
    sent_webhooks = [h["payload"] for h in world.graph.webhooks_sent if "statuses" in str(h["payload"])]
    items = [s for p in sent_webhooks for s in p["entry"][0]["changes"][0]["value"]["statuses"]]
    priced_items = [s for s in items if "pricing" in s]
    assert [s["status"] for s in priced_items] == ["sent", "delivered"]  # as Meta: sent and one later status
    assert priced_items[0]["pricing"] == {"billable": False, "pricing_model": "PMP", "type": "free_customer_service",
                                          "category": "service"}  # fmt: skip
    wait_for(lambda: message_status(world, conversation, message_id) == "read", message="the read tick")
    found = wait_attributes(world, conversation, whatsapp_free_customer_service=1)
    assert "whatsapp_window_open_until" in found  # merged with the window's attributes, not replaced

    # Meta redelivers the delivered webhook: at once (the web layer's dedupe) and after the dedupe marks expired.
    delivered = sent_webhooks[1]
    assert world.graph.post_webhook(delivered).status_code == 200
    for name in store.scan_iter("wa:dedupe:*"):
        store.delete(name)
    assert world.graph.post_webhook(delivered).status_code == 200
    wait_for(lambda: world.adapter.services.queue.backlog()["waiting"] == 0, message="the redeliveries handled")

    params = {"name": "spring_sale", "language": "en_US", "category": "MARKETING",
              "processed_params": {"body": {"1": "Sheena"}}}  # fmt: skip
    template_id, template_wamid = reply(world, conversation, "Spring sale for you, Sheena!", template_params=params)
    world.graph.deliver_status(template_wamid, "sent")
    world.graph.deliver_status(template_wamid, "delivered")
    found = wait_attributes(world, conversation, whatsapp_billable_marketing=1, whatsapp_free_customer_service=1)
    assert not any(name.startswith("whatsapp_free_entry") for name in found)

    assert ledger.totals(PNID, 1).billable == {"marketing": 1}
    assert ledger.totals(PNID, 30).free == {"free_customer_service": 1}
    assert ledger.pricing_of(PNID, wamid) is not None and ledger.pricing_of(PNID, wamid).category == "service"
    wait_for(lambda: message_status(world, conversation, template_id) == "delivered", message="the template delivered")

    client = world.adapter.app.test_client()
    console.sign_in(client)
    page = client.get(f"/admin/numbers/{PNID}").get_data(as_text=True)
    card = page[page.index('id="costs"'):page.index('id="verify"')]
    assert "What messages cost" in card
    assert re.search(r'data-name="marketing">\s*<th scope="row">marketing</th><td>1</td><td>1</td>', card)
    assert re.search(r'data-name="free_customer_service">\s*<th scope="row">customer service</th><td>1</td><td>1</td>',
                     card)  # fmt: skip
    assert re.search(r'data-name="free_entry_point">\s*<th scope="row">entry point</th><td>0</td><td>0</td>', card)


def test_an_answer_to_a_customer_from_an_ad_is_a_free_entry_point(priced: World) -> None:
    world = priced
    conversation = customer_writes(world, referral=AD)
    _, wamid = reply(world, conversation, "Thanks for your interest!")
    world.graph.deliver_status(wamid, "sent")
    (item,) = world.graph.webhooks_sent[-1]["payload"]["entry"][0]["changes"][0]["value"]["statuses"]
    assert item["conversation"]["origin"] == {"type": "referral_conversion"}
    assert item["pricing"]["type"] == "free_entry_point"
    wait_attributes(world, conversation, whatsapp_free_entry_point=1)
    assert world.adapter.services.costs.totals(PNID, 1).free == {"free_entry_point": 1}


def sent_while_attributes_fail(world: World, http_status: int) -> tuple[int, int, str]:
    """A reply whose `sent` status comes while the helpdesk refuses the next attribute write: conversation, message,
    wamid, once the sent tick is there."""
    conversation = customer_writes(world)
    message_id, wamid = reply(world, conversation, "On it")
    world.helpdesk.fail_next(1, http_status=http_status, path_contains="custom_attributes")
    world.graph.deliver_status(wamid, "sent")
    wait_for(lambda: message_status(world, conversation, message_id) == "sent", message="the sent tick")
    return conversation, message_id, wamid


def test_a_failed_attribute_write_never_loses_the_tick_and_is_written_on_the_retry(priced: World) -> None:
    world = priced
    conversation, _, _ = sent_while_attributes_fail(world, 503)
    wait_attributes(world, conversation, whatsapp_free_customer_service=1)


def test_an_attribute_write_that_cannot_succeed_is_dropped_and_the_tick_stands(priced: World) -> None:
    world = priced
    conversation, message_id, wamid = sent_while_attributes_fail(world, 422)
    world.graph.deliver_status(wamid, "delivered")  # counted already: the attributes are not written again
    wait_for(lambda: message_status(world, conversation, message_id) == "delivered", message="the delivered tick")
    assert "whatsapp_free_customer_service" not in attributes(world, conversation)
    assert world.adapter.services.costs.totals(PNID, 1).free == {"free_customer_service": 1}
    assert world.adapter.services.store.llen("wa:dead") == 0
