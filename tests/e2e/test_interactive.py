"""A bot's or agent's rich message reaches WhatsApp as buttons, a list, a card or text, within Meta's limits
(the Graph simulator refuses what Meta refuses), and the customer's tap comes back as the chosen item."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from adapter.clock import OffsetClock
from tests.conftest import PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World, build_world
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

CUSTOMER = "16505551234"


def customer_writes(world: World, text: str = "hi") -> int:
    """The customer opens the window, in an inbox that has an agent bot."""
    world.helpdesk.add_agent_bot(ACCOUNT)
    count = len(world.helpdesk.messages)
    world.graph.post_webhook(mp.inbound(PNID, wa_id=CUSTOMER, name="Sheena", message=mp.text(text), waba_id=WABA))
    wait_for(lambda: len(world.helpdesk.messages) > count, message="the customer's message")
    return world.only_conversation_id()


def bot_says(world: World, conversation: int, content: str, content_type: str, items: list[dict[str, Any]]
             ) -> dict[str, Any]:  # fmt: skip
    message, status = world.helpdesk.agent_reply(
        ACCOUNT, conversation, content, sender="agent_bot", content_type=content_type,
        content_attributes={"items": items},
    )  # fmt: skip
    assert status == 200, message
    return message


def sent(world: World, count: int) -> list[dict[str, Any]]:
    return list(wait_for(lambda: world.graph.sent_messages if len(world.graph.sent_messages) >= count else None,
                         message=f"{count} messages sent"))  # fmt: skip


def status_of(world: World, conversation: int, message_id: int) -> str:
    return next(str(m["status"]) for m in world.helpdesk.messages_in(ACCOUNT, conversation) if m["id"] == message_id)


def newest(world: World, conversation: int) -> dict[str, Any]:
    return world.helpdesk.messages_in(ACCOUNT, conversation)[-1]


def test_three_options_are_reply_buttons_and_the_tap_comes_back_as_the_chosen_item(world: World) -> None:
    conversation = customer_writes(world)
    items = [{"title": "Sales", "value": "sales"}, {"title": "Support", "value": "support"},
             {"title": "Schedule a callback tomorrow", "value": "callback"}]  # fmt: skip
    question = bot_says(world, conversation, "How can we help?", "input_select", items)
    (out,) = sent(world, 1)
    assert out["body"]["type"] == "interactive" and out["body"]["interactive"]["type"] == "button"
    titles = [b["reply"]["title"] for b in out["body"]["interactive"]["action"]["buttons"]]
    assert titles == ["Sales", "Support", "Schedule a callback…"]  # shortened, so Meta accepts it
    wait_for(lambda: status_of(world, conversation, question["id"]) == "sent", message="the question sent")

    assert world.graph.tap(out["wamid"], 2).status_code == 200
    answer = wait_for(lambda: newest(world, conversation) if newest(world, conversation)["id"] != question["id"]
                      else None, message="the tap in the helpdesk")  # fmt: skip
    assert answer["message_type"] == 0 and answer["content"] == "Schedule a callback tomorrow"  # the full title
    assert answer["content_attributes"]["in_reply_to"] == question["id"]
    assert answer["content_attributes"]["submitted_values"] == [
        {"title": "Schedule a callback tomorrow", "value": "callback"}
    ]


def test_seven_options_are_a_list_and_a_row_tap_comes_back(world: World) -> None:
    conversation = customer_writes(world)
    long_title = "Change the delivery address of my order"
    items = [{"title": t, "value": f"opt{n}"} for n, t in
             enumerate(["Track", "Return", "Invoice", "Cancel", "Exchange", "Warranty", long_title])]  # fmt: skip
    question = bot_says(world, conversation, "Pick a topic", "input_select", items)
    (out,) = sent(world, 1)
    rows = out["body"]["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == 7 and rows[6]["title"] == "Change the delivery…" and rows[6]["description"] == long_title
    world.graph.tap(out["wamid"], 6)
    answer = wait_for(lambda: newest(world, conversation) if newest(world, conversation)["id"] != question["id"]
                      else None, message="the row tap in the helpdesk")  # fmt: skip
    assert answer["content"] == long_title and answer["content_attributes"]["in_reply_to"] == question["id"]


def test_cards_and_articles_become_what_whatsapp_shows(world: World) -> None:
    conversation = customer_writes(world)
    card = {"title": "Blue shoes", "description": "Size 42", "media_url": "https://shop.test/blue.jpg",
            "actions": [{"type": "link", "text": "Buy", "uri": "https://shop.test/blue"}]}  # fmt: skip
    cards = bot_says(world, conversation, "", "cards", [card])
    articles = [{"title": "Returns", "description": "How to send it back", "link": "https://help.test/returns"}]
    article = bot_says(world, conversation, "This may help:", "article", articles)
    first, second = sent(world, 2)
    assert first["body"]["interactive"]["type"] == "cta_url"
    assert first["body"]["interactive"]["header"] == {"type": "image", "image": {"link": "https://shop.test/blue.jpg"}}
    assert first["body"]["interactive"]["action"]["parameters"] == {"display_text": "Buy", "url": "https://shop.test/blue"}
    assert second["body"]["text"]["body"] == "This may help:\n\n*Returns*\nHow to send it back\nhttps://help.test/returns"
    for message in (cards, article):
        wait_for(lambda m=message: status_of(world, conversation, m["id"]) == "sent", message="sent, not failed")


def test_an_agent_can_send_options_too(world: World) -> None:
    conversation = customer_writes(world)
    world.helpdesk.agent_reply(ACCOUNT, conversation, "Is this solved?", content_type="input_select",
                               content_attributes={"items": [{"title": "Yes", "value": "y"},
                                                             {"title": "No", "value": "n"}]})  # fmt: skip
    (out,) = sent(world, 1)
    assert [b["reply"]["id"] for b in out["body"]["interactive"]["action"]["buttons"]] == ["y", "n"]


@pytest.fixture
def clocked(store: redis.Redis, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator
            ) -> Iterator[tuple[World, OffsetClock]]:  # fmt: skip
    clock = OffsetClock()
    world = build_world(store, graph_server, helpdesk_server, clock=clock)
    yield world, clock
    world.adapter.close()


def test_outside_the_window_options_are_rejected_like_any_free_reply(clocked: tuple[World, OffsetClock]) -> None:
    world, clock = clocked
    conversation = customer_writes(world)
    clock.advance(24 * 3600 + 60)
    question = bot_says(world, conversation, "Still interested?", "input_select",
                        [{"title": "Yes", "value": "y"}, {"title": "No", "value": "n"}])  # fmt: skip
    wait_for(lambda: status_of(world, conversation, question["id"]) == "failed", message="the rejection")
    row = next(m for m in world.helpdesk.messages_in(ACCOUNT, conversation) if m["id"] == question["id"])
    assert "24-hour WhatsApp window closed" in row["content_attributes"]["external_error"]
    assert world.graph.sent_messages == []
