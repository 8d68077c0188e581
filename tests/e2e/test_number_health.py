"""Meta's number events reach the outbound path: until the display name is approved, replies are failed
with the product guide's explanation instead of vanishing; traffic is counted for the console's chart."""

from __future__ import annotations

from typing import Any

from adapter.monitoring import traffic
from tests.conftest import PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World
from tests.simulators import meta_payloads as mp


def name_update(decision: str) -> dict[str, Any]:
    change = {"field": "phone_number_name_update", "value": {
        "display_phone_number": "15550783881", "decision": decision, "requested_verified_name": "Acme Support",
        "rejection_reason": None}}
    return mp.envelope(WABA, [change])


def test_replies_wait_for_the_display_name_and_go_once_it_is_approved(world: World) -> None:
    world.graph.post_webhook(mp.inbound(PNID, wa_id="16505551234", name="S", message=mp.text("hi"), waba_id=WABA))
    wait_for(lambda: world.conversations())
    conversation = world.only_conversation_id()
    assert world.graph.post_webhook(name_update("PENDING")).status_code == 200
    services = world.adapter.services
    wait_for(lambda: services.bridge().name_gate(PNID), message="the name under review")
    held, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, "hello?")

    def row() -> dict[str, Any]:
        return next(m for m in world.helpdesk.messages_in(ACCOUNT, conversation) if m["id"] == held["id"])

    failed = wait_for(lambda: row() if row()["status"] == "failed" else None)
    assert failed["content_attributes"]["external_error"].startswith("Messages sent but not received")
    assert world.graph.sent_messages == []
    world.graph.post_webhook(name_update("APPROVED"))
    wait_for(lambda: services.bridge().name_gate(PNID) is None, message="the name approved")
    world.helpdesk.agent_reply(ACCOUNT, conversation, "now it works")
    wait_for(lambda: world.graph.sent_messages, message="the reply sent")
    def counted() -> tuple[int, int]:  # the inbound count is written behind, within a second
        day = traffic.last_day(services.store, PNID, services.clock.now())
        return sum(h.inbound for h in day), sum(h.outbound for h in day)

    assert wait_for(lambda: counted() if counted() == (1, 1) else None, timeout=3, message="the counts") == (1, 1)
