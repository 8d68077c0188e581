"""Meta <-> helpdesk end to end: the adapter's web and workers against both simulators on loopback."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World
from tests.simulators import meta_payloads as mp

CUSTOMER = "16505551234"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 50
PDF = b"%PDF-1.4 invoice"


def inbound(world: World, message: dict[str, Any], **kw: Any) -> dict[str, Any]:
    payload = mp.inbound(PNID, wa_id=kw.pop("wa_id", CUSTOMER), name=kw.pop("name", "Sheena Nelson"),
                         message=message, display_phone_number="15550783881", waba_id=WABA, **kw)
    response = world.graph.post_webhook(payload)
    assert response.status_code == 200, response.text
    return payload


def wamid_of(payload: dict[str, Any]) -> str:
    return str(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])


def helpdesk_messages(world: World, count: int, conversation: int | None = None) -> list[dict[str, Any]]:
    def ready() -> list[dict[str, Any]] | None:
        if not world.conversations():
            return None
        messages = world.helpdesk.messages_in(ACCOUNT, conversation or world.only_conversation_id())
        return messages if len(messages) >= count else None

    return list(wait_for(ready, message=f"{count} helpdesk messages"))


def test_text_image_and_location_arrive_in_one_conversation_of_one_contact(world: World) -> None:
    media_id = world.graph.add_media(JPEG, "image/jpeg")
    first = inbound(world, mp.text("Does it come in another color?"))
    inbound(world, mp.image(media_id, caption="this one"))
    inbound(world, mp.location(37.4, -122.2, name="Shop", address="1 Main St"))
    messages = helpdesk_messages(world, 3)
    assert [m["message_type"] for m in messages] == [0, 0, 0]  # incoming, REST encoding
    assert messages[0]["content"] == "Does it come in another color?"
    assert messages[0]["source_id"] == wamid_of(first)
    assert messages[1]["content"] == "this one" and messages[1]["attachments"][0]["data"] == JPEG
    assert messages[1]["attachments"][0]["file_type"] == "image"
    assert "📍 Location" in messages[2]["content"] and "1 Main St" in messages[2]["content"]
    (contact,) = world.helpdesk.contacts.values()
    assert contact["name"] == "Sheena Nelson" and contact["phone_number"] == "+" + CUSTOMER
    assert world.adapter.services.window.last_inbound(PNID, CUSTOMER) is not None


def test_a_duplicate_meta_delivery_creates_nothing_twice(world: World) -> None:
    payload = inbound(world, mp.text("hello"))
    world.graph.post_webhook(payload)
    world.graph.post_webhook(payload)
    inbound(world, mp.text("second"))
    messages = helpdesk_messages(world, 2)
    assert [m["content"] for m in messages] == ["hello", "second"]
    assert len(world.helpdesk.contacts) == 1


def test_an_agent_reply_with_two_attachments_goes_out_as_three_messages_and_ticks_come_back(world: World) -> None:
    inbound(world, mp.text("Send me the invoice"))
    conversation = world.only_conversation_id() if helpdesk_messages(world, 1) else 0
    message, status = world.helpdesk.agent_reply(
        ACCOUNT, conversation, "Here it is, **thanks** for waiting",
        attachments=[("label.jpg", JPEG, "image/jpeg"), ("invoice.pdf", PDF, "application/pdf")],
    )
    assert status == 200
    sent = wait_for(lambda: world.graph.sent_messages if len(world.graph.sent_messages) == 3 else None)
    bodies = [s["body"] for s in sent]
    assert [b["type"] for b in bodies] == ["text", "image", "document"]
    assert bodies[0]["text"]["body"] == "Here it is, *thanks* for waiting"
    assert all(b["to"] == "+" + CUSTOMER for b in bodies)
    assert bodies[2]["document"]["filename"] == "invoice.pdf"
    uploads = {u["mime_type"]: u["content"] for u in world.graph.uploads.values()}
    assert uploads == {"image/jpeg": JPEG, "application/pdf": PDF}

    def helpdesk_status() -> str:
        (row,) = [m for m in world.helpdesk.messages_in(ACCOUNT, conversation) if m["id"] == message["id"]]
        return str(row["status"])

    for item in sent:
        world.graph.deliver_status(item["wamid"], "delivered")
    wait_for(lambda: helpdesk_status() == "delivered", message="delivered tick")
    world.graph.deliver_status(sent[0]["wamid"], "read")
    world.graph.deliver_status(sent[1]["wamid"], "read")
    assert helpdesk_status() == "delivered"  # one part is still unread
    world.graph.deliver_status(sent[2]["wamid"], "read")
    wait_for(lambda: helpdesk_status() == "read", message="read tick")


def test_statuses_never_go_backwards_and_failures_explain_themselves(world: World) -> None:
    inbound(world, mp.text("hi"))
    conversation = world.only_conversation_id() if helpdesk_messages(world, 1) else 0
    first, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, "one")
    second, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, "two")
    sent = wait_for(lambda: world.graph.sent_messages if len(world.graph.sent_messages) == 2 else None)
    world.graph.deliver_status(sent[0]["wamid"], "read")
    world.graph.deliver_status(sent[0]["wamid"], "delivered")
    world.graph.deliver_status(sent[0]["wamid"], "sent")
    world.graph.deliver_status(
        sent[1]["wamid"], "failed", errors=[mp.error_object(131026, "Message undeliverable", "Unable to deliver")]
    )

    def row(message_id: int) -> dict[str, Any]:
        return next(m for m in world.helpdesk.messages_in(ACCOUNT, conversation) if m["id"] == message_id)

    failed = wait_for(lambda: row(second["id"]) if row(second["id"])["status"] == "failed" else None)
    assert failed["content_attributes"]["external_error"].startswith("WhatsApp error 131026:")
    assert row(first["id"])["status"] == "read"


def test_a_permanent_graph_error_marks_the_reply_failed_with_a_plain_reason(world: World) -> None:
    inbound(world, mp.text("hi"))
    conversation = world.only_conversation_id() if helpdesk_messages(world, 1) else 0
    world.graph.fail_next(1, http_status=400, code=131026, title="Message undeliverable")
    message, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, "are you there?")

    def failed() -> dict[str, Any] | None:
        row = next(m for m in world.helpdesk.messages_in(ACCOUNT, conversation) if m["id"] == message["id"])
        return row if row["status"] == "failed" else None

    row = wait_for(failed)
    assert "131026" in row["content_attributes"]["external_error"]
    assert world.graph.sent_messages == []


def test_a_transient_graph_error_is_retried_and_sent_exactly_once(world: World) -> None:
    inbound(world, mp.text("hi"))
    conversation = world.only_conversation_id() if helpdesk_messages(world, 1) else 0
    world.graph.fail_next(2, http_status=500, code=131000)
    world.helpdesk.agent_reply(ACCOUNT, conversation, "retry me")
    wait_for(lambda: len(world.graph.sent_messages) == 1)
    assert list(world.graph.sends_by_key().values()) == [1]


def test_quotes_link_both_ways_and_reactions_show_on_the_reacted_message(world: World) -> None:
    customer_message = inbound(world, mp.text("Which size?"))
    conversation = world.only_conversation_id() if helpdesk_messages(world, 1) else 0
    quoted = helpdesk_messages(world, 1, conversation)[0]
    agent_message, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, "Medium", in_reply_to=quoted["id"])
    sent = wait_for(lambda: world.graph.sent_messages[:1])
    assert sent[0]["body"]["context"] == {"message_id": wamid_of(customer_message)}
    inbound(world, {**mp.text("Thanks!"), "context": {"from": "15550783881", "id": sent[0]["wamid"]}})
    inbound(world, mp.reaction(sent[0]["wamid"], "👍"))
    messages = helpdesk_messages(world, 4, conversation)
    thanks, reaction = messages[2], messages[3]
    assert thanks["content_attributes"]["in_reply_to"] == agent_message["id"]
    assert reaction["content"] == "Reacted 👍" and reaction["content_attributes"]["in_reply_to"] == agent_message["id"]


def test_the_ai_agent_replies_like_an_agent_and_private_notes_stay_private(world: World) -> None:
    inbound(world, mp.text("hi"))
    conversation = world.only_conversation_id() if helpdesk_messages(world, 1) else 0
    world.helpdesk.add_agent_bot(ACCOUNT)
    world.helpdesk.agent_reply(ACCOUNT, conversation, "internal only", private=True)
    world.helpdesk.agent_reply(ACCOUNT, conversation, "Hello from the AI agent", sender="agent_bot")
    sent = wait_for(lambda: world.graph.sent_messages[:1])
    assert sent[0]["body"]["text"]["body"] == "Hello from the AI agent"
    assert len(world.graph.sent_messages) == 1


def test_a_resolved_conversation_is_not_reused(world: World) -> None:
    inbound(world, mp.text("first issue"))
    first = world.only_conversation_id() if helpdesk_messages(world, 1) else 0
    assert world.helpdesk.set_status(ACCOUNT, first, "resolved") == 200
    wait_for(lambda: world.adapter.services.mappings.conversation(PNID, CUSTOMER) is None, message="cache reset")
    inbound(world, mp.text("new issue"))
    wait_for(lambda: len(world.conversations()) == 2, message="a second conversation")


def test_wrong_signatures_are_refused_on_both_sides(world: World) -> None:
    payload = mp.inbound(PNID, wa_id=CUSTOMER, name="x", message=mp.text("forged"), waba_id=WABA)
    assert world.graph.post_webhook(payload, signature="sha256=" + "0" * 64).status_code == 401
    forged = {"event": "message_created", "id": 1, "message_type": "outgoing", "content": "forged",
              "conversation": {"id": 1, "contact_inbox": {"source_id": CUSTOMER}}}
    assert world.helpdesk.post_webhook(world.inbox_id, forged, secret="not-the-secret").status_code == 401
    assert world.graph.sent_messages == [] and world.helpdesk.contacts == {}


def test_a_payload_for_an_unknown_number_is_kept_and_delivered_once_its_channel_exists(world: World) -> None:
    services = world.adapter.services
    channel = services.channels.get(PNID)
    assert channel is not None
    services.channels.remove(PNID)
    inbound(world, mp.text("anyone there?"))
    wait_for(lambda: services.events.unrouted(), message="kept as unrouted")
    services.channels.save(channel)
    from adapter.admin_actions import replay_unrouted

    assert replay_unrouted(services) == 1
    assert helpdesk_messages(world, 1)[0]["content"] == "anyone there?"


def test_inbound_waits_while_the_helpdesk_is_down_and_arrives_in_order(world: World) -> None:
    world.helpdesk.set_down(True)
    for n in range(3):
        inbound(world, mp.text(f"message {n}"))
    wait_for(lambda: world.adapter.services.queue.backlog()["retrying_chats"] >= 1, message="retrying")
    world.helpdesk.set_down(False)
    messages = helpdesk_messages(world, 3)
    assert [m["content"] for m in messages] == ["message 0", "message 1", "message 2"]


def test_the_helpdesk_retry_button_really_resends_a_failed_reply(world: World) -> None:
    inbound(world, mp.text("hi"))
    conversation = world.only_conversation_id() if helpdesk_messages(world, 1) else 0
    world.graph.fail_next(1, http_status=400, code=131026, title="Message undeliverable")
    message, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, "second try works")

    def status() -> str:
        rows = world.helpdesk.messages_in(ACCOUNT, conversation)
        return str(next(m for m in rows if m["id"] == message["id"])["status"])

    wait_for(lambda: status() == "failed", message="failed first")
    # Retry in the helpdesk: the message is set back to `sent` and its external_error cleared.
    import requests

    url = f"{world.helpdesk.base_url}/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/messages/{message['id']}"
    assert requests.patch(url, json={"status": "sent"}, headers={"api_access_token": "helpdesk-token-1"},
                          timeout=5).status_code == 200
    sent = wait_for(lambda: world.graph.sent_messages[:1], message="resent after Retry")
    assert sent[0]["body"]["text"]["body"] == "second try works"
    time.sleep(0.5)
    assert len(world.graph.sent_messages) == 1


def test_a_replayed_helpdesk_delivery_is_refused_unless_it_changes_nothing(world: World) -> None:
    resolved = {"event": "conversation_status_changed", "status": "resolved", "id": 1,
                "contact_inbox": {"source_id": "16505551234"}}
    first = world.helpdesk.post_webhook(world.inbox_id, resolved, delivery_id="d-1")
    again = world.helpdesk.post_webhook(world.inbox_id, resolved, delivery_id="d-1")
    assert first.status_code == 200 and again.status_code == 409
    typing = {"event": "conversation_typing_on", "conversation": {"id": 1}}
    answers = [world.helpdesk.post_webhook(world.inbox_id, typing, delivery_id="d-2") for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200] and "ignored" in answers[1].json()


def test_a_customer_message_that_cannot_be_added_leaves_a_note_and_a_dead_letter(world: World) -> None:
    inbound(world, mp.text("first"))
    helpdesk_messages(world, 1)
    world.helpdesk.fail_next(1, http_status=422, path_contains="/messages")
    payload = inbound(world, mp.text("this one is refused"))
    dead = wait_for(lambda: world.adapter.services.queue.dead_letters(), message="the dead letter")
    assert dead[0]["job"]["payload"]["message"]["id"] == wamid_of(payload)
    notes = wait_for(lambda: [m for m in helpdesk_messages(world, 2) if m["private"]], message="the note")
    assert dead[0]["job"]["id"] in notes[0]["content"]
