"""The 24-hour window and templates end to end, with the adapter's clock moved to the second."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from adapter import scheduler
from adapter.clock import OffsetClock
from tests.conftest import PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World, build_world
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

CUSTOMER = "16505551234"
HOUR = 3600
ORDER_UPDATE = {
    "name": "order_update", "language": "en_US", "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.",
                    "example": {"body_text": [["Ana", "123"]]}}],
}
REENGAGE = {
    "name": "reengage", "language": "en_US", "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Hello {{1}}, {{2}} has a reply for you: {{3}} Reply to continue.",
                    "example": {"body_text": [["Ana", "Bob", "text"]]}}],
}
PROMO = {
    "name": "spring_sale", "language": "en_US", "category": "MARKETING",
    "components": [{"type": "BODY", "text": "Spring sale for you, {{1}}!", "example": {"body_text": [["Ana"]]}}],
}


@dataclasses.dataclass
class Timed:
    world: World
    clock: OffsetClock
    template_ids: dict[str, str]

    @property
    def graph(self) -> GraphSimulator:
        return self.world.graph

    @property
    def helpdesk(self) -> HelpdeskSimulator:
        return self.world.helpdesk

    def customer_writes(self, message: dict[str, Any] | None = None) -> None:
        payload = mp.inbound(PNID, wa_id=CUSTOMER, name="Sheena", message=message or mp.text("hello"), waba_id=WABA)
        count = len(self.helpdesk.messages)
        assert self.graph.post_webhook(payload).status_code == 200
        wait_for(lambda: len(self.helpdesk.messages) > count, message="the customer's message in the helpdesk")

    def conversation(self) -> int:
        return self.world.only_conversation_id()

    def row(self, message_id: int) -> dict[str, Any]:
        return next(m for m in self.helpdesk.messages_in(ACCOUNT, self.conversation()) if m["id"] == message_id)

    def wait_status(self, message_id: int, status: str) -> dict[str, Any]:
        return dict(wait_for(lambda: self.row(message_id) if self.row(message_id)["status"] == status else None,
                             message=f"message {message_id} {status}"))

    def private_notes(self) -> list[str]:
        return [m["content"] for m in self.helpdesk.messages_in(ACCOUNT, self.conversation()) if m["private"]]

    def set_channel(self, **changes: Any) -> None:
        services = self.world.adapter.services
        channel = services.channels.get(PNID)
        assert channel is not None
        services.channels.save(dataclasses.replace(channel, **changes))

    def inbox_templates(self) -> list[str]:
        inbox = self.helpdesk.inboxes[self.world.inbox_id]
        attributes = inbox.get("additional_attributes") or inbox.get("channel", {}).get("additional_attributes") or {}
        return [t["name"] for t in attributes.get("message_templates") or []]


@pytest.fixture
def timed(store: redis.Redis, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator) -> Iterator[Timed]:
    clock = OffsetClock()
    world = build_world(store, graph_server, helpdesk_server, clock=clock)
    ids = {t["name"]: graph_server.add_template(WABA, t) for t in (ORDER_UPDATE, REENGAGE, PROMO)}
    services = world.adapter.services
    from adapter.work import kinds

    services.queue.enqueue(kinds.templates_sync(WABA))
    wait_for(lambda: len(services.templates.list(WABA)) == 3, message="templates synced")
    yield Timed(world, clock, ids)
    world.adapter.close()


def test_syncing_templates_fills_the_inbox_picker_and_its_reply_window(timed: Timed) -> None:
    wait_for(lambda: sorted(timed.inbox_templates()) == ["order_update", "reengage", "spring_sale"],
             message="approved templates in the inbox")
    inbox = timed.helpdesk.inboxes[timed.world.inbox_id]
    attributes = inbox.get("additional_attributes") or inbox.get("channel", {}).get("additional_attributes")
    assert attributes["agent_reply_time_window"] == 24


def test_a_free_reply_at_23h59_goes_out_and_at_24h01_is_rejected_with_a_note(timed: Timed) -> None:
    timed.customer_writes()
    timed.clock.advance(23 * HOUR + 59 * 60)
    timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "Still there?")
    wait_for(lambda: len(timed.graph.sent_messages) == 1, message="the reply inside the window")
    timed.clock.advance(2 * 60)
    late, _ = timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "Hello again?")
    failed = timed.wait_status(late["id"], "failed")
    assert "24-hour WhatsApp window closed" in failed["content_attributes"]["external_error"]
    notes = wait_for(timed.private_notes, message="the private note")
    assert "template" in notes[0] and "window" in notes[0]
    assert len(timed.graph.sent_messages) == 1


def test_the_ai_agent_is_held_to_the_same_window(timed: Timed) -> None:
    timed.customer_writes()
    timed.clock.advance(24 * HOUR + 60)
    timed.helpdesk.add_agent_bot(ACCOUNT)
    reply, _ = timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "I am the AI agent", sender="agent_bot")
    timed.wait_status(reply["id"], "failed")
    assert timed.graph.sent_messages == []


def test_reroute_sends_the_late_reply_as_the_numbers_template(timed: Timed) -> None:
    timed.set_channel(window_policy="reroute", reroute_template_name="reengage", reroute_template_language="en_US",
                      reroute_parameters=("contact_name", "agent_name", "reply_text"))
    timed.customer_writes()
    timed.clock.advance(24 * HOUR + 60)
    timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "Your refund\nwas approved.")
    sent = wait_for(lambda: timed.graph.sent_messages[:1], message="the rerouted template")
    template = sent[0]["body"]["template"]
    assert sent[0]["body"]["type"] == "template" and template["name"] == "reengage"
    values = [p["text"] for p in template["components"][0]["parameters"]]
    assert values == ["Sheena", "Ana Agent", "Your refund was approved."]


def test_reroute_that_cannot_be_done_falls_back_to_reject(timed: Timed) -> None:
    timed.set_channel(window_policy="reroute", reroute_template_name="reengage", reroute_template_language="en_US",
                      reroute_parameters=("contact_name",))
    timed.customer_writes()
    timed.clock.advance(25 * HOUR)
    reply, _ = timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "hi")
    timed.wait_status(reply["id"], "failed")
    notes = wait_for(timed.private_notes)
    assert "expects 3 body parameters" in notes[0]


def test_an_agent_template_with_a_missing_parameter_fails_locally(timed: Timed) -> None:
    timed.customer_writes()
    params = {"name": "order_update", "language": "en_US", "processed_params": {"body": {"1": "Sheena"}}}
    reply, _ = timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "Hi Sheena", template_params=params)
    failed = timed.wait_status(reply["id"], "failed")
    assert "template order_update expects 2 body parameters, got 1" in failed["content_attributes"]["external_error"]
    assert timed.graph.sent_messages == []


def test_an_agent_template_goes_out_outside_the_window_and_the_customers_answer_reopens_it(timed: Timed) -> None:
    timed.customer_writes()
    timed.clock.advance(30 * HOUR)
    params = {"name": "order_update", "language": "en_US",
              "processed_params": {"body": {"1": "Sheena", "2": "A-77"}}}
    timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "Hi Sheena, your order A-77 has shipped.",
                               template_params=params)
    sent = wait_for(lambda: timed.graph.sent_messages[:1], message="the template")
    assert [p["text"] for p in sent[0]["body"]["template"]["components"][0]["parameters"]] == ["Sheena", "A-77"]
    free, _ = timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "anything else?")
    timed.wait_status(free["id"], "failed")
    # The customer's answer must carry a timestamp at the moved clock's "now" to reopen the window.
    answer = {**mp.button("Thanks", "THANKS", sent[0]["wamid"]), "timestamp": str(int(timed.clock.now()))}
    timed.customer_writes(answer)
    timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "Glad to help!")
    wait_for(lambda: len(timed.graph.sent_messages) == 2, message="the free reply after the customer answered")


def test_a_rejected_template_shows_its_reason_and_leaves_the_picker(timed: Timed) -> None:
    wait_for(lambda: "order_update" in timed.inbox_templates())
    change = mp.template_status_update(
        timed.template_ids["order_update"], "order_update", "en_US", "REJECTED", reason="PROMOTIONAL"
    )
    webhook = mp.envelope(WABA, [change])
    assert timed.graph.post_webhook(webhook).status_code == 200
    wait_for(lambda: "order_update" not in timed.inbox_templates(), message="the template gone from the picker")
    listed = timed.world.adapter.services.templates.get(WABA, "order_update", "en_US")
    assert listed is not None and listed.status == "REJECTED"
    assert "promotional" in (listed.blocked_reason() or "").lower()


def test_a_131047_failure_arriving_later_takes_the_window_path(timed: Timed) -> None:
    timed.customer_writes()
    reply, _ = timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "sent just in time?")
    sent = wait_for(lambda: timed.graph.sent_messages[:1])
    timed.clock.advance(25 * HOUR)
    error = mp.error_object(131047, "Re-engagement message", "more than 24 hours have passed")
    timed.graph.deliver_status(sent[0]["wamid"], "failed", errors=[error])
    failed = timed.wait_status(reply["id"], "failed")
    assert "window closed" in failed["content_attributes"]["external_error"]
    assert wait_for(timed.private_notes)


def test_marketing_templates_are_not_sent_after_stop(timed: Timed) -> None:
    timed.customer_writes(mp.text("STOP"))
    params = {"name": "spring_sale", "language": "en_US", "processed_params": {"body": {"1": "Sheena"}}}
    reply, _ = timed.helpdesk.agent_reply(ACCOUNT, timed.conversation(), "Spring sale", template_params=params)
    failed = timed.wait_status(reply["id"], "failed")
    assert "opted out of marketing" in failed["content_attributes"]["external_error"]


def test_agents_are_warned_once_before_the_window_closes_on_a_waiting_customer(timed: Timed) -> None:
    timed.customer_writes()
    services = timed.world.adapter.services
    assert scheduler.enqueue_window_warnings(services) == 0
    timed.clock.advance(23 * HOUR + 30 * 60)
    assert scheduler.enqueue_window_warnings(services) == 1
    assert scheduler.enqueue_window_warnings(services) == 0
    notes = wait_for(timed.private_notes, message="the warning note")
    assert "closes at" in notes[0]


def test_the_window_is_written_to_contact_and_conversation_attributes(timed: Timed) -> None:
    timed.customer_writes()
    (contact,) = timed.helpdesk.contacts.values()
    until = wait_for(lambda: (contact.get("custom_attributes") or {}).get("whatsapp_window_open_until"))
    on_conversation = wait_for(lambda: timed.helpdesk.conversation(ACCOUNT, timed.conversation())[
        "custom_attributes"].get("whatsapp_window_open_until"), message="the conversation attribute")
    assert on_conversation == until



def test_a_template_with_a_header_variable_is_kept_out_of_the_helpdesk_picker(timed: Timed) -> None:
    """Chatwoot's picker has no field for a text-header variable: offering it would only produce refusals."""
    shipped = {"name": "shipped_header", "language": "en_US", "category": "UTILITY", "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
        {"type": "BODY", "text": "Your order is on its way to you now.", "example": {}}]}  # fmt: skip
    timed.graph.add_template(WABA, shipped)
    services = timed.world.adapter.services
    from adapter.work import kinds

    services.queue.enqueue(kinds.templates_sync(WABA))
    wait_for(lambda: len(services.templates.list(WABA)) == 4, message="the header template synced")
    wait_for(lambda: sorted(timed.inbox_templates()) == ["order_update", "reengage", "spring_sale"],
             message="the picker without it")  # fmt: skip
    template = next(t for t in services.templates.list(WABA) if t.name == "shipped_header")
    assert template.is_sendable and not template.picker_can_fill
