"""Operating connected numbers: health from Graph and webhooks, hourly counters and their chart, the Dashboard
App, templates, and the Troubleshooting page (test client, real Redis, both simulators)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from adapter import create_app
from adapter.clock import ManualClock
from adapter.console import charts
from adapter.helpdesk.client import HelpdeskClient
from adapter.meta.events import MessagePricing
from adapter.monitoring import number_health, traffic
from adapter.services import Services
from tests.browser import world as w
from tests.conftest import sign_meta
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

CUSTOMER = "16505551234"
ORDER_TEMPLATE = {"name": "order_update", "language": "en_US", "category": "UTILITY", "components": [
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.", "example": {"body_text": [["Ana", "A-1"]]}}]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(time.time())


@pytest.fixture
def app(store: redis.Redis, graph: GraphSimulator, helpdesk: HelpdeskSimulator, clock: ManualClock) -> Any:
    w.seed(graph, helpdesk)
    return create_app(w.console_settings(graph, helpdesk), store=store, clock=clock)


@pytest.fixture
def services(app: Any) -> Any:
    return app.extensions["adapter"]


@pytest.fixture
def csrf(client: Any, helpdesk: HelpdeskSimulator) -> str:
    token = w.sign_in(client)
    w.install(client, token, helpdesk)
    assert w.connect_manually(client, token).status_code == 302
    return token


def account_event(services: Services, field: str, value: dict[str, Any]) -> bool:
    return number_health.apply_account_event(
        services.store, services.channels, services.clock.now(), w.WABA, field, value
    )


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def name_update(decision: str, **extra: Any) -> dict[str, Any]:
    return {"display_phone_number": w.DISPLAY, "decision": decision, "requested_verified_name": "Acme Support",
            "rejection_reason": None, **extra}  # fmt: skip


def test_the_console_warns_while_the_display_name_is_not_approved(client: Any, csrf: str, services: Any) -> None:
    assert number_health.name_approved(services.store, w.PNID) is True  # Graph said APPROVED when it was connected
    assert account_event(services, "phone_number_name_update", name_update("PENDING"))
    assert number_health.name_approved(services.store, w.PNID) is False
    warning = number_health.name_warning(services.store, w.PNID)
    assert warning is not None and warning.startswith("Display name not approved") and "PENDING_REVIEW" in warning
    assert "Messages are still delivered" in warning
    page = text(client.get(f"/admin/numbers/{w.PNID}"))
    assert "Display name not approved:" in page and "not whether they receive your replies" in page
    assert "Display name not approved:" in text(client.get("/admin/numbers"))
    account_event(services, "phone_number_name_update", name_update("APPROVED"))
    assert number_health.name_approved(services.store, w.PNID) is True
    assert number_health.name_warning(services.store, w.PNID) is None
    assert not account_event(services, "phone_number_name_update",
                                          {**name_update("APPROVED"), "display_phone_number": "999"})  # fmt: skip
    assert number_health.name_approved(services.store, "unknown-number") is None


def test_quality_and_account_webhooks_and_the_refresh_button(
    client: Any, csrf: str, services: Any, graph: GraphSimulator
) -> None:
    account_event(services, "phone_number_quality_update",
                               {"display_phone_number": w.DISPLAY, "event": "THROUGHPUT_UPGRADE",
                                "max_daily_conversations_per_business": "TIER_UNLIMITED"})  # fmt: skip
    account_event(services, "account_update", {"event": "PARTNER_APP_UNINSTALLED"})
    page = text(client.get(f"/admin/numbers/{w.PNID}"))
    assert "TIER_UNLIMITED" in page and "THROUGHPUT_UPGRADE" in page and "PARTNER_APP_UNINSTALLED" in page
    assert "not subscribed" in page
    graph.phone_numbers[w.PNID]["quality_rating"] = "YELLOW"
    refreshed = client.post(f"/admin/numbers/{w.PNID}/refresh", data={"csrf_token": csrf}, follow_redirects=True)
    assert "Refreshed from Meta." in text(refreshed) and "YELLOW" in text(refreshed)
    assert number_health.read_health(services.store, w.PNID).subscribed == "yes"
    channel = services.channels.get(w.PNID)
    services.channels.save(type(channel)(**{**channel.__dict__, "graph_access_token": "revoked"}))
    broken = client.post(f"/admin/numbers/{w.PNID}/refresh", data={"csrf_token": csrf}, follow_redirects=True)
    assert "The access token is not valid" in text(broken)
    assert number_health.read_health(services.store, w.PNID).token_valid == "no"


def test_hourly_counters_feed_the_24_hour_chart(client: Any, csrf: str, store: redis.Redis, clock: ManualClock) -> None:
    now = clock.now()
    for _ in range(3):
        traffic.record_inbound(store, w.PNID, now - 3600)
    traffic.record_outbound(store, w.PNID, now)
    traffic.record_failure(store, w.PNID, "131047 window closed", now)
    traffic.record_failure(store, w.PNID, "131026", now - 7200)
    traffic.record_inbound(store, w.PNID, now - 30 * 3600)  # older than a day: not drawn
    hours = traffic.last_day(store, w.PNID, now)
    assert len(hours) == 24 and sum(h.inbound for h in hours) == 3 and hours[-1].outbound == 1
    assert hours[-1].failures == {"131047 window closed": 1}
    assert store.ttl(f"wa:console:stats:{w.PNID}:{int(now) // 3600}") > 0
    svg = charts.traffic_svg(hours, title="t <x>")
    assert svg.startswith("<svg") and "t &lt;x&gt;" in svg and svg.count('class="in"') == 24
    page = text(client.get(f"/admin/numbers/{w.PNID}"))
    assert "in 3" in page and "out 1" in page and "failed: 131047 window closed" in page
    assert traffic.last_traffic(store, w.PNID)["out"] == pytest.approx(now)


def _conversation(helpdesk: HelpdeskSimulator, services: Any) -> int:
    channel = services.channels.get(w.PNID)
    client = HelpdeskClient(helpdesk.base_url, timeout=5, media_max_bytes=1000)
    contact = client.create_contact(w.ACCOUNT, w.HELPDESK_ADMIN_TOKEN, {
        "name": "Sheena Nelson", "phone_number": "+" + CUSTOMER, "inbox_id": channel.helpdesk_inbox_id,
        "source_id": CUSTOMER})  # fmt: skip
    created = client.create_conversation(w.ACCOUNT, w.HELPDESK_ADMIN_TOKEN, {
        "inbox_id": channel.helpdesk_inbox_id, "contact_id": contact["id"], "source_id": CUSTOMER})  # fmt: skip
    return int(created["id"])


def _app_link(helpdesk: HelpdeskSimulator) -> str:
    (dashboard_app,) = helpdesk._state.dashboard_apps.values()
    return str(urlsplit(dashboard_app["content"][0]["url"]).query)


def test_the_dashboard_app_shows_the_window_and_sends_an_approved_template(
    client: Any, csrf: str, services: Any, helpdesk: HelpdeskSimulator, graph: GraphSimulator, clock: ManualClock
) -> None:
    graph.add_template(w.WABA, ORDER_TEMPLATE)
    graph.add_template(w.WABA, {**ORDER_TEMPLATE, "name": "pending_one", "status": "PENDING"})
    assert client.post("/admin/templates/sync", data={"waba": w.WABA, "csrf_token": csrf}).status_code == 302
    conversation = _conversation(helpdesk, services)
    services.window.record_inbound(w.PNID, CUSTOMER, int(clock.now()) - 3600, mp_type())
    link = _app_link(helpdesk)
    anonymous = client.application.test_client()
    assert anonymous.get("/app").status_code == 403
    page = anonymous.get(f"/app?{link}")
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'self' " + helpdesk.base_url in page.headers["Content-Security-Policy"]
    headers = {"X-App-Link": link}
    assert anonymous.post("/app/api/conversation", json={"conversation_id": conversation}).status_code == 401
    view = anonymous.post("/app/api/conversation", json={"conversation_id": conversation}, headers=headers).json
    assert view["window"]["open"] and view["window"]["closes_at"] == int(clock.now()) - 3600 + 24 * 3600
    assert [t["name"] for t in view["templates"]] == ["order_update"]
    assert [f["key"] for f in view["templates"][0]["fields"]] == ["body.1", "body.2"]
    missing = anonymous.post("/app/api/send", headers=headers, json={"conversation_id": conversation,
                             "name": "order_update", "language": "en_US", "values": {"body.1": "Sheena"}})
    assert missing.status_code == 400 and "expects 2 body parameters" in missing.json["message"]
    sent = anonymous.post("/app/api/send", headers=headers, json={
        "conversation_id": conversation, "name": "order_update", "language": "en_US", "agent": "Al",
        "values": {"body.1": "Sheena", "body.2": "A-1042"}})  # fmt: skip
    assert sent.status_code == 200 and sent.json["content"] == "Hi Sheena, your order A-1042 has shipped."
    message = helpdesk.messages_in(w.ACCOUNT, conversation)[-1]
    params = message["additional_attributes"]["template_params"]
    assert params["name"] == "order_update" and params["processed_params"] == {"body": {"1": "Sheena", "2": "A-1042"}}
    assert message["message_type"] == 1  # outgoing: the adapter sends it through the normal outbound path


def mp_type() -> Any:
    from adapter.meta.events import MessageType

    return MessageType.TEXT


def test_the_dashboard_app_refuses_conversations_of_other_inboxes_and_forged_links(
    client: Any, csrf: str, services: Any, helpdesk: HelpdeskSimulator
) -> None:
    other = helpdesk.add_inbox(w.ACCOUNT, name="Email", webhook_url="", secret="s")
    channel = services.channels.get(w.PNID)
    services.channels.save(type(channel)(**{**channel.__dict__, "helpdesk_inbox_id": other["id"]}))
    conversation = _conversation(helpdesk, services)
    services.channels.save(channel)
    link = _app_link(helpdesk)
    refused = client.post("/app/api/conversation", json={"conversation_id": conversation}, headers={"X-App-Link": link})
    assert refused.status_code == 403 and "not in a WhatsApp inbox connected" in refused.json["message"]
    forged = re.sub(r"sig=[0-9a-f]+", "sig=" + "0" * 64, link)
    forged_answer = client.post("/app/api/conversation", json={"conversation_id": 1}, headers={"X-App-Link": forged})
    assert forged_answer.status_code == 403
    via_session = client.post("/app/api/conversation", json={"conversation_id": 999}, headers={"X-CSRF-Token": csrf})
    assert via_session.status_code == 404


def test_templates_are_created_edited_and_deleted_from_the_console(
    client: Any, csrf: str, graph: GraphSimulator
) -> None:
    new = text(client.get(f"/admin/templates/new?waba={w.WABA}"))
    assert "Submit for approval" in new and "Utility" in new
    form = {"waba": w.WABA, "name": "shipping_notice", "language": "en_US", "category": "UTILITY",
            "body": "Hi {{1}}, your parcel {{2}} is on its way.", "examples": "Ana\nP-77", "csrf_token": csrf}
    invalid = client.post("/admin/templates/new", data={**form, "body": "{{1}} starts badly"})
    assert invalid.status_code == 400 and "cannot start with a variable" in text(invalid)
    created = client.post("/admin/templates/new", data=form, follow_redirects=True)
    assert "submitted" in text(created) and "shipping_notice" in text(created) and "pending" in text(created)
    (template_id,) = [tid for tid, t in graph.templates.items() if t["name"] == "shipping_notice"]
    graph.set_template_status(template_id, "REJECTED", reason="PROMOTIONAL")
    client.post("/admin/templates/sync", data={"waba": w.WABA, "csrf_token": csrf})
    listing = text(client.get(f"/admin/templates?waba={w.WABA}"))
    assert "rejected" in listing and "PROMOTIONAL" in listing and "missing opt-in" in listing
    edit_url = f"/admin/templates/{w.WABA}/{template_id}/edit"
    assert "Ana\nP-77" in text(client.get(edit_url))
    edited = client.post(edit_url, data={**form, "body": "Hello {{1}}, your parcel {{2}} ships today."})
    assert edited.status_code == 302 and graph.templates[template_id]["status"] == "PENDING"
    assert "Hello {{1}}" in graph.templates[template_id]["components"][0]["text"]
    deleted = client.post(f"/admin/templates/{w.WABA}/{template_id}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 302 and template_id not in graph.templates


def test_troubleshooting_shows_payloads_their_verification_and_fate_and_replays_dead_letters(
    client: Any, csrf: str, services: Any
) -> None:
    payload = mp.inbound(w.PNID, wa_id=CUSTOMER, name="Sheena", message=mp.text("hello"), waba_id=w.WABA,
                         display_phone_number=w.DISPLAY)  # fmt: skip
    body = __import__("json").dumps(payload).encode()
    def answered(response: Any) -> int:
        response.close()  # the troubleshooting record is written once the answer has gone out
        return int(response.status_code)

    assert answered(client.post("/webhooks/meta", data=body, headers=sign_meta(body))) == 200
    assert answered(client.post("/webhooks/meta", data=body, headers=sign_meta(body))) == 200  # duplicate
    assert answered(client.post("/webhooks/meta", data=body, headers=sign_meta(body, "wrong"))) == 401
    assert answered(client.post(f"/webhooks/helpdesk/{w.PNID}", json={"event": "message_created"})) == 401
    services.deferred.flush()  # accepted webhooks' records are written behind, within a second
    page = text(client.get(f"/admin/troubleshooting?number={w.PNID}"))
    assert "refused: missing or wrong X-Hub-Signature-256" in page and "X-Hub-Signature-256 verified" in page
    assert "queued 1 job" in page and "1 duplicate dropped" in page and "hello" in page
    assert "refused: missing or wrong X-Chatwoot-Signature" in page
    assert "not in the helpdesk yet" in page
    services.store.lpush(services.queue.dead_of(f"{w.PNID}:{CUSTOMER}"), __import__("json").dumps({
        "job": {"kind": "helpdesk.reply", "chat": f"{w.PNID}:{CUSTOMER}", "payload": {"phone_number_id": w.PNID},
                "id": "job-1", "attempt": 3, "enqueued_at": 0, "last_error": "x"},
        "error": "WhatsApp error 131047: window closed", "failed_at": time.time()}))  # fmt: skip
    page = text(client.get(f"/admin/troubleshooting?number={w.PNID}"))
    assert "WhatsApp error 131047: window closed" in page
    replayed = client.post("/admin/troubleshooting/replay", data={"job_id": "job-1", "csrf_token": csrf,
                                                                  "number": w.PNID}, follow_redirects=True)  # fmt: skip
    assert "Replayed 1 job" in text(replayed) and services.queue.dead_letters() == []


def test_what_messages_cost_on_the_number_page_and_in_the_dashboard_app(
    client: Any, csrf: str, services: Any, helpdesk: HelpdeskSimulator
) -> None:
    assert "No priced messages yet" in text(client.get(f"/admin/numbers/{w.PNID}"))
    conversation = _conversation(helpdesk, services)
    template, _ = helpdesk.agent_reply(w.ACCOUNT, conversation, "Spring sale for you, Sheena!")
    answer, _ = helpdesk.agent_reply(w.ACCOUNT, conversation, "Happy to help")
    unsent, _ = helpdesk.agent_reply(w.ACCOUNT, conversation, "Not gone yet")
    helpdesk.agent_reply(w.ACCOUNT, conversation, "a note for colleagues", private=True)
    prices = {"wamid.T": MessagePricing("marketing", "regular", True, "PMP"),
              "wamid.A": MessagePricing("service", "free_customer_service", False, "PMP")}  # fmt: skip
    for message, wamid in ((template, "wamid.T"), (answer, "wamid.A")):
        services.mappings.remember_sent_part(w.PNID, CUSTOMER, conversation, int(message["id"]), 0, 1, wamid)
        assert services.costs.count(w.PNID, wamid, conversation, prices[wamid]).new
    services.costs.count(w.PNID, "wamid.elsewhere", None, MessagePricing("utility", "free_entry_point", False))

    page = text(client.get(f"/admin/numbers/{w.PNID}"))
    assert "No priced messages yet" not in page
    rows = dict(re.findall(r'<tr(?: data-name="([a-z_]+)"| class="total")>\s*<th scope="row">[^<]+</th>'
                           r"<td>(\d+)</td><td>\d+</td>", page))  # fmt: skip
    assert rows == {"marketing": "1", "free_customer_service": "1", "free_entry_point": "1", "": "2"}

    view = client.post("/app/api/conversation", json={"conversation_id": conversation},
                       headers={"X-App-Link": _app_link(helpdesk)}).json  # fmt: skip
    costs = {row["content"]: (row["sent"], row["parts"]) for row in view["costs"]}
    assert costs == {
        "Spring sale for you, Sheena!": (True, [{"category": "marketing", "type": "regular", "billable": True}]),
        "Happy to help": (True, [{"category": "service", "type": "free_customer_service", "billable": False}]),
        "Not gone yet": (False, []),
    }
    assert [row["id"] for row in view["costs"]] == [template["id"], answer["id"], unsent["id"]]
