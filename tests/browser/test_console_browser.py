"""The console in real Chromium against the adapter and both simulators: install, connect by Embedded Signup
(stand-in SDK) and by the manual path, verify by voice, the display name pending then approved, a template,
the Dashboard App, troubleshooting, disconnect. Each page is screenshotted into tests/artifacts/."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from adapter.monitoring import number_health, traffic
from tests.browser import world as w
from tests.browser.conftest import Shots
from tests.conftest import wait_for
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

pytestmark = pytest.mark.browser
CUSTOMER = "16505551234"


def sign_in_and_install(page: Any, live: w.LiveAdapter, shot: Shots | None = None) -> None:
    page.goto(f"{live.url}/admin/")
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill(w.ADMIN_PASSWORD)
    if shot:
        shot("sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/admin/install$"))
    page.locator("input[name=account_id]").fill(str(w.ACCOUNT))
    page.locator("input[name=token]").fill(w.HELPDESK_ADMIN_TOKEN)
    page.get_by_role("button", name="Install", exact=True).click()
    page.get_by_text("Installed: the WhatsApp Dashboard App").wait_for()
    if shot:
        shot("installed")


def name_update(graph: GraphSimulator, live: w.LiveAdapter, decision: str) -> None:
    """Meta's review decision arrives as a webhook; the worker keeps it, and apply_account_event records it."""
    value = {"display_phone_number": w.SIGNUP_DISPLAY, "decision": decision, "requested_verified_name": "Acme Sales",
             "rejection_reason": None}  # fmt: skip
    payload = mp.envelope(w.SIGNUP_WABA, [{"field": "phone_number_name_update", "value": value}], time=1_760_000_000)
    assert graph.post_webhook(payload).status_code == 200
    wait_for(lambda: any(e.get("value", {}).get("decision") == decision
                         for e in live.services.events.recent("meta_events")), message="the name webhook")  # fmt: skip
    svc = live.services
    assert number_health.apply_account_event(
        svc.store, svc.channels, svc.clock.now(), w.SIGNUP_WABA, "phone_number_name_update", value
    )


def test_embedded_signup_registers_with_the_chosen_pin_and_the_display_name_review(
    page: Any, live: w.LiveAdapter, graph: GraphSimulator, helpdesk: HelpdeskSimulator, bot: dict[str, Any],
    shot: Shots,
) -> None:
    sign_in_and_install(page, live, shot)
    graph.add_signup_code("es-code-1", w.SIGNUP_TOKEN)
    page.add_init_script("window.__FAKE_SIGNUP__ = " + json.dumps(
        {"code": "es-code-1", "event": "FINISH", "waba_id": w.SIGNUP_WABA, "phone_number_id": w.SIGNUP_PNID,
         "order": "message-first"}))  # fmt: skip
    page.get_by_role("navigation").get_by_role("link", name="Integrations → WhatsApp").click()
    shot("no-numbers")
    page.get_by_role("link", name="Connect WhatsApp").first.click()
    page.get_by_text("Ready: Meta").wait_for()
    page.locator("#agent").select_option(label="Keloa AI")
    page.locator("#signup-pin").fill("246810")
    shot("connect")
    page.get_by_role("button", name="Sign in with Meta").click()
    page.wait_for_url(re.compile(f"/admin/numbers/{w.SIGNUP_PNID}$"))
    init = json.loads(page.evaluate("sessionStorage.getItem('fake-fb-init')"))
    login = json.loads(page.evaluate("sessionStorage.getItem('fake-fb-login')"))
    assert init["appId"] == w.META_APP_ID and init["version"] == "v25.0"
    assert login == {"config_id": w.META_CONFIG_ID, "response_type": "code", "override_default_response_type": True,
                     "extras": {"setup": {}}}  # fmt: skip
    inbox = next(i for i in helpdesk.inboxes.values() if i["webhook_url"].endswith(w.SIGNUP_PNID))
    assert inbox["agent_bot_id"] == bot["id"] and inbox["additional_attributes"]["agent_reply_time_window"] == 24

    page.get_by_text("Registered with WhatsApp with the PIN you chose").wait_for()  # registered before "connected"
    assert graph.is_registered(w.SIGNUP_PNID)
    assert [r["json"]["pin"] for r in graph.requests_log if r["path"].endswith("/register")] == ["246810"]
    shot("registered")

    name_update(graph, live, "PENDING")
    page.reload()
    page.get_by_text("Display name not approved:").first.wait_for()
    assert "not whether they receive your replies" in page.content()
    shot("name-pending")
    name_update(graph, live, "APPROVED")
    page.reload()
    page.get_by_text("Customers see “Acme Sales”").wait_for()
    assert "Display name not approved:" not in page.content()
    shot("name-approved")


def test_manual_connect_template_dashboard_app_troubleshooting_and_disconnect(
    page: Any, live: w.LiveAdapter, graph: GraphSimulator, helpdesk: HelpdeskSimulator, shot: Shots,
) -> None:
    sign_in_and_install(page, live)
    page.goto(f"{live.url}/admin/connect")
    page.locator("input[name=waba_id]").fill(w.WABA)
    page.locator("input[name=phone_number_id]").fill(w.PNID)
    page.locator("input[name=token]").fill("wrong-token")
    page.get_by_role("button", name="Check and connect").click()
    page.get_by_text("The access token is not valid").wait_for()
    shot("manual-refused")
    page.locator("input[name=token]").fill(w.TOKEN)
    page.get_by_role("button", name="Check and connect").click()
    page.wait_for_url(re.compile(f"/admin/numbers/{w.PNID}$"))

    customer = mp.inbound(w.PNID, wa_id=CUSTOMER, name="Sheena Nelson", message=mp.text("Where is my order?"),
                          waba_id=w.WABA, display_phone_number=w.DISPLAY)  # fmt: skip
    assert graph.post_webhook(customer).status_code == 200
    conversation = wait_for(lambda: next(iter(helpdesk.conversations.values()), None), message="the conversation")
    now = live.services.clock.now()
    for hours_ago, inbound, outbound in ((20, 4, 3), (9, 7, 5), (3, 2, 6), (0, 1, 1)):
        for _ in range(inbound):
            traffic.record_inbound(live.services.store, w.PNID, now - hours_ago * 3600)
        for _ in range(outbound):
            traffic.record_outbound(live.services.store, w.PNID, now - hours_ago * 3600)
    traffic.record_failure(live.services.store, w.PNID, "131047 window closed", now - 9 * 3600)
    traffic.record_failure(live.services.store, w.PNID, "131026 undeliverable", now - 3 * 3600)
    page.get_by_role("navigation").get_by_role("link", name="Integrations → WhatsApp").click()
    page.get_by_role("heading", name="WhatsApp numbers").wait_for()
    shot("numbers")

    page.get_by_role("navigation").get_by_role("link", name="Settings → WhatsApp templates").click()
    page.get_by_role("link", name="New template").click()
    page.locator("input[name=name]").fill("order_update")
    page.get_by_label("Utility").check()
    page.locator("textarea[name=body]").fill("Hi {{1}}, your order {{2}} has shipped.")
    page.locator("textarea[name=examples]").fill("Ana\nA-1042")
    shot("new-template")
    page.get_by_role("button", name="Submit for approval").click()
    page.get_by_text("Template order_update submitted").wait_for()
    (template_id,) = [tid for tid, t in graph.templates.items() if t["name"] == "order_update"]
    graph.add_template(w.WABA, {"name": "spring_sale", "language": "en_US", "category": "MARKETING",
                                "status": "REJECTED", "rejected_reason": "PROMOTIONAL",
                                "components": [{"type": "BODY", "text": "Spring sale! 20% off everything."}]})
    graph.set_template_status(template_id, "APPROVED")
    page.get_by_role("button", name="Sync from Meta").click()
    page.get_by_text("Templates synced from Meta.").wait_for()
    shot("templates")

    (dashboard_app,) = helpdesk._state.dashboard_apps.values()
    page.goto(dashboard_app["content"][0]["url"])
    context = {"event": "appContext", "data": {"conversation": {"id": conversation["id"], "inbox_id": 999},
               "contact": {"name": "Sheena"}, "currentAgent": {"id": 1, "name": "Ana Agent"}}}  # fmt: skip
    page.evaluate("message => window.postMessage(message, '*')", json.dumps(context))
    page.get_by_text("24-hour window open").wait_for()
    assert re.search(r"closes in 2[34]:\d\d:\d\d", page.locator("#countdown").inner_text())
    page.locator("input[name='body.1']").fill("Sheena")
    page.locator("input[name='body.2']").fill("A-1042")
    page.get_by_role("button", name="Send template").click()
    page.get_by_text("Sent: “Hi Sheena, your order A-1042 has shipped.”").wait_for()
    shot("dashboard-app")
    sent = wait_for(lambda: [m for m in graph.sent_messages if m["body"].get("type") == "template"],
                    message="the template send")  # fmt: skip
    assert sent[0]["body"]["template"]["name"] == "order_update"

    page.goto(f"{live.url}/admin/troubleshooting?number={w.PNID}")
    page.locator("details.payload summary").first.click()
    shot("troubleshooting")

    page.goto(f"{live.url}/admin/numbers")
    page.get_by_role("link", name="Disconnect").first.click()
    shot("disconnect-confirm")
    page.get_by_role("button", name="Disconnect").click()
    page.get_by_text("The number stays registered with Meta.").wait_for()
    shot("disconnected")
    assert live.services.channels.get(w.PNID) is None and w.WABA not in graph.subscribed_apps
    assert len(helpdesk.inboxes) == 1


def test_finish_only_waba_then_add_the_number_verify_by_voice_and_an_error_page(
    page: Any, live: w.LiveAdapter, graph: GraphSimulator, shot: Shots,
) -> None:
    sign_in_and_install(page, live)
    graph.add_signup_code("es-code-2", w.SIGNUP_TOKEN)
    page.add_init_script("window.__FAKE_SIGNUP__ = " + json.dumps(
        {"code": "es-code-2", "event": "FINISH_ONLY_WABA", "waba_id": w.SIGNUP_WABA, "order": "code-first"}))
    page.goto(f"{live.url}/admin/connect")
    page.get_by_text("Ready: Meta").wait_for()
    page.get_by_role("button", name="Sign in with Meta").click()
    page.wait_for_url(re.compile(r"/admin/connect/signup/[^/]+/number$"))
    page.locator("input[name=phone]").fill("+1 555 019 9999")
    page.locator("input[name=display_name]").fill("Acme Sales")
    shot("add-number")
    page.get_by_role("button", name="Add the number").click()
    page.wait_for_url(re.compile(f"/admin/numbers/{w.SIGNUP_PNID}$"))
    page.get_by_text("Verify it now").wait_for()
    page.get_by_role("button", name="Call me instead").click()
    page.get_by_text("WhatsApp is calling the number now").wait_for()
    page.locator("input[name=code]").fill("000000" if graph.last_verification_code(w.SIGNUP_PNID) != "000000"
                                          else "111111")  # fmt: skip
    page.get_by_role("button", name="Verify").click()
    page.get_by_text("Wrong verification code").wait_for()
    shot("wrong-code")
    page.locator("input[name=code]").fill(str(graph.last_verification_code(w.SIGNUP_PNID)))
    page.get_by_role("button", name="Verify").click()
    page.get_by_text("The number is verified").wait_for()
    graph.mark_registered_elsewhere(w.SIGNUP_PNID)
    page.locator("input[name=pin]").fill("246810")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Phone number already registered").wait_for()
    shot("already-registered")
    page.goto(f"{live.url}/admin/numbers/000")
    page.get_by_text("Error 404").wait_for()
    shot("error-404")
