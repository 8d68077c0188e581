"""Installing, connecting (manual path and Embedded Signup joins), verifying and disconnecting numbers through
the console, against the Graph and helpdesk simulators; every onboarding error in plain words."""

from __future__ import annotations

import re
from typing import Any

import pytest
import redis

from adapter import create_app
from adapter.console import onboarding_errors as oe
from adapter.errors import GraphApiError, NetworkError
from tests.browser import world as w
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

HTTPS = {"base_url": "https://localhost"}


@pytest.fixture
def bot(graph: GraphSimulator, helpdesk: HelpdeskSimulator) -> dict[str, Any]:
    return w.seed(graph, helpdesk)


@pytest.fixture
def app(store: redis.Redis, graph: GraphSimulator, helpdesk: HelpdeskSimulator, bot: dict[str, Any]) -> Any:
    return create_app(w.console_settings(graph, helpdesk), store=store)


@pytest.fixture
def csrf(client: Any, helpdesk: HelpdeskSimulator) -> str:
    token = w.sign_in(client)
    assert w.install(client, token, helpdesk).status_code == 302
    return token


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_install_checks_the_token_and_creates_one_dashboard_app(client: Any, helpdesk: HelpdeskSimulator) -> None:
    csrf = w.sign_in(client)
    agent = client.post("/admin/install", data={"helpdesk_url": helpdesk.base_url, "account_id": "1",
                                                "token": w.HELPDESK_AGENT_TOKEN, "csrf_token": csrf})  # fmt: skip
    assert agent.status_code == 403 and "needs an administrator" in text(agent)
    wrong = client.post("/admin/install", data={"helpdesk_url": helpdesk.base_url, "account_id": "1",
                                                "token": "nope", "csrf_token": csrf})  # fmt: skip
    assert wrong.status_code == 403 and "refused the access token" in text(wrong)
    for _ in range(2):
        assert w.install(client, csrf, helpdesk).status_code == 302
    apps = [a for a in helpdesk._state.dashboard_apps.values() if a["account_id"] == w.ACCOUNT]
    assert len(apps) == 1
    url = apps[0]["content"][0]["url"]
    assert url.startswith("https://adapter.test/app?scope=app&sub=account%3A1&exp=") and "&sig=" in url
    page = text(client.get("/admin/install"))
    assert "Installed" in page and "ada@acme.test" in page and w.HELPDESK_ADMIN_TOKEN not in page


def test_flask_install_prints_what_it_created(app: Any, helpdesk: HelpdeskSimulator) -> None:
    result = app.test_cli_runner().invoke(
        args=["install", "--helpdesk-url", helpdesk.base_url, "--account-id", "1", "--token", w.HELPDESK_ADMIN_TOKEN]
    )
    assert result.exit_code == 0, result.output
    assert "meta webhook: https://adapter.test/webhooks/meta" in result.output
    refused = app.test_cli_runner().invoke(args=["install", "--account-id", "1", "--token", w.HELPDESK_AGENT_TOKEN])
    assert refused.exit_code != 0 and "administrator" in refused.output


def test_the_manual_path_checks_with_meta_then_creates_the_inbox_and_channel(
    client: Any, csrf: str, graph: GraphSimulator, helpdesk: HelpdeskSimulator, bot: dict[str, Any], app: Any
) -> None:
    wrong = w.connect_manually(client, csrf, token="not-a-token")
    assert wrong.status_code == 400 and "The access token is not valid" in text(wrong)
    assert helpdesk.inboxes == {}
    done = w.connect_manually(client, csrf, bot=int(bot["id"]))
    assert done.status_code == 302 and done.headers["Location"] == f"/admin/numbers/{w.PNID}"
    (inbox,) = helpdesk.inboxes.values()
    assert inbox["webhook_url"] == f"https://adapter.test/webhooks/helpdesk/{w.PNID}"
    assert inbox["additional_attributes"] == {"agent_reply_time_window": 24}
    assert inbox["agent_bot_id"] == bot["id"]
    channel = app.extensions["adapter"].channels.get(w.PNID)
    assert channel.helpdesk_webhook_secret == inbox["secret"] and channel.default_agent_bot_id == bot["id"]
    assert graph.subscribed_apps == {w.WABA: {}}
    page = text(client.get(f"/admin/numbers/{w.PNID}"))
    assert "+" not in w.DISPLAY and w.DISPLAY in page and "subscribed" in page
    assert not any(secret in page for secret in w.SECRETS)
    again = w.connect_manually(client, csrf)
    assert again.status_code == 409 and "already connected" in text(again)


def test_the_manual_path_refuses_a_number_of_another_waba(client: Any, csrf: str) -> None:
    response = client.post("/admin/connect/manual", data={"waba_id": w.SIGNUP_WABA, "phone_number_id": w.PNID,
                                                          "token": w.TOKEN, "csrf_token": csrf})  # fmt: skip
    assert response.status_code == 400
    assert "The access token is not valid" in text(response) or "not in this WhatsApp Business Account" in text(
        response
    )


def _signup(client: Any, csrf: str) -> str:
    page = text(client.get("/admin/connect"))
    start = page.index("/admin/connect/signup/") + len("/admin/connect/signup/")
    return page[start: page.index("/", start)]


def _post(client: Any, csrf: str, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json=body, headers={"X-CSRF-Token": csrf, "Accept": "application/json"})


FINISH = {"type": "WA_EMBEDDED_SIGNUP", "event": "FINISH",
          "data": {"waba_id": w.SIGNUP_WABA, "phone_number_id": w.SIGNUP_PNID, "business_id": "1"}}  # fmt: skip


@pytest.mark.parametrize("code_first", [True, False])
def test_embedded_signup_joins_the_code_and_the_session_in_either_order(
    client: Any, csrf: str, graph: GraphSimulator, helpdesk: HelpdeskSimulator, app: Any, code_first: bool
) -> None:
    graph.add_signup_code("code-1", w.SIGNUP_TOKEN)
    signup_id = _signup(client, csrf)
    base = f"/admin/connect/signup/{signup_id}"
    halves = [(f"{base}/code", {"code": "code-1"}), (f"{base}/session", {"message": FINISH, "agent_bot_id": ""})]
    first, second = halves if code_first else halves[::-1]
    waiting = _post(client, csrf, *first)
    assert waiting.status_code == 200 and waiting.json["state"] == "waiting"
    assert not graph.is_registered(w.SIGNUP_PNID)
    joined = _post(client, csrf, *second)
    assert joined.json["state"] == "connected" and joined.json["redirect"] == f"/admin/numbers/{w.SIGNUP_PNID}"
    assert client.get(base, headers={"Accept": "application/json"}).json["state"] == "connected"
    channel = app.extensions["adapter"].channels.get(w.SIGNUP_PNID)
    assert channel.graph_access_token == w.SIGNUP_TOKEN and w.SIGNUP_WABA in graph.subscribed_apps
    register = [r for r in graph.requests_log if r["path"].endswith(f"/{w.SIGNUP_PNID}/register")]
    assert len(register) == 1 and graph.is_registered(w.SIGNUP_PNID)  # registered before it is called connected
    pin = register[0]["json"]["pin"]
    assert re.fullmatch(r"\d{6}", pin) and register[0]["json"]["messaging_product"] == "whatsapp"
    number_page = text(client.get(joined.json["redirect"]))
    assert f"two-step verification PIN is {pin}" in number_page and "shown only once" in number_page
    assert pin not in text(client.get(joined.json["redirect"]))  # once
    assert client.get(base, headers={"Accept": "application/json"}).json["state"] == "connected"
    assert pin not in text(client.get(f"/admin/numbers/{w.SIGNUP_PNID}"))
    exchange = [r for r in graph.requests_log if r["path"].endswith("/oauth/access_token")]
    assert exchange[0]["query"]["client_id"] == w.META_APP_ID and exchange[0]["query"]["code"] == "code-1"


def test_embedded_signup_registers_with_the_chosen_pin_or_says_what_is_left(
    client: Any, csrf: str, graph: GraphSimulator
) -> None:
    graph.add_signup_code("code-p", w.SIGNUP_TOKEN)
    signup_id = _signup(client, csrf)
    base = f"/admin/connect/signup/{signup_id}"
    bad = _post(client, csrf, f"{base}/session", {"message": FINISH, "pin": "12a"})
    assert bad.status_code == 400 and "6 digits" in bad.json["message"]
    _post(client, csrf, f"{base}/code", {"code": "code-p"})
    joined = _post(client, csrf, f"{base}/session", {"message": FINISH, "pin": "135790"})
    assert joined.json["state"] == "connected"
    assert [r["json"]["pin"] for r in graph.requests_log if r["path"].endswith("/register")] == ["135790"]
    assert "with the PIN you chose" in text(client.get(joined.json["redirect"]))


def test_embedded_signup_whose_registration_fails_is_not_called_connected(
    client: Any, csrf: str, graph: GraphSimulator, app: Any
) -> None:
    graph.add_signup_code("code-r", w.SIGNUP_TOKEN)
    graph.mark_registered_elsewhere(w.SIGNUP_PNID)
    signup_id = _signup(client, csrf)
    _post(client, csrf, f"/admin/connect/signup/{signup_id}/code", {"code": "code-r"})
    state = _post(client, csrf, f"/admin/connect/signup/{signup_id}/session", {"message": FINISH}).json
    assert state["state"] == "needs_registration" and "did not register it" in state["message"]
    assert "Phone number already registered" in state["message"]
    page = text(client.get(state["redirect"]))
    assert "did not register it" in page and "Call me instead" in page  # the register form is there
    assert app.extensions["adapter"].channels.get(w.SIGNUP_PNID) is not None


def test_a_used_code_and_a_cancelled_signup_say_what_to_do(client: Any, csrf: str, graph: GraphSimulator) -> None:
    graph.add_signup_code("code-2", w.SIGNUP_TOKEN)
    first = _signup(client, csrf)
    _post(client, csrf, f"/admin/connect/signup/{first}/code", {"code": "code-2"})
    second = _signup(client, csrf)
    reused = _post(client, csrf, f"/admin/connect/signup/{second}/code", {"code": "code-2"})
    assert reused.json["state"] == "failed" and "valid for 30 seconds and only once" in reused.json["message"]
    third = _signup(client, csrf)
    cancel = {"type": "WA_EMBEDDED_SIGNUP", "event": "CANCEL", "data": {"current_step": "PHONE_NUMBER_SETUP"}}
    cancelled = _post(client, csrf, f"/admin/connect/signup/{third}/session", {"message": cancel})
    assert cancelled.json["state"] == "cancelled" and "PHONE_NUMBER_SETUP" in cancelled.json["message"]
    stranger = client.application.test_client()
    w.sign_in(stranger)
    assert stranger.get(f"/admin/connect/signup/{third}", headers={"Accept": "application/json"}).status_code == 404


def test_finish_only_waba_asks_for_the_number_then_connects_it(
    client: Any, csrf: str, graph: GraphSimulator, app: Any
) -> None:
    graph.add_signup_code("code-3", w.SIGNUP_TOKEN)
    signup_id = _signup(client, csrf)
    only_waba = {"type": "WA_EMBEDDED_SIGNUP", "event": "FINISH_ONLY_WABA", "data": {"waba_id": w.SIGNUP_WABA}}
    _post(client, csrf, f"/admin/connect/signup/{signup_id}/session", {"message": only_waba})
    state = _post(client, csrf, f"/admin/connect/signup/{signup_id}/code", {"code": "code-3"}).json
    assert state["state"] == "needs_number" and state["redirect"].endswith("/number")
    assert "Verify the phone number" in text(client.get(state["redirect"]))
    bad = client.post(state["redirect"], data={"phone": "12", "display_name": "Acme", "csrf_token": csrf})
    assert bad.status_code == 400 and "country code" in text(bad)
    added = client.post(state["redirect"], data={"phone": "+1 555 019 9999", "display_name": "Acme Sales",
                                                 "csrf_token": csrf})  # fmt: skip
    assert added.status_code == 302 and added.headers["Location"] == f"/admin/numbers/{w.SIGNUP_PNID}"
    assert app.extensions["adapter"].channels.get(w.SIGNUP_PNID) is not None


def test_a_number_on_a_later_page_of_the_waba_is_found(client: Any, csrf: str, graph: GraphSimulator) -> None:
    for n in range(3):
        graph.add_phone_number(f"77{n}", display_phone_number=f"1555017000{n}", waba_id=w.SIGNUP_WABA,
                               access_token=w.SIGNUP_TOKEN)  # fmt: skip
    graph.phone_number_page_size = 1
    connected = client.post("/admin/connect/manual", data={"waba_id": w.SIGNUP_WABA, "phone_number_id": "772",
                                                           "token": w.SIGNUP_TOKEN, "csrf_token": csrf})  # fmt: skip
    assert connected.status_code == 302 and connected.headers["Location"] == "/admin/numbers/772"
    listed = [r for r in graph.requests_log if r["path"].endswith(f"/{w.SIGNUP_WABA}/phone_numbers")]
    assert len(listed) == 4 and all(r["query"].get("after") for r in listed[1:])


def _connect_signup_number(client: Any, csrf: str, graph: GraphSimulator) -> None:
    """Connected by ids and token, so the number is left to verify and register on its page."""
    connected = client.post("/admin/connect/manual", data={"waba_id": w.SIGNUP_WABA, "phone_number_id": w.SIGNUP_PNID,
                                                           "token": w.SIGNUP_TOKEN, "csrf_token": csrf})  # fmt: skip
    assert connected.status_code == 302 and not graph.is_registered(w.SIGNUP_PNID)


def _step(client: Any, csrf: str, step: str, **form: str) -> Any:
    return client.post(f"/admin/numbers/{w.SIGNUP_PNID}/{step}", data={**form, "csrf_token": csrf})


def test_verify_by_voice_then_register_with_a_pin(client: Any, csrf: str, graph: GraphSimulator) -> None:
    _connect_signup_number(client, csrf, graph)
    page = text(client.get(f"/admin/numbers/{w.SIGNUP_PNID}"))
    assert "Verify and register" in page and "Call me instead" in page
    sms = client.get(f"/admin/numbers/{w.SIGNUP_PNID}")
    assert sms.status_code == 200
    assert "Some carriers block 6-digit SMS codes" in text(
        client.post(f"/admin/numbers/{w.SIGNUP_PNID}/request-code", data={"method": "SMS", "csrf_token": csrf},
                    follow_redirects=True))  # fmt: skip
    called = _step(client, csrf, "request-code", method="VOICE")
    assert called.status_code == 302
    request = [r for r in graph.requests_log if r["path"].endswith("/request_code")][-1]
    assert request["json"] == {"code_method": "VOICE", "language": "en_US"}
    wrong = _step(client, csrf, "verify-code", code="000000" if graph.last_verification_code(w.SIGNUP_PNID) != "000000"
                  else "111111")  # fmt: skip
    assert wrong.status_code == 400 and "Wrong verification code" in text(wrong) and "WhatsApp error 100" in text(wrong)
    assert _step(client, csrf, "verify-code", code=str(graph.last_verification_code(w.SIGNUP_PNID))).status_code == 302
    assert _step(client, csrf, "register", pin="12345").status_code == 400
    assert _step(client, csrf, "register", pin="123456").status_code == 302
    assert graph.is_registered(w.SIGNUP_PNID)
    assert "The number is registered" in text(client.get(f"/admin/numbers/{w.SIGNUP_PNID}"))


@pytest.mark.parametrize(
    ("prepare", "words"),
    [
        ("elsewhere", "Phone number already registered"),
        ("pin", "PIN mismatch"),
        ("133008", "Too many tries"),
        ("133015", "about 5 minutes"),
        ("133016", "10 times in 72 hours"),
    ],
)
def test_registration_errors_read_as_the_guide_says(
    client: Any, csrf: str, graph: GraphSimulator, prepare: str, words: str
) -> None:
    _connect_signup_number(client, csrf, graph)
    if prepare == "elsewhere":
        graph.mark_registered_elsewhere(w.SIGNUP_PNID)
    elif prepare == "pin":
        assert _step(client, csrf, "register", pin="654321").status_code == 302
    else:
        graph.fail_next(1, http_status=400, code=int(prepare), title="Refused", details="Try again after 10 minutes",
                        path_contains="/register")  # fmt: skip
    refused = _step(client, csrf, "register", pin="123456")
    page = text(refused)
    assert refused.status_code == 400 and words in page
    if prepare == "elsewhere":
        assert "WhatsApp settings → Account → Delete account" in page and "two-step verification PIN" in page
    if prepare == "133008":
        assert "Meta says: Try again after 10 minutes" in page


def test_onboarding_errors_map_every_code_once() -> None:
    def graph_error(code: int, details: str = "", title: str = "x") -> GraphApiError:
        return GraphApiError(code=code, title=title, details=details, retryable=False, explanation="")

    assert oe.explain(graph_error(136025)).title == oe.WRONG_CODE.title
    wrong_code = graph_error(100, "The verification code you entered is incorrect.", "Invalid parameter")
    assert oe.explain(wrong_code, "verify_code").title == oe.WRONG_CODE.title
    assert oe.explain(wrong_code, "register").title != oe.WRONG_CODE.title  # only the code check means the code
    assert oe.explain(graph_error(133005)).title == "PIN mismatch"
    assert oe.explain(graph_error(100, "Phone number is already registered on WhatsApp")) == oe.ALREADY_REGISTERED
    assert oe.explain(graph_error(190)).title == oe.TOKEN_INVALID.title
    assert oe.explain(graph_error(250)).title == oe.PERMISSION.title
    assert oe.explain(graph_error(133010)).fix.startswith("The phone number is not registered")  # from error_codes
    assert "too many" in oe.explain(graph_error(100, "Too many requests"), "request_code").title.lower()
    assert oe.explain(NetworkError("Graph API", "timed out")) == oe.UNREACHABLE
    assert "Meta says: weird" in oe.explain(graph_error(987654, "weird")).text


def test_disconnect_keeps_the_inbox_and_explains_deregistration(
    client: Any, csrf: str, graph: GraphSimulator, helpdesk: HelpdeskSimulator, app: Any
) -> None:
    w.connect_manually(client, csrf)
    confirm = text(client.get(f"/admin/numbers/{w.PNID}/disconnect"))
    assert "stays registered" in confirm
    result = client.post(f"/admin/numbers/{w.PNID}/disconnect", data={"csrf_token": csrf})
    page = text(result)
    assert result.status_code == 200 and "The number stays registered with Meta" in page
    assert f"POST /{w.PNID}/deregister" in page
    assert w.WABA not in graph.subscribed_apps
    assert app.extensions["adapter"].channels.get(w.PNID) is None
    assert len(helpdesk.inboxes) == 1  # conversations stay readable


def test_the_console_stores_tokens_only_encrypted(
    client: Any, csrf: str, graph: GraphSimulator, store: redis.Redis
) -> None:
    graph.add_signup_code("code-e", w.SIGNUP_TOKEN)
    signup_id = _signup(client, csrf)
    _post(client, csrf, f"/admin/connect/signup/{signup_id}/code", {"code": "code-e"})  # pending: token kept
    w.connect_manually(client, csrf)
    dump = []
    for key in store.keys("*"):
        kind = store.type(key)
        if kind == "hash":
            dump += store.hvals(key)
        elif kind == "string":
            dump.append(store.get(key))
        elif kind == "list":
            dump += store.lrange(key, 0, -1)
    text_dump = "\n".join(str(v) for v in dump)
    assert w.HELPDESK_ADMIN_TOKEN not in text_dump and w.SIGNUP_TOKEN not in text_dump and w.TOKEN not in text_dump


def test_nothing_is_installed_without_an_encryption_key(store: redis.Redis, helpdesk: HelpdeskSimulator,
                                                        graph: GraphSimulator) -> None:  # fmt: skip
    app = create_app(w.console_settings(graph, helpdesk, ENCRYPTION_KEY=""), store=store)
    client = app.test_client()
    refused = w.install(client, w.sign_in(client), helpdesk)
    assert refused.status_code == 409 and "set ENCRYPTION_KEY first" in text(refused)


def test_a_first_integration_adds_its_number_with_a_display_name_then_verifies_it(
    client: Any, csrf: str, graph: GraphSimulator, app: Any
) -> None:
    graph.add_waba("404400440044", access_token="fresh-waba-token")
    graph.add_signup_code("code-new", "fresh-waba-token")
    signup_id = _signup(client, csrf)
    only_waba = {"type": "WA_EMBEDDED_SIGNUP", "event": "FINISH_ONLY_WABA", "data": {"waba_id": "404400440044"}}
    _post(client, csrf, f"/admin/connect/signup/{signup_id}/session", {"message": only_waba})
    state = _post(client, csrf, f"/admin/connect/signup/{signup_id}/code", {"code": "code-new"}).json
    assert state["state"] == "needs_number"
    no_name = client.post(state["redirect"], data={"phone": "+1 555 017 1717", "display_name": " ", "csrf_token": csrf})
    assert no_name.status_code == 400 and "display name" in text(no_name)
    added = client.post(state["redirect"], data={"phone": "+1 555 017 1717", "display_name": "Acme Returns",
                                                 "csrf_token": csrf})  # fmt: skip
    assert added.status_code == 302
    pnid = added.headers["Location"].rsplit("/", 1)[1]
    created = [r for r in graph.requests_log if r["method"] == "POST" and r["path"].endswith("/phone_numbers")]
    assert created[-1]["json"] == {"cc": "1", "phone_number": "5550171717", "verified_name": "Acme Returns"}
    assert app.extensions["adapter"].channels.get(pnid) is not None
    def step(name: str, **form: str) -> int:
        return int(client.post(f"/admin/numbers/{pnid}/{name}", data={**form, "csrf_token": csrf}).status_code)

    assert step("request-code", method="VOICE") == 302
    assert step("verify-code", code=str(graph.last_verification_code(pnid))) == 302
    assert step("register", pin="246810") == 302
    assert graph.is_registered(pnid)
