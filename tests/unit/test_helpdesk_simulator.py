"""The Chatwoot helpdesk simulator, exercised over real HTTP with ``requests``.

A tiny receiving server stands in for the adapter's webhook endpoint so signatures, encodings and the
failed-delivery rule can be checked on the wire.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from adapter.helpdesk.signature import verify_signature
from tests.simulators.helpdesk import HelpdeskSimulator
from tests.simulators.helpdesk_state import ApiError

TOKEN = "admin-token"
SECRET = "inbox-secret"
PHONE = "+5511987654321"
WA_ID = "5511987654321"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 20
PDF = b"%PDF-1.4 fake invoice"


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records every POST and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/chatwoot/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        req = Request(environ)
        with self._lock:
            self.received.append({"headers": dict(req.headers), "body": req.get_data()})
            status = self.status
        return Response("ok", status=status)(environ, start_response)

    def events(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            bodies = [json.loads(r["body"]) for r in self.received]
        return [b for b in bodies if b.get("event") == name]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture
def sim(receiver: Receiver) -> Iterator[HelpdeskSimulator]:
    simulator = HelpdeskSimulator().start()
    simulator.add_account(1, "Acme")
    simulator.add_user(1, token=TOKEN)
    simulator.add_inbox(1, name="WhatsApp +55 11 4000-0000", webhook_url=receiver.url, secret=SECRET)
    yield simulator
    simulator.stop()


def api(sim: HelpdeskSimulator, method: str, path: str, token: str | None = TOKEN,
        **kwargs: Any) -> requests.Response:
    headers = {"api_access_token": token} if token else {}
    return requests.request(method, f"{sim.base_url}/api/v1{path}", headers=headers, timeout=10, **kwargs)


def make_conversation(sim: HelpdeskSimulator) -> tuple[int, int]:
    """(contact id, conversation display id) for a WhatsApp customer in inbox 1."""
    contact = api(sim, "POST", "/accounts/1/contacts",
                  json={"name": "João", "phone_number": PHONE, "inbox_id": 1, "source_id": WA_ID})
    contact_id = contact.json()["payload"]["contact"]["id"]
    conv = api(sim, "POST", "/accounts/1/conversations",
               json={"inbox_id": 1, "contact_id": contact_id, "source_id": WA_ID})
    assert conv.status_code == 200, conv.text
    return contact_id, conv.json()["id"]


def test_requests_without_a_valid_token_are_refused(sim: HelpdeskSimulator) -> None:
    for token in (None, "wrong-token"):
        answer = api(sim, "GET", "/profile", token=token)
        assert answer.status_code == 401
        assert answer.json() == {"error": "You need to sign in or sign up before continuing."}
    assert api(sim, "GET", "/accounts/1/inboxes", token=None).status_code == 401

    profile = api(sim, "GET", "/profile").json()
    assert profile["accounts"] == [{"id": 1, "name": "Acme", "role": "administrator", "status": "active",
                                    "availability": "online", "auto_offline": True, "active_at": None}]
    assert api(sim, "GET", "/accounts/99/inboxes").json() == {"error": "Resource could not be found"}
    assert sim.requests_log[0]["path"] == "/api/v1/profile"


def test_contact_create_duplicate_phone_and_filter(sim: HelpdeskSimulator) -> None:
    lookup = {"inbox_id": 1, "source_id": WA_ID}
    assert api(sim, "POST", "/accounts/1/contact_inboxes/filter", json=lookup).status_code == 404

    created = api(sim, "POST", "/accounts/1/contacts",
                  json={"name": "João", "phone_number": PHONE, "inbox_id": 1, "source_id": WA_ID,
                        "custom_attributes": {"wa_id": WA_ID}})
    assert created.status_code == 200
    payload = created.json()["payload"]
    assert payload["contact"]["phone_number"] == PHONE
    assert payload["contact"]["contact_inboxes"][0]["source_id"] == WA_ID
    assert payload["contact_inbox"]["source_id"] == WA_ID and payload["contact_inbox"]["inbox"]["id"] == 1

    duplicate = api(sim, "POST", "/accounts/1/contacts", json={"name": "Other", "phone_number": PHONE})
    assert duplicate.status_code == 422
    assert duplicate.json() == {"message": "Phone number has already been taken",
                                "attributes": ["phone_number"]}
    invalid = api(sim, "POST", "/accounts/1/contacts", json={"name": "No plus", "phone_number": WA_ID})
    assert invalid.status_code == 422
    assert invalid.json() == {"message": "Phone number should be in e164 format",
                              "attributes": ["phone_number"]}

    found = api(sim, "POST", "/accounts/1/contact_inboxes/filter", json=lookup)
    assert found.status_code == 200
    assert found.json()["id"] == payload["contact"]["id"]
    assert found.json()["contact_inboxes"][0]["inbox"]["id"] == 1

    search = api(sim, "GET", "/accounts/1/contacts/search", params={"q": PHONE}).json()
    assert search["meta"]["count"] == 1 and search["payload"][0]["id"] == payload["contact"]["id"]

    contact_id = payload["contact"]["id"]
    again = api(sim, "POST", f"/accounts/1/contacts/{contact_id}/contact_inboxes", json=lookup)
    assert again.json()["source_id"] == WA_ID
    shown = api(sim, "GET", f"/accounts/1/contacts/{contact_id}").json()["payload"]
    assert len(shown["contact_inboxes"]) == 1
    updated = api(sim, "PATCH", f"/accounts/1/contacts/{contact_id}", json={"custom_attributes": {"x": 1}})
    assert updated.json()["payload"]["custom_attributes"] == {"wa_id": WA_ID, "x": 1}


def test_conversation_and_messages_json_and_multipart(sim: HelpdeskSimulator) -> None:
    contact_id, display_id = make_conversation(sim)
    assert display_id == 1
    conv = sim.conversation(1, display_id)
    assert conv["status"] == "open" and conv["meta"]["sender"]["id"] == contact_id

    first = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
                json={"content": "Oi!", "message_type": "incoming", "source_id": "wamid.A"})
    assert first.status_code == 200
    rest = first.json()
    assert rest["message_type"] == 0 and isinstance(rest["created_at"], int)
    assert rest["status"] == "sent" and rest["conversation_id"] == display_id
    assert rest["source_id"] == "wamid.A" and rest["sender"]["type"] == "contact"
    assert "attachments" not in rest

    files = [("attachments[]", ("label.jpg", JPEG, "image/jpeg")),
             ("attachments[]", ("invoice.pdf", PDF, "application/pdf"))]
    form = {"content": "Photo caption", "message_type": "incoming", "source_id": "wamid.B",
            "content_attributes": json.dumps({"in_reply_to_external_id": "wamid.A"})}
    second = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages", data=form, files=files)
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["content_attributes"] == {"in_reply_to_external_id": "wamid.A", "in_reply_to": rest["id"]}
    assert [a["file_type"] for a in body["attachments"]] == ["image", "file"]
    redirect_prefix = sim.base_url + "/rails/active_storage/blobs/redirect/"
    assert body["attachments"][0]["data_url"].startswith(redirect_prefix)

    logged = sim.requests_log[-1]
    assert logged["files"] == [("attachments[]", "label.jpg", "image/jpeg", len(JPEG)),
                               ("attachments[]", "invoice.pdf", "application/pdf", len(PDF))]
    stored = sim.messages_in(1, display_id)
    assert [m["id"] for m in stored] == [rest["id"], body["id"]]
    assert stored[1]["attachments"][0]["data"] == JPEG
    assert stored[1]["attachments"][1]["filename"] == "invoice.pdf"

    too_many = [("attachments[]", (f"f{i}.txt", b"x", "text/plain")) for i in range(16)]
    refused = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
                  data={"message_type": "incoming"}, files=too_many)
    assert refused.status_code == 422 and "Attachments" in refused.json()["error"]
    assert api(sim, "POST", "/accounts/1/conversations/42/messages", json={"content": "x"}).status_code == 404


def test_incoming_message_reopens_a_resolved_conversation(sim: HelpdeskSimulator) -> None:
    _, display_id = make_conversation(sim)
    toggled = api(sim, "POST", f"/accounts/1/conversations/{display_id}/toggle_status",
                  json={"status": "resolved"})
    assert toggled.json()["payload"]["current_status"] == "resolved"
    api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
        json={"content": "again", "message_type": "incoming"})
    assert sim.conversation(1, display_id)["status"] == "open"


def test_status_patch_rules_and_message_updated_echo(sim: HelpdeskSimulator, receiver: Receiver) -> None:
    _, display_id = make_conversation(sim)
    sent = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
               json={"content": "Hello", "message_type": "outgoing"}).json()
    assert sent["message_type"] == 1 and sent["sender"]["type"] == "user"
    url = f"/accounts/1/conversations/{display_id}/messages/{sent['id']}"

    def patch(body: dict[str, Any]) -> dict[str, Any]:
        answer = api(sim, "PATCH", url, json=body)
        assert answer.status_code == 200
        data: dict[str, Any] = answer.json()
        return data

    assert patch({"status": "delivered"})["status"] == "delivered"
    assert patch({"status": "read"})["status"] == "read"
    assert patch({"status": "delivered"})["status"] == "read"  # read -> delivered is refused
    assert patch({"status": "bogus"})["status"] == "read"
    failed = patch({"status": "failed", "external_error": "131047: Re-engagement message"})
    assert failed["status"] == "failed"
    assert failed["content_attributes"]["external_error"] == "131047: Re-engagement message"
    cleared = patch({"status": "sent", "external_error": "ignored"})
    # The store accessor writes nil: the key stays, null (as Chatwoot's JSON shows it).
    assert cleared["status"] == "sent" and cleared["content_attributes"] == {"external_error": None}

    bot = sim.add_agent_bot(1, token="bot-token")
    assert api(sim, "PATCH", url, token=bot["access_token"], json={"status": "read"}).status_code == 401

    assert sim.wait_for_webhooks()
    updates = receiver.events("message_updated")
    assert len(updates) == 4  # delivered, read, failed, sent — the no-ops fire nothing
    assert all("status" not in u for u in updates)
    assert updates[2]["content_attributes"]["external_error"] == "131047: Re-engagement message"
    assert [e["event"] for e in receiver.events("message_created")] == ["message_created"]


def test_agent_reply_posts_a_signed_webhook_with_webhook_encodings(sim: HelpdeskSimulator,
                                                                   receiver: Receiver) -> None:
    _, display_id = make_conversation(sim)
    incoming = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
                   json={"content": "Where is my order?", "message_type": "incoming",
                         "source_id": "wamid.HBgMNTUx"}).json()
    assert sim.wait_for_webhooks()
    receiver.received.clear()

    message, status = sim.agent_reply(1, display_id, "Your order **ships** today.\\\n",
                                      attachments=[("label.jpg", JPEG, "image/jpeg")],
                                      in_reply_to=incoming["id"])
    assert status == 200 and message["status"] == "sent" and message["message_type"] == 1

    assert len(receiver.received) == 1
    raw = receiver.received[0]
    headers = {k.lower(): v for k, v in raw["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert len(headers["x-chatwoot-delivery"]) == 36
    assert verify_signature(SECRET, raw["body"], signature=headers["x-chatwoot-signature"],
                            timestamp=headers["x-chatwoot-timestamp"], now=time.time(),
                            max_age_seconds=300) is None
    assert verify_signature("other-secret", raw["body"], signature=headers["x-chatwoot-signature"],
                            timestamp=headers["x-chatwoot-timestamp"], now=time.time(),
                            max_age_seconds=300) is not None

    payload = json.loads(raw["body"])
    assert payload["event"] == "message_created"
    assert payload["message_type"] == "outgoing" and "status" not in payload
    assert payload["created_at"].endswith("Z") and "T" in payload["created_at"]
    assert payload["content"] == "Your order **ships** today."
    assert payload["sender"] == {"id": 1, "name": "Ana Agent", "email": "ana@acme.test", "type": "user"}
    assert payload["inbox"] == {"id": 1, "name": "WhatsApp +55 11 4000-0000"}
    assert payload["account"] == {"id": 1, "name": "Acme"}
    assert payload["private"] is False and payload["source_id"] is None
    assert payload["content_attributes"] == {"in_reply_to": incoming["id"],
                                             "in_reply_to_external_id": "wamid.HBgMNTUx"}
    conv = payload["conversation"]
    assert conv["id"] == display_id and conv["contact_inbox"]["source_id"] == WA_ID
    assert conv["messages"][0]["message_type"] == 1 and conv["messages"][0]["status"] == "sent"
    assert conv["messages"][0]["sender"]["type"] == "user"
    assert conv["meta"]["sender"]["type"] == "contact" and conv["can_reply"] is True
    assert conv["account"] == {"id": 1, "name": "Acme"}

    attachment = payload["attachments"][0]
    assert attachment["file_type"] == "image" and attachment["content_type"] == "image/jpeg"
    hop = requests.get(attachment["data_url"], allow_redirects=False, timeout=5)
    assert hop.status_code == 302
    download = requests.get(attachment["data_url"], timeout=5)
    assert download.content == JPEG and download.headers["Content-Type"] == "image/jpeg"
    assert sim.webhook_deliveries[-1]["status_code"] == 200 and sim.webhook_deliveries[-1]["error"] is None


def test_contact_sender_in_webhook_has_no_type_and_bot_sender_is_agent_bot(sim: HelpdeskSimulator,
                                                                           receiver: Receiver) -> None:
    _, display_id = make_conversation(sim)
    bot = sim.add_agent_bot(1, name="AI Agent", token="bot-token")
    created = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages", token=bot["access_token"],
                  json={"content": "I am a bot"})
    assert created.status_code == 200 and created.json()["sender"]["type"] == "agent_bot"
    refused = api(sim, "POST", "/accounts/1/contacts", token=bot["access_token"], json={"name": "x"})
    assert refused.status_code == 401
    api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
        json={"content": "hi", "message_type": "incoming"})
    assert sim.wait_for_webhooks()
    created_events = receiver.events("message_created")
    assert created_events[0]["sender"] == {"id": bot["id"], "name": "AI Agent", "type": "agent_bot"}
    assert "type" not in created_events[1]["sender"] and created_events[1]["sender"]["phone_number"] == PHONE
    assert created_events[1]["message_type"] == "incoming"
    assert [e["event"] for e in receiver.events("conversation_created")] == ["conversation_created"]


def test_failed_webhook_marks_the_message_failed(sim: HelpdeskSimulator, receiver: Receiver) -> None:
    _, display_id = make_conversation(sim)
    receiver.status = 503
    message, status = sim.agent_reply(1, display_id, "hello?")
    assert status == 503
    assert message["status"] == "failed"
    assert message["content_attributes"]["external_error"] == "503 Service Unavailable"
    assert sim.webhook_deliveries[-1]["error"] == "503 Service Unavailable"


def test_set_status_posts_conversation_status_changed(sim: HelpdeskSimulator, receiver: Receiver) -> None:
    _, display_id = make_conversation(sim)
    assert sim.set_status(1, display_id, "resolved") == 200
    event = receiver.events("conversation_status_changed")[-1]
    change = {"status": {"previous_value": "open", "current_value": "resolved"}}
    assert event["changed_attributes"] == [change]
    assert event["status"] == "resolved" and event["id"] == display_id


def test_fault_injection_and_down(sim: HelpdeskSimulator) -> None:
    sim.fail_next(1, http_status=500, path_contains="/contacts")
    assert api(sim, "GET", "/profile").status_code == 200
    assert api(sim, "GET", "/accounts/1/contacts/search", params={"q": "x"}).status_code == 500
    assert api(sim, "GET", "/accounts/1/contacts/search", params={"q": "x"}).status_code == 200
    sim.set_down(True)
    assert api(sim, "GET", "/profile").status_code == 503
    sim.set_down(False)
    sim.set_delay(0.2)
    started = time.monotonic()
    assert api(sim, "GET", "/profile").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_inbox_update_replaces_additional_attributes(sim: HelpdeskSimulator) -> None:
    window = {"agent_reply_time_window": 24, "message_templates": []}
    first = api(sim, "PATCH", "/accounts/1/inboxes/1", json={"channel": {"additional_attributes": window}})
    assert first.json()["additional_attributes"] == {"agent_reply_time_window": 24, "message_templates": []}
    second = api(sim, "PATCH", "/accounts/1/inboxes/1",
                 json={"channel": {"additional_attributes": {"message_templates": [{"name": "hello"}]}}})
    assert second.json()["additional_attributes"] == {"message_templates": [{"name": "hello"}]}
    bad = api(sim, "PATCH", "/accounts/1/inboxes/1",
              json={"channel": {"additional_attributes": {"agent_reply_time_window": 0}}})
    assert bad.status_code == 422 and bad.json()["attributes"] == ["agent_reply_time_window"]
    listed = api(sim, "GET", "/accounts/1/inboxes").json()["payload"]
    assert listed[0]["secret"] == SECRET and listed[0]["channel_type"] == "Channel::Api"


def test_lock_to_single_conversation_returns_the_last_conversation(sim: HelpdeskSimulator,
                                                                   receiver: Receiver) -> None:
    inbox = sim.add_inbox(1, name="Locked", webhook_url=receiver.url, secret=SECRET,
                          lock_to_single_conversation=True)
    contact = api(sim, "POST", "/accounts/1/contacts", json={"name": "Ana", "phone_number": "+14155550100"})
    contact_id = contact.json()["payload"]["contact"]["id"]
    body = {"inbox_id": inbox["id"], "contact_id": contact_id, "source_id": "14155550100"}
    first = api(sim, "POST", "/accounts/1/conversations", json=body).json()
    second = api(sim, "POST", "/accounts/1/conversations", json=body).json()
    assert first["id"] == second["id"]


def test_post_webhook_signs_with_overrides_and_echo_can_be_disabled(sim: HelpdeskSimulator,
                                                                    receiver: Receiver) -> None:
    answer = sim.post_webhook(1, {"event": "message_created", "id": 1}, secret="wrong", timestamp=1000,
                              delivery_id="fixed-id")
    assert answer.status_code == 200
    raw = receiver.received[-1]
    headers = {k.lower(): v for k, v in raw["headers"].items()}
    assert headers["x-chatwoot-timestamp"] == "1000" and headers["x-chatwoot-delivery"] == "fixed-id"
    assert raw["body"] == b'{"event":"message_created","id":1}'
    assert verify_signature(SECRET, raw["body"], signature=headers["x-chatwoot-signature"], timestamp="1000",
                            now=1000, max_age_seconds=300) == "signature does not match"

    sim.echo_webhooks = False
    before = len(receiver.received)
    _, display_id = make_conversation(sim)
    api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
        json={"content": "quiet", "message_type": "incoming"})
    assert sim.wait_for_webhooks() and len(receiver.received) == before


def test_custom_attributes_are_replaced_and_reset_forgets_everything(sim: HelpdeskSimulator) -> None:
    _, display_id = make_conversation(sim)
    url = f"/accounts/1/conversations/{display_id}/custom_attributes"
    api(sim, "POST", url, json={"custom_attributes": {"a": 1}})
    api(sim, "POST", url, json={"custom_attributes": {"b": 2}})
    assert sim.conversation(1, display_id)["custom_attributes"] == {"b": 2}

    sim.fail_next(5)
    sim.reset()
    assert not sim.contacts and not sim.conversations and not sim.messages and not sim.requests_log
    assert api(sim, "GET", "/profile").status_code == 401  # the user is gone too, and no fault fires


SPARSE_BUTTONS = [None, {"type": "url", "parameter": "x"}, {"type": "copy_code", "parameter": "C"}]


def test_the_nulls_of_json_arrays_are_dropped_as_rails_params_do(sim: HelpdeskSimulator, receiver: Receiver) -> None:
    _, display_id = make_conversation(sim)
    params = {"name": "order_update", "language": "en_US",
              "processed_params": {"body": {"1": "x"}, "buttons": SPARSE_BUTTONS}}
    posted = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
                 json={"content": "Hi", "template_params": params, "content_attributes": {"items": [None, 1]}})
    assert posted.status_code == 200, posted.text
    dashboard, _ = sim.agent_reply(1, display_id, "Hi", template_params=params)
    assert sim.wait_for_webhooks()
    expected = [{"type": "url", "parameter": "x"}, {"type": "copy_code", "parameter": "C"}]
    for message_id in (posted.json()["id"], dashboard["id"]):
        stored = sim.messages[message_id]["additional_attributes"]["template_params"]
        assert stored["processed_params"]["buttons"] == expected
        (event,) = [e for e in receiver.events("message_created") if e["id"] == message_id]
        assert event["additional_attributes"]["template_params"]["processed_params"]["buttons"] == expected
    assert sim.messages[posted.json()["id"]]["content_attributes"]["items"] == [1]


def test_template_params_are_checked_against_chatwoots_schema(sim: HelpdeskSimulator) -> None:
    _, display_id = make_conversation(sim)
    url = f"/accounts/1/conversations/{display_id}/messages"

    def refusal(template_params: Any) -> Any:
        answer = api(sim, "POST", url, json={"content": "Hi", "template_params": template_params})
        assert answer.status_code == 422
        return answer.json()

    before = len(sim.messages)
    picker = {"name": "order_update", "category": "UTILITY", "language": "en_US", "namespace": None,
              "processed_params": {"body": {"1": "x"}}}
    assert refusal(picker) == {"error": "Validation failed: Template params/namespace must be of type string"}
    assert refusal({"language": "en_US"}) == {"error": "Validation failed: Name is required"}
    assert refusal({"name": 7, "processed_params": []}) == {
        "error": "Validation failed: Template params/name must be of type string, "
                 "Template params/processed params must be of type hash"}  # fmt: skip
    assert refusal(["order_update"]) == {"error": "Validation failed: Template params must be of type hash"}
    assert len(sim.messages) == before  # the refused ones created nothing
    accepted = api(sim, "POST", url, json={"content": "Hi", "template_params": {**picker, "namespace": "ns"}})
    assert accepted.status_code == 200
    blank = api(sim, "POST", url, json={"content": "Hi", "template_params": {}})
    assert blank.status_code == 200
    assert "template_params" not in sim.messages[blank.json()["id"]]["additional_attributes"]
    with pytest.raises(ApiError, match="namespace must be of type string"):
        sim.agent_reply(1, display_id, "Hi", template_params=picker)


def test_deleting_a_message_blanks_it_and_fires_message_updated(sim: HelpdeskSimulator, receiver: Receiver) -> None:
    _, display_id = make_conversation(sim)
    quoted = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
                 json={"content": "Which size?", "message_type": "incoming", "source_id": "wamid.Q"}).json()
    form = {"content": "This one", "content_attributes": json.dumps({"in_reply_to": quoted["id"]})}
    created = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages", data=form,
                  files=[("attachments[]", ("label.jpg", JPEG, "image/jpeg"))]).json()
    data_url = created["attachments"][0]["data_url"]
    api(sim, "PATCH", f"/accounts/1/conversations/{display_id}/messages/{created['id']}",
        json={"status": "failed", "external_error": "boom"})
    assert sim.wait_for_webhooks()
    deleted = api(sim, "DELETE", f"/accounts/1/conversations/{display_id}/messages/{created['id']}")
    assert deleted.status_code == 200
    body = deleted.json()
    assert body["content"] == "This message was deleted" and body["content_attributes"] == {"deleted": True}
    assert "status" not in body and "attachments" not in body and body["content_type"] == "text"
    assert sim.messages[created["id"]]["status"] == "failed"  # the status stays
    assert requests.get(data_url, timeout=5).status_code == 404
    assert sim.wait_for_webhooks()
    update = receiver.events("message_updated")[-1]
    assert update["id"] == created["id"] and update["content_attributes"] == {"deleted": True}
    assert update["content"] == "This message was deleted" and "attachments" not in update

    again, status = sim.delete_message(1, display_id, quoted["id"])
    assert status == 200 and again["content_attributes"] == {"deleted": True}
    assert receiver.events("message_updated")[-1]["id"] == quoted["id"]
    assert api(sim, "DELETE", f"/accounts/1/conversations/{display_id}/messages/999").status_code == 404


def test_retry_sets_sent_and_wipes_content_attributes_in_two_updates(sim: HelpdeskSimulator,
                                                                     receiver: Receiver) -> None:
    _, display_id = make_conversation(sim)
    quoted = api(sim, "POST", f"/accounts/1/conversations/{display_id}/messages",
                 json={"content": "Which size?", "message_type": "incoming", "source_id": "wamid.Q"}).json()
    reply, _ = sim.agent_reply(1, display_id, "Medium", in_reply_to=quoted["id"])
    url = f"/accounts/1/conversations/{display_id}/messages/{reply['id']}"
    api(sim, "PATCH", url, json={"status": "failed", "external_error": "131026: Message undeliverable"})
    assert sim.wait_for_webhooks()
    updates_before = len(receiver.events("message_updated"))
    retried = api(sim, "POST", url + "/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] == "sent" and retried.json()["content_attributes"] == {}
    assert sim.wait_for_webhooks()
    updates = receiver.events("message_updated")[updates_before:]
    # The status update and the wipe are two commits; the async dispatcher reads the message after both.
    assert len(updates) == 2 and all(u["id"] == reply["id"] and u["content_attributes"] == {} for u in updates)

    api(sim, "PATCH", url, json={"status": "failed", "external_error": "again"})
    assert sim.wait_for_webhooks()
    message, status = sim.retry_message(1, display_id, reply["id"])
    assert status == 200 and message["status"] == "sent" and message["content_attributes"] == {}
    assert sim.retry_message(1, display_id, reply["id"]) == (message, 0)  # nothing changed: no webhook


def test_the_message_list_pages_twenty_at_a_time(sim: HelpdeskSimulator) -> None:
    _, display_id = make_conversation(sim)
    url = f"/accounts/1/conversations/{display_id}/messages"
    ids = [api(sim, "POST", url, json={"content": f"m{n}", "message_type": "incoming"}).json()["id"]
           for n in range(45)]

    def page(**query: Any) -> list[int]:
        return [m["id"] for m in api(sim, "GET", url, params=query).json()["payload"]]

    assert page() == ids[-20:]
    assert page(before=ids[-20]) == ids[-40:-20]
    assert page(before=ids[-40]) == ids[:5]
    assert page(before=ids[0]) == []
    assert page(after=ids[39]) == ids[40:]
    assert page(after=ids[10], before=ids[13]) == ids[10:13]
    listed = api(sim, "GET", url).json()
    assert listed["meta"]["contact"]["phone_number"] == PHONE


def test_attachment_urls_are_on_the_frontend_url(sim: HelpdeskSimulator) -> None:
    _, display_id = make_conversation(sim)
    url = f"/accounts/1/conversations/{display_id}/messages"
    files = [("attachments[]", ("label.jpg", JPEG, "image/jpeg"))]
    assert sim.frontend_url == sim.base_url
    frontend = sim.base_url.replace("127.0.0.1", "localhost")
    sim.frontend_url = frontend + "/"
    assert sim.frontend_url == frontend
    body = api(sim, "POST", url, data={"content": "photo"}, files=files).json()
    data_url = body["attachments"][0]["data_url"]
    assert data_url.startswith(frontend + "/rails/active_storage/blobs/redirect/")
    assert body["attachments"][0]["thumb_url"].startswith(frontend + "/rails/active_storage/representations/")
    redirect = requests.get(data_url, timeout=5, allow_redirects=False)
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith(frontend + "/blobs/")
    assert requests.get(data_url, timeout=5).content == JPEG
    sim.reset()
    assert sim.frontend_url == sim.base_url
    with HelpdeskSimulator(frontend_url="https://chat.acme.test") as other:
        assert other.frontend_url == "https://chat.acme.test"
