"""What messages cost, in real Chromium: a free reply and a marketing template priced by the Graph simulator show on
the number's console page (the "What messages cost" card) and in the Dashboard App beside each message."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from adapter.work import kinds
from tests.browser import world as w
from tests.browser.conftest import Shots
from tests.browser.test_console_browser import sign_in_and_install
from tests.conftest import wait_for
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

pytestmark = pytest.mark.browser
CUSTOMER = "16505551234"
PROMO = {"name": "spring_sale", "language": "en_US", "category": "MARKETING",
         "components": [{"type": "BODY", "text": "Spring sale for you, {{1}}!", "example": {"body_text": [["Ana"]]}}]}


def send_and_deliver(graph: GraphSimulator, helpdesk: HelpdeskSimulator, conversation: int, text: str,
                     **extra: Any) -> None:  # fmt: skip
    count = len(graph.sent_messages)
    helpdesk.agent_reply(w.ACCOUNT, conversation, text, **extra)
    (sent,) = wait_for(lambda: graph.sent_messages[count:], message=f"{text!r} sent")
    for status in ("sent", "delivered"):
        assert graph.deliver_status(sent["wamid"], status).status_code == 200


def test_the_number_page_and_the_dashboard_app_show_what_messages_cost(
    page: Any, live: w.LiveAdapter, graph: GraphSimulator, helpdesk: HelpdeskSimulator, shot: Shots,
) -> None:
    sign_in_and_install(page, live)
    page.goto(f"{live.url}/admin/connect")
    for name, value in (("waba_id", w.WABA), ("phone_number_id", w.PNID), ("token", w.TOKEN)):
        page.locator(f"input[name={name}]").fill(value)
    page.get_by_role("button", name="Check and connect").click()
    page.wait_for_url(re.compile(f"/admin/numbers/{w.PNID}$"))
    page.locator("#costs-empty").wait_for()
    shot("no-costs-yet")

    graph.add_template(w.WABA, PROMO)
    live.services.queue.enqueue(kinds.templates_sync(w.WABA))
    wait_for(lambda: live.services.templates.list(w.WABA), message="the template synced")
    customer = mp.inbound(w.PNID, wa_id=CUSTOMER, name="Sheena Nelson", message=mp.text("Any offers?"),
                          waba_id=w.WABA, display_phone_number=w.DISPLAY)  # fmt: skip
    assert graph.post_webhook(customer).status_code == 200
    conversation = wait_for(lambda: next(iter(helpdesk.conversations.values()), None), message="the conversation")
    send_and_deliver(graph, helpdesk, conversation["id"], "Yes! Here is one.")
    params = {"name": "spring_sale", "language": "en_US", "category": "MARKETING",
              "processed_params": {"body": {"1": "Sheena"}}}  # fmt: skip
    send_and_deliver(graph, helpdesk, conversation["id"], "Spring sale for you, Sheena!", template_params=params)
    wait_for(lambda: live.services.costs.totals(w.PNID, 1).billable == {"marketing": 1}, message="the template counted")

    page.goto(f"{live.url}/admin/numbers/{w.PNID}")
    card = page.locator("#costs")
    assert card.locator('tr[data-name="marketing"] td').all_inner_texts() == ["1", "1"]
    assert card.locator('tr[data-name="free_customer_service"] td').all_inner_texts() == ["1", "1"]
    assert card.locator('tr[data-name="free_entry_point"] td').all_inner_texts() == ["0", "0"]
    assert card.get_by_role("columnheader", name="Last 30 days").is_visible()
    card.scroll_into_view_if_needed()
    shot("number-costs")

    (dashboard_app,) = helpdesk._state.dashboard_apps.values()
    page.goto(dashboard_app["content"][0]["url"])
    context = {"event": "appContext", "data": {"conversation": {"id": conversation["id"]},
               "contact": {"name": "Sheena"}, "currentAgent": {"id": 1, "name": "Ana Agent"}}}  # fmt: skip
    page.evaluate("message => window.postMessage(message, '*')", json.dumps(context))
    table = page.locator("table#costs")
    table.wait_for()
    rows = [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]
    assert rows == [["Yes! Here is one.", "service", "free (customer service window)"],
                    ["Spring sale for you, Sheena!", "marketing", "billable"]]  # fmt: skip
    shot("dashboard-app-costs")
