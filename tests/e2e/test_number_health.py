"""Meta's number events reach the console, not the send path: while the display name is under review or
declined, replies inside the window are sent (the review gates branding, not delivery) and the console
warns; traffic is counted for the console's chart."""

from __future__ import annotations

from typing import Any

from adapter.monitoring import number_health, traffic
from tests.conftest import PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World
from tests.simulators import meta_payloads as mp


def name_update(decision: str) -> dict[str, Any]:
    change = {"field": "phone_number_name_update", "value": {
        "display_phone_number": "15550783881", "decision": decision, "requested_verified_name": "Acme Support",
        "rejection_reason": "NAME_FORMAT_UNACCEPTABLE" if decision == "REJECTED" else None}}
    return mp.envelope(WABA, [change])


def test_replies_are_sent_while_the_display_name_is_pending_or_declined(world: World) -> None:
    world.graph.post_webhook(mp.inbound(PNID, wa_id="16505551234", name="S", message=mp.text("hi"), waba_id=WABA))
    wait_for(lambda: world.conversations())
    conversation = world.only_conversation_id()
    services = world.adapter.services
    for decision, shown in (("PENDING", "PENDING_REVIEW"), ("REJECTED", "DECLINED")):
        assert world.graph.post_webhook(name_update(decision)).status_code == 200
        wait_for(lambda status=shown: status in (number_health.name_warning(services.store, PNID) or ""),
                 message=shown)  # fmt: skip
        before = len(world.graph.sent_messages)
        reply, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, f"hello while {shown}")
        sent = wait_for(lambda start=before: world.graph.sent_messages[start:], message=f"the reply while {shown}")
        assert sent[0]["body"]["text"]["body"] == f"hello while {shown}"
        row = next(m for m in world.helpdesk.messages_in(ACCOUNT, conversation) if m["id"] == reply["id"])  # noqa: B023
        assert row["status"] != "failed"
    world.graph.post_webhook(name_update("APPROVED"))
    wait_for(lambda: number_health.name_warning(services.store, PNID) is None, message="the name approved")

    def counted() -> tuple[int, int]:  # the inbound count is written behind, within a second
        day = traffic.last_day(services.store, PNID, services.clock.now())
        return sum(h.inbound for h in day), sum(h.outbound for h in day)

    assert wait_for(lambda: counted() if counted() == (1, 2) else None, timeout=3, message="the counts") == (1, 2)
