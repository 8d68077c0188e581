"""An agent typing in the helpdesk shows "typing…" on the customer's WhatsApp: once per burst, only inside
the window, never for a private note, and never in the way of the reply that follows."""

from __future__ import annotations

import time

import requests

from adapter.store import keys
from tests.conftest import HELPDESK_TOKEN, PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World
from tests.simulators import meta_payloads as mp

CUSTOMER = "16505551234"


def typing(world: World, conversation: int, *, private: bool = False) -> None:
    answer = requests.post(
        f"{world.helpdesk.base_url}/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/toggle_typing_status",
        json={"typing_status": "on", "is_private": private}, headers={"api_access_token": HELPDESK_TOKEN}, timeout=5,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


def indicators(world: World) -> list[dict[str, object]]:
    return [r["body"] for r in world.graph.read_receipts if "typing_indicator" in r["body"]]


def test_typing_shows_the_indicator_on_the_customers_last_message_once_per_burst(world: World) -> None:
    wamids = []
    for text in ("hi", "are you there?"):
        payload = mp.inbound(PNID, wa_id=CUSTOMER, name="S", message=mp.text(text), waba_id=WABA)
        wamids.append(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
        world.graph.post_webhook(payload)
    wait_for(lambda: world.conversations())
    conversation = world.only_conversation_id()
    wait_for(lambda: len(world.helpdesk.messages_in(ACCOUNT, conversation)) == 2, message="both messages")
    typing(world, conversation)
    (shown,) = wait_for(lambda: indicators(world), message="the typing indicator")
    assert shown == {"messaging_product": "whatsapp", "status": "read", "message_id": wamids[-1],
                     "typing_indicator": {"type": "text"}}  # fmt: skip
    typing(world, conversation)  # the same burst of keystrokes
    typing(world, conversation, private=True)  # a private note is not for the customer
    world.helpdesk.agent_reply(ACCOUNT, conversation, "Yes, here!")
    wait_for(lambda: world.graph.sent_messages, message="the reply, not held up by the indicator")
    time.sleep(0.5)
    assert len(indicators(world)) == 1


def test_no_indicator_outside_the_window(world: World) -> None:
    world.graph.post_webhook(mp.inbound(PNID, wa_id=CUSTOMER, name="S", message=mp.text("hi"), waba_id=WABA))
    wait_for(lambda: world.conversations())
    services = world.adapter.services
    services.store.delete(keys.window(PNID, CUSTOMER))  # the customer last wrote more than 24 hours ago
    assert not services.window.is_open(PNID, CUSTOMER)
    typing(world, world.only_conversation_id())
    wait_for(lambda: services.queue.backlog()["waiting"] == 0, message="the typing job handled")
    time.sleep(0.5)
    assert indicators(world) == []
