"""Helpdesk rich messages as WhatsApp messages (adapter/bridge/interactive.py), and the shortening rule."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.bridge.interactive import (
    BUTTON_TITLE_LIMIT,
    ROW_DESCRIPTION_LIMIT,
    ROW_TITLE_LIMIT,
    choices_of,
    plan_rich,
    shorten,
)
from adapter.helpdesk.events import AgentReply


def reply(content_type: str, items: list[dict[str, Any]], content: str = "Which one?") -> AgentReply:
    """An AgentReply as the helpdesk's message_created webhook gives it."""
    return AgentReply.from_event({
        "id": 7, "content": content, "message_type": "outgoing", "content_type": content_type,
        "content_attributes": {"items": items}, "sender": {"type": "agent_bot", "name": "Bot"},
        "conversation": {"id": 3, "contact_inbox": {"source_id": "16505551234"}},
    })  # fmt: skip


def options(*titles: str) -> list[dict[str, Any]]:
    return [{"title": title, "value": f"v{n}"} for n, title in enumerate(titles, 1)]


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Yes", 20, "Yes"),
        ("  Talk   to\na  human ", 20, "Talk to a human"),  # white space collapsed first
        ("Schedule a callback tomorrow", 20, "Schedule a callback…"),  # cut at the last space that fits
        ("Supercalifragilisticexpialidocious", 20, "Supercalifragilisti…"),  # no space: cut at the limit
        ("Premium plan, billed yearly", 20, "Premium plan…"),  # the comma before the cut goes too
        ("A b cdefghijklmnopqrstuvwxyz", 20, "A b cdefghijklmnopq…"),  # a space too early is not used
    ],
)
def test_shorten(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit


def test_up_to_three_items_are_reply_buttons_with_their_values_as_ids() -> None:
    (part,) = plan_rich(reply("input_select", options("Sales", "Support", "Schedule a callback tomorrow"))) or []
    assert isinstance(part, dict) and part["type"] == "interactive"
    interactive = part["interactive"]
    assert interactive["type"] == "button" and interactive["body"] == {"text": "Which one?"}
    assert [b["reply"] for b in interactive["action"]["buttons"]] == [
        {"id": "v1", "title": "Sales"}, {"id": "v2", "title": "Support"}, {"id": "v3", "title": "Schedule a callback…"},
    ]  # fmt: skip


def test_buttons_that_shorten_to_the_same_title_are_told_apart() -> None:
    items = options("Order status for my first order", "Order status for my second order")
    (part,) = plan_rich(reply("input_select", items)) or []
    assert isinstance(part, dict)
    titles = [b["reply"]["title"] for b in part["interactive"]["action"]["buttons"]]
    assert titles == ["Order status for my…", "Order status for… 2"]
    assert all(len(t) <= BUTTON_TITLE_LIMIT for t in titles)


def test_four_to_ten_items_are_a_list_whose_shortened_rows_carry_the_whole_title() -> None:
    long_title = "Change the delivery address of an order"
    (part,) = plan_rich(reply("input_select", options("Track", "Return", "Invoice", long_title))) or []
    assert isinstance(part, dict)
    interactive = part["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Choose an option"
    rows = interactive["action"]["sections"][0]["rows"]
    assert rows[0] == {"id": "v1", "title": "Track"}
    assert rows[3] == {"id": "v4", "title": "Change the delivery…", "description": long_title}
    assert len(rows[3]["title"]) <= ROW_TITLE_LIMIT and len(rows[3]["description"]) <= ROW_DESCRIPTION_LIMIT


def test_more_than_ten_items_are_a_numbered_text() -> None:
    (text,) = plan_rich(reply("input_select", options(*(f"Option {n}" for n in range(1, 12))))) or []
    assert isinstance(text, str)
    assert text.startswith("Which one?\n\n1. Option 1\n2. Option 2\n")
    assert "11. Option 11" in text and "Reply with the number or the name of your choice." in text


def test_ids_are_unique_and_the_same_on_the_way_back() -> None:
    items = [{"title": "One", "value": "same"}, {"title": "Two", "value": "same"}, {"title": "Three", "value": 3},
             {"title": "Four"}]  # fmt: skip
    choices = choices_of(reply("input_select", items))
    assert [(c.id, c.title, c.value) for c in choices] == [
        ("same", "One", "same"), ("option-2", "Two", "same"), ("3", "Three", "3"), ("Four", "Four", "Four"),
    ]  # fmt: skip
    assert choices == choices_of(AgentReply.from_dict(reply("input_select", items).to_dict()))


def test_a_body_longer_than_a_button_message_allows_goes_before_it_as_text() -> None:
    question = ("word " * 300).strip() + "\n\nWhich one?"
    parts = plan_rich(reply("input_select", options("A", "B"), content=question)) or []
    assert len(parts) == 2 and isinstance(parts[0], str) and isinstance(parts[1], dict)
    body = parts[1]["interactive"]["body"]["text"]
    assert len(body) <= 1024 and body.endswith("word\n\nWhich one?")
    assert " ".join([parts[0], body]).split() == question.split()  # nothing lost at the cut


def test_a_card_with_a_link_is_its_image_with_a_url_button() -> None:
    card = {"title": "Blue shoes", "description": "Size 42", "media_url": "https://shop.test/blue.jpg",
            "actions": [{"type": "link", "text": "View in our online store", "uri": "https://shop.test/blue"},
                        {"type": "postback", "text": "Add to cart", "payload": "cart:blue"}]}  # fmt: skip
    (part,) = plan_rich(reply("cards", [card], content="")) or []
    assert part == {"type": "interactive", "interactive": {
        "type": "cta_url", "header": {"type": "image", "image": {"link": "https://shop.test/blue.jpg"}},
        "body": {"text": "*Blue shoes*\nSize 42\n• Add to cart"},
        "action": {"name": "cta_url", "parameters": {"display_text": "View in our online…",
                                                      "url": "https://shop.test/blue"}},
    }}  # fmt: skip


def test_a_card_with_postbacks_is_reply_buttons_under_its_document() -> None:
    card = {"title": "Your invoice", "media_url": "https://shop.test/invoice.pdf",
            "actions": [{"type": "postback", "text": "Pay now", "payload": "pay"},
                        {"type": "postback", "text": "Ask a question", "payload": "ask"}]}  # fmt: skip
    (part,) = plan_rich(reply("cards", [card], content="")) or []
    assert isinstance(part, dict)
    interactive = part["interactive"]
    assert interactive["header"] == {"type": "document", "document": {"link": "https://shop.test/invoice.pdf"}}
    assert [b["reply"] for b in interactive["action"]["buttons"]] == [
        {"id": "pay", "title": "Pay now"}, {"id": "ask", "title": "Ask a question"},
    ]  # fmt: skip


def test_a_card_with_four_postbacks_is_its_image_with_the_choices_in_the_caption() -> None:
    actions = [{"type": "postback", "text": f"Size {n}", "payload": str(n)} for n in (40, 41, 42, 43)]
    card = {"title": "Shoes", "media_url": "https://shop.test/s.png", "actions": actions}
    (part,) = plan_rich(reply("cards", [card], content="")) or []
    assert part == {"type": "image", "image": {"link": "https://shop.test/s.png",
                                               "caption": "*Shoes*\n• Size 40\n• Size 41\n• Size 42\n• Size 43"}}


def test_articles_and_forms_are_readable_text() -> None:
    articles = [{"title": "Reset your password", "description": "Three steps", "link": "https://help.test/reset"},
                {"title": "Change your plan", "link": "https://help.test/plan"}]  # fmt: skip
    (text,) = plan_rich(reply("article", articles, content="These may help:")) or []
    assert text == ("These may help:\n\n*Reset your password*\nThree steps\nhttps://help.test/reset"
                    "\n\n*Change your plan*\nhttps://help.test/plan")  # fmt: skip
    form = [{"name": "email", "label": "Your email", "type": "email"}, {"name": "order", "label": "Order number"}]
    (text,) = plan_rich(reply("form", form, content="Please tell us:")) or []
    assert text == "Please tell us:\n\n1. Your email\n2. Order number"


def test_plain_text_is_not_rich() -> None:
    assert plan_rich(reply("text", options("A"))) is None
    assert plan_rich(reply("input_select", [])) is None
