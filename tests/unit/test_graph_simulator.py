"""Tests of the Graph API simulator itself, driven over real HTTP with `requests`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from adapter.meta.signature import verify_signature
from tests.simulators import meta_payloads as mp
from tests.simulators.graph import GraphSimulator

SECRET = "unit-app-secret"
TOKEN = "token-pn1"
OTHER_TOKEN = "token-pn9"
PNID = "1001"
WABA = "WABA1"


@pytest.fixture()
def sim() -> Iterator[GraphSimulator]:
    simulator = GraphSimulator(app_secret=SECRET).start()
    simulator.add_phone_number(PNID, display_phone_number="15550001111", waba_id=WABA, access_token=TOKEN)
    simulator.add_phone_number(
        "9009", display_phone_number="15550009999", waba_id="WABA9", access_token=OTHER_TOKEN
    )
    yield simulator
    simulator.stop()


class Receiver:
    """A tiny webhook receiver on a loopback port that keeps the raw bytes and headers it got."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, dict[str, str]]] = []
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/meta"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        self.calls.append((req.get_data(), dict(req.headers)))
        ok = verify_signature(SECRET, req.get_data(), req.headers.get("X-Hub-Signature-256"))
        return Response("ok" if ok else "bad signature", status=200 if ok else 403)(environ, start_response)


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _send(
    sim: GraphSimulator, body: dict[str, Any], token: str = TOKEN, pnid: str = PNID
) -> requests.Response:
    return requests.post(f"{sim.base_url}/v25.0/{pnid}/messages", json=body, headers=_auth(token), timeout=5)


def _text(body: str = "hello", **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": "+1 (650) 555-1234",
        "type": "text",
        "text": {"body": body},
        **extra,
    }


def _upload(sim: GraphSimulator, content: bytes, mime: str, token: str = TOKEN) -> requests.Response:
    return requests.post(
        f"{sim.base_url}/v25.0/{PNID}/media",
        data={"messaging_product": "whatsapp", "type": mime},
        files={"file": ("f.bin", content, mime)},
        headers=_auth(token),
        timeout=5,
    )


def _assert_error(resp: requests.Response, http_status: int, code: int) -> dict[str, Any]:
    assert resp.status_code == http_status, resp.text
    err = resp.json()["error"]
    assert err["code"] == code
    assert err["fbtrace_id"]
    return dict(err)


def test_send_is_recorded_and_answers_a_wamid(sim: GraphSimulator) -> None:
    resp = _send(sim, _text(biz_opaque_callback_data="job-1"))
    assert resp.status_code == 200
    answer = resp.json()
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": "+1 (650) 555-1234", "wa_id": "16505551234"}]
    assert "message_status" not in answer["messages"][0]
    [sent] = sim.sent_messages
    assert sent["phone_number_id"] == PNID and sent["wamid"] == wamid and sent["idempotency_key"] == "job-1"
    assert sent["body"]["text"]["body"] == "hello"
    _send(sim, _text(biz_opaque_callback_data="job-1"))
    assert sim.sends_by_key() == {"job-1": 2}
    assert sim.requests_log[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert sim.requests_log[0]["json"]["to"] == "+1 (650) 555-1234"
    assert _send(sim, _text())
    assert len({m["wamid"] for m in sim.sent_messages}) == 3


def test_wrong_token_is_401_code_190(sim: GraphSimulator) -> None:
    for token in ("nope", OTHER_TOKEN):  # unknown token; a real token of another WABA
        err = _assert_error(_send(sim, _text(), token=token), 401, 190)
        assert err["type"] == "OAuthException"
        assert err["message"] == "Invalid OAuth access token - Cannot parse access token"
    resp = requests.post(f"{sim.base_url}/v25.0/{PNID}/messages", json=_text(), timeout=5)
    _assert_error(resp, 401, 190)
    assert sim.sent_messages == []


def test_unknown_phone_number_and_version(sim: GraphSimulator) -> None:
    err = _assert_error(_send(sim, _text(), pnid="424242"), 400, 100)
    assert "Object with ID '424242' does not exist" in err["message"]
    resp = requests.post(f"{sim.base_url}/v19.0/{PNID}/messages", json=_text(), headers=_auth(), timeout=5)
    _assert_error(resp, 400, 2500)


def test_send_validation(sim: GraphSimulator) -> None:
    err = _assert_error(_send(sim, _text("x" * 4097)), 400, 100)
    assert err["error_data"]["details"] == "Param text['body'] must be at most 4096 characters long"
    assert err["message"].startswith("(#100) ")
    assert _send(sim, _text("x" * 4096)).status_code == 200

    no_to = {"messaging_product": "whatsapp", "type": "text", "text": {"body": "hi"}}
    err = _assert_error(_send(sim, no_to), 400, 131008)
    assert err["error_data"] == {"messaging_product": "whatsapp", "details": "Parameter 'to' is required"}
    err = _assert_error(_send(sim, {**_text(), "messaging_product": "sms"}), 400, 100)
    assert "messaging_product" in err["message"]
    _assert_error(_send(sim, {**_text(), "type": "poll"}), 400, 100)
    _assert_error(
        _send(sim, {"messaging_product": "whatsapp", "to": "1650555", "type": "image"}), 400, 131008
    )
    link_and_id = {
        "messaging_product": "whatsapp",
        "to": "1650555",
        "type": "image",
        "image": {"id": "1", "link": "https://x.test/a.jpg"},
    }
    _assert_error(_send(sim, link_and_id), 400, 100)
    unknown_media = {
        "messaging_product": "whatsapp",
        "to": "1650555",
        "type": "image",
        "image": {"id": "404"},
    }
    err = _assert_error(_send(sim, unknown_media), 400, 131053)
    assert err["error_data"]["details"] == "Unable to retrieve media"
    audio_caption = {
        "messaging_product": "whatsapp",
        "to": "1650555",
        "type": "audio",
        "audio": {"link": "https://x.test/a.ogg", "caption": "no"},
    }
    _assert_error(_send(sim, audio_caption), 400, 100)
    template_no_lang = {
        "messaging_product": "whatsapp",
        "to": "1650555",
        "type": "template",
        "template": {"name": "hello"},
    }
    _assert_error(_send(sim, template_no_lang), 400, 131008)
    assert len(sim.sent_messages) == 1


def _interactive(interactive: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": "16505551234", "type": "interactive", "interactive": interactive}


def _buttons(*titles: str, header: dict[str, Any] | None = None) -> dict[str, Any]:
    buttons = [{"type": "reply", "reply": {"id": f"b{n}", "title": t}} for n, t in enumerate(titles)]
    interactive: dict[str, Any] = {"type": "button", "body": {"text": "Pick one"}, "action": {"buttons": buttons}}
    return _interactive({**interactive, **({"header": header} if header else {})})


def _list(*rows: dict[str, Any]) -> dict[str, Any]:
    action = {"button": "Choose", "sections": [{"rows": list(rows)}]}
    return _interactive({"type": "list", "body": {"text": "Pick one"}, "action": action})


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (_buttons("a", "b", "c", "d"), "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3"),
        (_buttons("x" * 21), "Button title length invalid. Min length: 1, Max length: 20"),
        (_buttons("same", "same"), "Buttons must have unique ids and titles"),
        (_list(*({"id": f"r{n}", "title": "row"} for n in range(11))), "Total row count exceed max allowed count: 10"),
        (_list({"id": "r", "title": "x" * 25}), "Row title is too long. Max length is 24"),
        (_list({"id": "r", "title": "ok", "description": "x" * 73}), "Row description is too long. Max length is 72"),
        (_list({"id": "r", "title": "one"}, {"id": "r", "title": "two"}), "Row ids must be unique"),
    ],
)
def test_interactive_limits_are_refused_with_131009_and_metas_details(
    sim: GraphSimulator, body: dict[str, Any], details: str
) -> None:
    err = _assert_error(_send(sim, body), 400, 131009)
    assert err["message"] == "(#131009) Parameter value is not valid"
    assert err["error_data"] == {"messaging_product": "whatsapp", "details": details}
    assert sim.sent_messages == []


def test_interactive_at_the_limits_is_sent_and_headers_are_checked(sim: GraphSimulator) -> None:
    assert _send(sim, _buttons("x" * 20, "y", "z", header={"type": "image", "image": {"link": "https://x.test/a.jpg"}})
                 ).status_code == 200  # fmt: skip
    rows = [{"id": f"r{n}", "title": "x" * 24, "description": "d" * 72} for n in range(10)]
    assert _send(sim, _list(*rows)).status_code == 200
    _assert_error(_send(sim, _buttons("a", header={"type": "image", "image": {"link": "not a url"}})), 400, 100)
    _assert_error(_send(sim, _buttons("a", header={"type": "sticker"})), 400, 100)
    url_button = {"type": "cta_url", "body": {"text": "See"},
                  "action": {"name": "cta_url", "parameters": {"display_text": "Open", "url": "https://x.test"}}}
    assert _send(sim, _interactive(url_button)).status_code == 200
    assert len(sim.sent_messages) == 3


def test_mark_as_read(sim: GraphSimulator) -> None:
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}
    resp = _send(sim, body)
    assert resp.status_code == 200 and resp.json() == {"success": True}
    assert sim.read_receipts[0]["message_id"] == "wamid.IN1"
    assert sim.sent_messages == []


def test_upload_get_and_download_media(sim: GraphSimulator) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    resp = _upload(sim, png, "image/png")
    assert resp.status_code == 200, resp.text
    media_id = resp.json()["id"]
    assert sim.uploads[media_id]["content"] == png
    assert sim.uploads[media_id]["phone_number_id"] == PNID
    assert sim.uploads[media_id]["filename"] == "f.bin"

    meta = requests.get(f"{sim.base_url}/v25.0/{media_id}", headers=_auth(), timeout=5).json()
    assert meta["mime_type"] == "image/png" and meta["file_size"] == len(png) and meta["id"] == media_id
    assert meta["url"].startswith(f"{sim.base_url}/media-download/{media_id}")
    assert requests.get(meta["url"], timeout=5).status_code == 401
    assert requests.get(meta["url"], headers=_auth("forged"), timeout=5).status_code == 401
    download = requests.get(meta["url"], headers=_auth(), timeout=5)
    assert download.status_code == 200
    assert download.content == png and download.headers["Content-Type"] == "image/png"
    assert requests.get(f"{sim.base_url}/media-download/123", headers=_auth(), timeout=5).status_code == 404
    _assert_error(
        requests.get(f"{sim.base_url}/v25.0/{media_id}", headers=_auth(OTHER_TOKEN), timeout=5), 401, 190
    )

    image = {"messaging_product": "whatsapp", "to": "1650555", "type": "image", "image": {"id": media_id}}
    assert _send(sim, image).status_code == 200
    as_sticker = {
        "messaging_product": "whatsapp",
        "to": "1650555",
        "type": "sticker",
        "sticker": {"id": media_id},
    }
    _assert_error(_send(sim, as_sticker), 400, 131053)

    inbound_id = sim.add_media(b"voice", "audio/ogg; codecs=opus")
    inbound_meta = requests.get(f"{sim.base_url}/v25.0/{inbound_id}", headers=_auth(), timeout=5).json()
    assert requests.get(inbound_meta["url"], headers=_auth(), timeout=5).content == b"voice"


def test_upload_rejects_unsupported_type_and_oversize(sim: GraphSimulator) -> None:
    err = _assert_error(_upload(sim, b"GIF89a", "image/gif"), 400, 131053)
    assert "image/gif" in err["error_data"]["details"]
    _assert_error(_upload(sim, b"x" * (5 * 1024 * 1024 + 1), "image/jpeg"), 400, 131053)
    _assert_error(_upload(sim, b"x" * (500 * 1024 + 1), "image/webp"), 400, 131053)
    assert _upload(sim, b"x" * (500 * 1024), "image/webp").status_code == 200
    assert len(sim.uploads) == 1


def test_fail_next_then_recovers(sim: GraphSimulator) -> None:
    sim.fail_next(2, http_status=400, code=130429, title="Rate limit hit", details="throughput reached")
    for _ in range(2):
        err = _assert_error(_send(sim, _text()), 400, 130429)
        assert err["message"] == "(#130429) Rate limit hit"
        assert err["error_data"]["details"] == "throughput reached"
    assert _send(sim, _text()).status_code == 200
    assert len(sim.sent_messages) == 1

    sim.fail_next(1, processed=True)  # accepted by "Meta" but the answer is an error
    _assert_error(_send(sim, _text(biz_opaque_callback_data="k")), 500, 131000)
    assert sim.sends_by_key() == {"k": 1}

    sim.fail_next(1, path_contains="/media")  # does not hit /messages
    assert _send(sim, _text()).status_code == 200
    sim.reset()
    assert sim.sent_messages == [] and sim.requests_log == []
    assert _upload(sim, b"%PDF-1.4", "application/pdf").status_code == 200


def test_set_delay(sim: GraphSimulator) -> None:
    sim.set_delay(0.3)
    started = time.monotonic()
    assert _send(sim, _text()).status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.Timeout):
        _send_with_timeout(sim, 0.1)
    sim.set_delay(0)


def _send_with_timeout(sim: GraphSimulator, timeout: float) -> requests.Response:
    url = f"{sim.base_url}/v25.0/{PNID}/messages"
    return requests.post(url, json=_text(), headers=_auth(), timeout=timeout)


def test_phone_numbers_are_paged_with_after_cursors(sim: GraphSimulator) -> None:
    for n in range(2, 6):
        sim.add_phone_number(f"100{n}", display_phone_number=f"1555000{n}{n}{n}{n}", waba_id=WABA, access_token=TOKEN)
    sim.phone_number_page_size = 2
    url: str | None = f"{sim.base_url}/v25.0/{WABA}/phone_numbers?fields=id,display_phone_number"
    pages: list[list[str]] = []
    while url:
        page = requests.get(url, headers=_auth(), timeout=5).json()
        pages.append([item["id"] for item in page["data"]])
        assert set(page["paging"]["cursors"]) == {"before", "after"}
        url = page["paging"].get("next")
    assert pages == [["1001", "1002"], ["1003", "1004"], ["1005"]]
    bad = requests.get(f"{sim.base_url}/v25.0/{WABA}/phone_numbers?after=nope", headers=_auth(), timeout=5)
    _assert_error(bad, 400, 100)


def test_templates_pagination_returns_every_page(sim: GraphSimulator) -> None:
    ids = [
        sim.add_template(
            WABA,
            {
                "name": f"tpl_{i}",
                "language": "en_US",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Hi {{1}}"}],
            },
        )
        for i in range(7)
    ]
    sim.add_template("WABA9", {"name": "foreign", "language": "en_US", "category": "UTILITY"})
    url: str | None = f"{sim.base_url}/v25.0/{WABA}/message_templates?limit=3&fields=name,status"
    seen: list[dict[str, Any]] = []
    pages = 0
    while url:
        resp = requests.get(url, headers=_auth(), timeout=5)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        pages += 1
        seen.extend(page["data"])
        assert set(page["paging"]["cursors"]) == {"before", "after"}
        url = page["paging"].get("next")
    assert pages == 3
    assert [t["id"] for t in seen] == ids
    assert all(set(t) == {"id", "name", "status"} and t["status"] == "APPROVED" for t in seen)
    resp = requests.get(
        f"{sim.base_url}/v25.0/{WABA}/message_templates", headers=_auth(OTHER_TOKEN), timeout=5
    )
    _assert_error(resp, 401, 190)


def test_template_create_edit_delete_and_send(sim: GraphSimulator) -> None:
    url = f"{sim.base_url}/v25.0/{WABA}/message_templates"
    create = {
        "name": "order_update",
        "category": "UTILITY",
        "language": "en_US",
        "components": [
            {"type": "BODY", "text": "Your order {{1}} ships {{2}} from our store.",
             "example": {"body_text": [["A1", "today"]]}}  # fmt: skip
        ],
    }
    resp = requests.post(url, json=create, headers=_auth(), timeout=5)
    assert resp.status_code == 200, resp.text
    tid = resp.json()["id"]
    assert resp.json() == {"id": tid, "status": "PENDING", "category": "UTILITY"}
    err = _assert_error(requests.post(url, json=create, headers=_auth(), timeout=5), 400, 100)
    assert err["error_data"]["details"] == "Content in this language already exists"
    _assert_error(
        requests.post(url, json={**create, "name": "Bad-Name"}, headers=_auth(), timeout=5), 400, 100
    )

    send: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "to": "16505551234",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "A1"}]}],
        },
    }
    _assert_error(_send(sim, send), 404, 132001)  # still PENDING
    sim.set_template_status(tid, "APPROVED")
    _assert_error(_send(sim, send), 400, 132000)  # 1 parameter for 2 placeholders
    send["template"]["components"][0]["parameters"].append({"type": "text", "text": "today"})
    resp = _send(sim, send)
    assert resp.status_code == 200 and resp.json()["messages"][0]["message_status"] == "accepted"
    sim.set_template_status(tid, "PAUSED")
    _assert_error(_send(sim, send), 400, 132015)

    edit = {"components": [{"type": "BODY", "text": "Order {{1}} is on its way",
                            "example": {"body_text": [["A1"]]}}]}  # fmt: skip
    assert requests.post(f"{sim.base_url}/v25.0/{tid}", json=edit, headers=_auth(), timeout=5).json() == {
        "success": True
    }
    assert sim.templates[tid]["components"] == edit["components"]
    resp = requests.delete(url, params={"name": "order_update", "hsm_id": tid}, headers=_auth(), timeout=5)
    assert resp.json() == {"success": True} and tid not in sim.templates


@pytest.mark.parametrize(
    ("body", "header", "parameter_format", "code", "subcode"),
    [
        ("{{1}}, your order has shipped today.", None, "POSITIONAL", 100, 2388299),
        ("Your order has shipped, {{1}}", None, "POSITIONAL", 100, 2388299),
        ("Hi {{1}}, gate {{2}}. Thanks.", None, "POSITIONAL", 100, 2388293),
        ("Hi {{Name}}, your order has shipped today.", None, "NAMED", 100, 2388072),
        ("Hi {{name2}}, your order has shipped today.", None, "NAMED", 100, 2388072),
        ("Your order has shipped today.", {"type": "HEADER", "format": "GIF"}, "POSITIONAL", 100, 2388047),
    ],
    ids=["leading-variable", "trailing-variable", "too-many-variables", "named-uppercase", "named-digit", "gif"],
)
def test_template_creation_refuses_as_meta(
    sim: GraphSimulator, body: str, header: dict[str, str] | None, parameter_format: str, code: int, subcode: int
) -> None:
    components: list[dict[str, Any]] = [{"type": "BODY", "text": body, "example": {"body_text": [["a", "b"]]}}]
    create = {"name": "refused", "category": "UTILITY", "language": "en_US", "parameter_format": parameter_format,
              "components": ([header] if header else []) + components}  # fmt: skip
    url = f"{sim.base_url}/v25.0/{WABA}/message_templates"
    err = _assert_error(requests.post(url, json=create, headers=_auth(), timeout=5), 400, code)
    assert err["error_subcode"] == subcode and err["error_user_title"] and err["error_user_msg"]


def test_template_buttons_and_examples_are_checked_at_creation(sim: GraphSimulator) -> None:
    url = f"{sim.base_url}/v25.0/{WABA}/message_templates"
    body = {"type": "BODY", "text": "Hi {{1}}, your order has shipped today."}
    base = {"name": "checked", "category": "UTILITY", "language": "en_US"}
    no_example = requests.post(url, json={**base, "components": [body]}, headers=_auth(), timeout=5)
    assert "sample value" in _assert_error(no_example, 400, 100)["error_user_msg"]
    body["example"] = {"body_text": [["Ann"]]}
    reply = {"type": "QUICK_REPLY", "text": "OK"}
    link = {"type": "URL", "text": "Open", "url": "https://x.test"}
    for buttons, words in (([link, link, link], "at most 10 buttons"), ([reply, link, reply], "grouped"),
                           ([{**reply, "text": "x" * 26}], "25 characters")):  # fmt: skip
        answer = requests.post(url, json={**base, "components": [body, {"type": "BUTTONS", "buttons": buttons}]},
                               headers=_auth(), timeout=5)  # fmt: skip
        assert answer.status_code == 400 and words in answer.text
    fine = {**base, "components": [body, {"type": "BUTTONS", "buttons": [reply, reply, link]}]}
    assert requests.post(url, json=fine, headers=_auth(), timeout=5).status_code == 200


def test_post_webhook_signs_like_meta(sim: GraphSimulator, receiver: Receiver) -> None:
    sim.webhook_url = receiver.url
    payload = mp.inbound(PNID, wa_id="16505551234", name="Zoë", message=mp.text("ça va? 😀"))
    resp = sim.post_webhook(payload)
    assert resp.status_code == 200, resp.text
    raw, headers = receiver.calls[0]
    assert raw.isascii() and b"\\u00e7a va" in raw and b", " not in raw  # escaped, compact
    assert json.loads(raw) == payload
    assert verify_signature(SECRET, raw, headers["X-Hub-Signature-256"])
    assert headers["Content-Type"] == "application/json"

    assert sim.post_webhook(payload, signature="sha256=" + "0" * 64).status_code == 403


def test_deliver_status_posts_a_statuses_webhook(sim: GraphSimulator, receiver: Receiver) -> None:
    sim.webhook_url = receiver.url
    wamid = _send(sim, _text(biz_opaque_callback_data="job-9")).json()["messages"][0]["id"]
    failure = [mp.error_object(131047, "Re-engagement message", "more than 24 hours")]
    assert sim.deliver_status(wamid, "failed", errors=failure, timestamp=1751142888).status_code == 200
    payload = json.loads(receiver.calls[0][0])
    assert payload["object"] == "whatsapp_business_account" and payload["entry"][0]["id"] == WABA
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {"display_phone_number": "15550001111", "phone_number_id": PNID}
    [status] = value["statuses"]
    assert status["id"] == wamid and status["status"] == "failed" and status["timestamp"] == "1751142888"
    assert status["recipient_id"] == "16505551234" and status["biz_opaque_callback_data"] == "job-9"
    assert status["errors"][0]["code"] == 131047
    with pytest.raises(KeyError):
        sim.deliver_status("wamid.unknown", "sent")


def test_sim_inbound_control_endpoint(sim: GraphSimulator, receiver: Receiver) -> None:
    sim.webhook_url = receiver.url
    body = {"phone_number_id": PNID, "wa_id": "16505551234", "name": "Sheena", "text": "hi"}
    resp = requests.post(f"{sim.base_url}/_sim/inbound", json=body, timeout=5)
    assert resp.status_code == 200 and resp.json()["webhook_status"] == 200
    value = json.loads(receiver.calls[0][0])["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}]
    assert (
        value["messages"][0]["text"] == {"body": "hi"} and value["messages"][0]["id"] == resp.json()["wamid"]
    )
    assert sim.requests_log == []


def test_onboarding_endpoints(sim: GraphSimulator) -> None:
    base = f"{sim.base_url}/v25.0"
    sim.add_phone_number(
        "2002",
        display_phone_number="15550002222",
        waba_id="WABA2",
        access_token="biz-token",
        registered=False,
    )
    sim.add_signup_code("code-1", "biz-token")
    params = {"client_id": "app", "client_secret": SECRET, "code": "code-1"}
    resp = requests.get(f"{base}/oauth/access_token", params=params, timeout=5)
    assert resp.json() == {"access_token": "biz-token", "token_type": "bearer"}
    _assert_error(requests.get(f"{base}/oauth/access_token", params=params, timeout=5), 400, 100)  # used
    _assert_error(
        requests.get(f"{base}/oauth/access_token", params={**params, "code": "x"}, timeout=5), 400, 100
    )

    auth = _auth("biz-token")
    got = requests.get(
        f"{base}/2002", params={"fields": "status,quality_rating"}, headers=auth, timeout=5
    ).json()
    assert got == {"status": "PENDING", "quality_rating": "GREEN", "id": "2002"}
    listed = requests.get(f"{base}/WABA2/phone_numbers", headers=auth, timeout=5).json()
    assert [n["id"] for n in listed["data"]] == ["2002"]

    assert requests.get(f"{base}/WABA2/subscribed_apps", headers=auth, timeout=5).json() == {"data": []}
    assert requests.post(f"{base}/WABA2/subscribed_apps", headers=auth, timeout=5).json() == {"success": True}
    assert requests.get(f"{base}/WABA2/subscribed_apps", headers=auth, timeout=5).json()["data"]

    code_params = {"code_method": "SMS", "language": "en_US"}
    assert requests.post(f"{base}/2002/request_code", params=code_params, headers=auth, timeout=5).ok
    _assert_error(
        requests.post(f"{base}/2002/verify_code", data={"code": "x"}, headers=auth, timeout=5), 400, 100
    )
    code = sim.last_verification_code("2002")
    assert requests.post(f"{base}/2002/verify_code", data={"code": code}, headers=auth, timeout=5).ok

    text = {"messaging_product": "whatsapp", "to": "16505551234", "text": {"body": "hi"}}
    _assert_error(_send(sim, text, token="biz-token", pnid="2002"), 400, 133010)
    bad_pin = {"messaging_product": "whatsapp", "pin": "12"}
    _assert_error(requests.post(f"{base}/2002/register", json=bad_pin, headers=auth, timeout=5), 400, 100)
    reg = {"messaging_product": "whatsapp", "pin": "123456"}
    assert requests.post(f"{base}/2002/register", json=reg, headers=auth, timeout=5).json() == {
        "success": True
    }
    assert sim.is_registered("2002") and sim.phone_numbers["2002"]["status"] == "CONNECTED"
    assert _send(sim, text, token="biz-token", pnid="2002").status_code == 200

    sim.mark_registered_elsewhere(PNID)
    err = _assert_error(
        requests.post(f"{base}/{PNID}/register", json=reg, headers=_auth(), timeout=5), 400, 100
    )
    assert err["error_data"]["details"] == "Phone number is already registered on WhatsApp"


def test_meta_payload_builders() -> None:
    payload = mp.inbound(PNID, wa_id="16505551234", name="Sheena", message=mp.image("M1", caption="look"))
    entry = payload["entry"][0]
    assert payload["object"] == "whatsapp_business_account" and entry["id"] == "WABA1" and "time" not in entry
    value = entry["changes"][0]["value"]
    msg = value["messages"][0]
    assert (
        msg["from"] == "16505551234" and msg["id"].startswith("wamid.") and isinstance(msg["timestamp"], str)
    )
    assert msg["type"] == "image" and msg["image"]["id"] == "M1" and msg["image"]["caption"] == "look"
    system = mp.inbound(PNID, wa_id="1", name="x", message=mp.system_changed_number("2", "1"))
    assert "contacts" not in system["entry"][0]["changes"][0]["value"]
    reply = mp.interactive_button_reply("yes", "Yes", "wamid.OUT")
    assert reply["context"]["id"] == "wamid.OUT" and reply["interactive"]["button_reply"]["id"] == "yes"
    assert "emoji" not in mp.reaction("wamid.X", None)["reaction"]
    st = mp.status("wamid.X", "read", "1650", 17, biz_opaque_callback_data="k")
    assert st == {
        "id": "wamid.X",
        "status": "read",
        "timestamp": "17",
        "recipient_id": "1650",
        "biz_opaque_callback_data": "k",
    }
