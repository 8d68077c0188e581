"""Where real Chatwoot (4.15.1) differs from a naive helpdesk, end to end: the simulator behaves as Chatwoot does
(tests/simulators/helpdesk*.py) and the adapter copes.

- Rails drops the nulls of JSON arrays: the picker's sparse template buttons arrive without their gaps;
- ``template_params`` is checked against a JSON schema: ``namespace`` must be a string;
- deleting a message blanks it (``deleted: true``) and fires message_updated;
- Retry wipes ``content_attributes`` (the quote goes) and fires message_updated twice;
- a message_created that could not be delivered marks its message failed;
- attachment URLs are on FRONTEND_URL, which may not be HELPDESK_BASE_URL's host.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from adapter.errors import HelpdeskApiError
from adapter.work import kinds
from tests.browser import world as console
from tests.conftest import HELPDESK_TOKEN, PNID, WABA, wait_for
from tests.e2e.conftest import ACCOUNT, World, build_world
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

CUSTOMER = "16505551234"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 50
ORDER_LINKS = {
    "name": "order_links", "language": "en_US", "category": "UTILITY",
    "components": [
        {"type": "BODY", "text": "Hi {{1}}, your order has shipped today.", "example": {"body_text": [["Ana"]]}},
        {"type": "BUTTONS", "buttons": [
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550783881"},
            {"type": "URL", "text": "Track it", "url": "https://shop.test/track/{{1}}",
             "example": ["https://shop.test/track/A-1"]},
            {"type": "COPY_CODE", "text": "Copy code", "example": "SAVE10"},
        ]},
    ],
}  # fmt: skip
# What Graph must get for the URL button (index 1) and the copy code (index 2); the phone button takes nothing.
LINK_BUTTONS = [
    {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "A-77"}]},
    {"type": "button", "sub_type": "copy_code", "index": "2",
     "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}]},
]  # fmt: skip
DEAD_URL = "http://127.0.0.1:9/webhooks/helpdesk"  # the discard port: nothing listens, the connection is refused


def customer_writes(world: World, text: str = "hi") -> dict[str, Any]:
    """The customer's message, as the helpdesk holds it (REST shape) once the adapter posted it."""
    payload = mp.inbound(PNID, wa_id=CUSTOMER, name="Sheena Nelson", message=mp.text(text),
                         display_phone_number="15550783881", waba_id=WABA)  # fmt: skip
    assert world.graph.post_webhook(payload).status_code == 200
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]

    def posted() -> dict[str, Any] | None:
        rows = [m for c in world.conversations() for m in world.helpdesk.messages_in(ACCOUNT, int(c["id"]))]
        return next((m for m in rows if m["source_id"] == wamid), None)

    return dict(wait_for(posted, message="the customer's message in the helpdesk"))


def row(world: World, conversation: int, message_id: int) -> dict[str, Any]:
    return next(m for m in world.helpdesk.messages_in(ACCOUNT, conversation) if m["id"] == message_id)


def wait_status(world: World, conversation: int, message_id: int, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        found = row(world, conversation, message_id)
        return found if found["status"] == status else None

    return dict(wait_for(reached, message=f"message {message_id} {status}"))


def sync_templates(world: World, *templates: dict[str, Any]) -> None:
    for template in templates:
        world.graph.add_template(WABA, template)
    services = world.adapter.services
    services.queue.enqueue(kinds.templates_sync(WABA))
    wait_for(lambda: len(services.templates.list(WABA)) == len(templates), message="templates synced")


def buttons_sent(world: World) -> list[dict[str, Any]]:
    sent = wait_for(lambda: world.graph.sent_messages[:1], message="the template sent to WhatsApp")
    components = sent[0]["body"]["template"]["components"]
    return [c for c in components if c["type"] == "button"]


def updates_of(world: World, message_id: int, since: int) -> list[dict[str, Any]]:
    """The message_updated payloads of one message the helpdesk delivered since delivery number `since`."""
    return [d["payload"] for d in world.helpdesk.webhook_deliveries[since:]
            if d["event"] == "message_updated" and d["payload"]["id"] == message_id]  # fmt: skip


def quiet_for_a_moment(world: World, sent_before: int) -> None:
    """Nothing more goes to Graph: the adapter's queue drains and no send follows."""
    queue = world.adapter.services.queue
    wait_for(lambda: queue.backlog()["waiting"] == 0 and not queue.backlog()["retrying_chats"], message="no work left")
    time.sleep(0.5)
    assert len(world.graph.sent_messages) == sent_before


# ---------------------------------------------------------------------- 1. sparse button lists
def test_a_sparse_button_list_from_the_picker_still_fills_the_right_buttons(world: World) -> None:
    sync_templates(world, ORDER_LINKS)
    conversation = customer_writes(world)["conversation_id"]
    params = {"name": "order_links", "category": "UTILITY", "language": "en_US", "processed_params": {
        "body": {"1": "Sheena"},
        "buttons": [None, {"type": "url", "parameter": "A-77"}, {"type": "copy_code", "parameter": "SAVE10"}]}}
    message, status = world.helpdesk.agent_reply(ACCOUNT, conversation, "Hi Sheena, your order has shipped today.",
                                                 template_params=params)  # fmt: skip
    assert status == 200
    stored = world.helpdesk.messages[message["id"]]["additional_attributes"]["template_params"]
    assert stored["processed_params"]["buttons"] == [{"type": "url", "parameter": "A-77"},
                                                     {"type": "copy_code", "parameter": "SAVE10"}]  # no gap
    assert buttons_sent(world) == LINK_BUTTONS


# ---------------------------------------------------------------------- 2. the template_params schema
def test_the_dashboard_apps_template_send_passes_chatwoots_schema_and_goes_out(
    store: redis.Redis, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator
) -> None:
    world = build_world(store, graph_server, helpdesk_server, ADMIN_PASSWORD=console.ADMIN_PASSWORD,
                        SESSION_SECRET=console.SESSION_SECRET)  # fmt: skip
    try:
        sync_templates(world, ORDER_LINKS)
        conversation = customer_writes(world)["conversation_id"]
        helpdesk = world.helpdesk
        picker_params = {"name": "order_links", "language": "en_US", "namespace": None,
                         "processed_params": {"body": {"1": "Sheena"}}}  # fmt: skip
        with pytest.raises(HelpdeskApiError, match="Template params/namespace must be of type string") as refused:
            world.adapter.services.helpdesk.create_message(ACCOUNT, HELPDESK_TOKEN, conversation,
                                                           {"content": "Hi", "template_params": picker_params})
        assert refused.value.http_status == 422

        helpdesk.add_user(ACCOUNT, token=console.HELPDESK_ADMIN_TOKEN, name="Ada Admin", email="ada@acme.test")
        client = world.adapter.app.test_client()
        assert console.install(client, console.sign_in(client), helpdesk).status_code == 302
        (dashboard_app,) = helpdesk.dashboard_apps.values()
        link = urlsplit(dashboard_app["content"][0]["url"]).query
        sent = world.adapter.app.test_client().post("/app/api/send", headers={"X-App-Link": link}, json={
            "conversation_id": conversation, "name": "order_links", "language": "en_US", "agent": "Al",
            "values": {"body.1": "Sheena", "button.1": "A-77", "button.2": "SAVE10"}})  # fmt: skip
        assert sent.status_code == 200, sent.get_data(as_text=True)
        params = helpdesk.messages[sent.json["message_id"]]["additional_attributes"]["template_params"]
        assert "namespace" not in params
        assert buttons_sent(world) == LINK_BUTTONS
    finally:
        world.adapter.close()


# ---------------------------------------------------------------------- 3. delete
def test_a_failed_reply_the_agent_deletes_is_not_sent(world: World) -> None:
    conversation = customer_writes(world)["conversation_id"]
    world.graph.fail_next(1, http_status=400, code=131026, title="Message undeliverable")
    message, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, "this one fails")
    wait_status(world, conversation, message["id"], "failed")
    assert world.helpdesk.wait_for_webhooks()  # the echo of the adapter's failure mark is out of the way
    since = len(world.helpdesk.webhook_deliveries)
    deleted, status = world.helpdesk.delete_message(ACCOUNT, conversation, message["id"])
    assert status == 200 and deleted["content_attributes"] == {"deleted": True}  # external_error gone with it
    (update,) = updates_of(world, message["id"], since)
    assert update["content"] == "This message was deleted"
    quiet_for_a_moment(world, 0)


# ---------------------------------------------------------------------- 4. Retry
def test_retry_of_a_reply_that_failed_at_whatsapp_is_sent_once_with_its_quote(world: World) -> None:
    quoted = customer_writes(world, "Which size?")
    conversation = quoted["conversation_id"]
    world.graph.fail_next(1, http_status=400, code=131026, title="Message undeliverable")
    message, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, "Medium", in_reply_to=quoted["id"])
    failed = wait_status(world, conversation, message["id"], "failed")
    assert failed["content_attributes"]["in_reply_to"] == quoted["id"]
    assert world.graph.sent_messages == [] and world.helpdesk.wait_for_webhooks()
    since = len(world.helpdesk.webhook_deliveries)

    retried, status = world.helpdesk.retry_message(ACCOUNT, conversation, message["id"])
    assert status == 200 and retried["status"] == "sent" and retried["content_attributes"] == {}
    updates = updates_of(world, message["id"], since)
    assert [u["content_attributes"] for u in updates] == [{}, {}]  # the quote is gone from both
    sent = wait_for(lambda: world.graph.sent_messages[:1], message="the retried reply")
    assert sent[0]["body"]["text"]["body"] == "Medium"
    assert sent[0]["body"]["context"] == {"message_id": quoted["source_id"]}  # the adapter kept the quote
    quiet_for_a_moment(world, 1)


def test_one_retry_that_fails_again_is_not_sent_a_second_time(world: World) -> None:
    conversation = customer_writes(world)["conversation_id"]
    world.graph.fail_next(2, http_status=400, code=131026, title="Message undeliverable")  # the send and one resend
    message, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, "fails twice")
    wait_status(world, conversation, message["id"], "failed")
    world.helpdesk.retry_message(ACCOUNT, conversation, message["id"])
    wait_status(world, conversation, message["id"], "failed")
    quiet_for_a_moment(world, 0)  # one press, one resend: it failed, so nothing reached the customer


def test_retry_of_a_reply_whose_webhook_never_arrived_is_sent_once(world: World) -> None:
    conversation = customer_writes(world)["conversation_id"]
    live_url = world.helpdesk.set_webhook_url(world.inbox_id, DEAD_URL)
    try:
        message, status = world.helpdesk.agent_reply(ACCOUNT, conversation, "sent while the adapter was away")
        assert status == 0 and message["status"] == "failed"
        assert "Connection refused" in message["content_attributes"]["external_error"]  # Chatwoot failed it itself
        assert world.helpdesk.wait_for_webhooks()  # its message_updated went nowhere too
    finally:
        world.helpdesk.set_webhook_url(world.inbox_id, live_url)
    assert world.graph.sent_messages == []

    _, status = world.helpdesk.retry_message(ACCOUNT, conversation, message["id"])
    assert status == 200
    sent = wait_for(lambda: world.graph.sent_messages[:1], message="the retried reply")
    assert sent[0]["body"]["text"]["body"] == "sent while the adapter was away"
    quiet_for_a_moment(world, 1)
    world.helpdesk.retry_message(ACCOUNT, conversation, message["id"])  # pressed again: it was sent already
    quiet_for_a_moment(world, 1)


# ---------------------------------------------------------------------- 6. FRONTEND_URL
@pytest.fixture
def localhost(helpdesk_server: HelpdeskSimulator) -> Iterator[str]:
    """``localhost:<port>``: another name of the helpdesk simulator's server (its frontend_url goes back after)."""
    yield urlsplit(helpdesk_server.base_url).netloc.replace("127.0.0.1", "localhost")
    helpdesk_server.frontend_url = None


def agent_sends_a_photo(world: World, frontend_host: str) -> tuple[int, int]:
    """With Chatwoot's FRONTEND_URL on `frontend_host`: (conversation, message) of an agent's photo."""
    world.helpdesk.frontend_url = f"http://{frontend_host}"
    conversation = customer_writes(world)["conversation_id"]
    photo = [("label.jpg", JPEG, "image/jpeg")]
    message, _ = world.helpdesk.agent_reply(ACCOUNT, conversation, None, attachments=photo)
    assert message["attachments"][0]["data_url"].startswith(f"http://{frontend_host}/rails/")
    return conversation, message["id"]


def test_an_attachment_on_another_frontend_host_is_refused_with_the_setting_to_change(
    world: World, localhost: str
) -> None:
    conversation, message_id = agent_sends_a_photo(world, localhost)
    failed = wait_status(world, conversation, message_id, "failed")
    error = failed["content_attributes"]["external_error"]
    assert localhost in error and "HELPDESK_ATTACHMENT_HOSTS" in error
    assert world.graph.sent_messages == [] and world.graph.uploads == {}


def test_an_attachment_on_a_listed_frontend_host_is_sent(
    localhost: str, store: redis.Redis, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator
) -> None:
    world = build_world(store, graph_server, helpdesk_server, HELPDESK_ATTACHMENT_HOSTS=localhost)
    try:
        agent_sends_a_photo(world, localhost)
        sent = wait_for(lambda: world.graph.sent_messages[:1], message="the photo sent to WhatsApp")
        assert sent[0]["body"]["type"] == "image"
        assert [u["content"] for u in world.graph.uploads.values()] == [JPEG]
    finally:
        world.adapter.close()
