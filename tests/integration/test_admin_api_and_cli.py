"""Channels through the admin API and the CLI: validated, tokens never shown."""

from __future__ import annotations

from typing import Any

from tests.conftest import ADMIN_TOKEN, GRAPH_TOKEN, HELPDESK_TOKEN, INBOX_SECRET, PNID

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHANNEL = {
    "phone_number_id": PNID,
    "display_phone_number": "+1 555 078 3881",
    "waba_id": "102290129340398",
    "graph_access_token": GRAPH_TOKEN,
    "helpdesk_account_id": 1,
    "helpdesk_inbox_id": 12,
    "helpdesk_api_token": HELPDESK_TOKEN,
    "helpdesk_webhook_secret": INBOX_SECRET,
}
SECRETS = (GRAPH_TOKEN, HELPDESK_TOKEN, INBOX_SECRET)


def test_admin_api_needs_the_token(client: Any) -> None:
    assert client.get("/admin/api/channels").status_code == 401
    assert client.get("/admin/api/channels", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_channel_lifecycle_never_shows_a_secret(client: Any) -> None:
    created = client.post("/admin/api/channels", json=CHANNEL, headers=AUTH)
    assert created.status_code == 201
    assert created.json["helpdesk_webhook_url"] == f"https://adapter.test/webhooks/helpdesk/{PNID}"
    assert client.post("/admin/api/channels", json=CHANNEL, headers=AUTH).status_code == 409
    listing = client.get("/admin/api/channels", headers=AUTH)
    shown = client.get(f"/admin/api/channels/{PNID}", headers=AUTH)
    for response in (created, listing, shown):
        assert not any(secret in response.get_data(as_text=True) for secret in SECRETS)
    updated = client.patch(f"/admin/api/channels/{PNID}", json={"default_agent_bot_id": 42}, headers=AUTH)
    assert updated.status_code == 200 and updated.json["default_agent_bot_id"] == 42
    assert updated.json["graph_access_token"] == "set"
    assert client.delete(f"/admin/api/channels/{PNID}", headers=AUTH).status_code == 200
    assert client.get(f"/admin/api/channels/{PNID}", headers=AUTH).status_code == 404


def test_invalid_channels_get_a_precise_400(client: Any) -> None:
    bad = {**CHANNEL, "phone_number_id": "abc", "helpdesk_inbox_id": "12", "extra": 1}
    response = client.post("/admin/api/channels", json=bad, headers=AUTH)
    assert response.status_code == 400
    assert set(response.json["details"]) == {"phone_number_id", "helpdesk_inbox_id", "extra"}
    assert client.post("/admin/api/channels", data=b"[1,", headers=AUTH).status_code == 400


def test_cli_adds_lists_shows_and_removes(app: Any) -> None:
    runner = app.test_cli_runner()
    args = ["channels", "add", "--phone-number-id", PNID, "--waba-id", "1", "--graph-access-token", GRAPH_TOKEN,
            "--helpdesk-account-id", "1", "--helpdesk-inbox-id", "12", "--helpdesk-api-token", HELPDESK_TOKEN,
            "--helpdesk-webhook-secret", INBOX_SECRET]
    added = runner.invoke(args=args)
    assert added.exit_code == 0, added.output
    assert PNID in runner.invoke(args=["channels", "list"]).output
    shown = runner.invoke(args=["channels", "show", PNID]).output
    assert PNID in shown and not any(secret in shown for secret in SECRETS)
    assert runner.invoke(args=["channels", "remove", PNID]).exit_code == 0
    missing = runner.invoke(args=["channels", "show", PNID])
    assert missing.exit_code != 0 and "no channel" in missing.output


def test_guessing_the_admin_token_is_slowed_down(client: Any) -> None:
    for _ in range(10):
        assert client.get("/admin/api/channels", headers={"Authorization": "Bearer guess"}).status_code == 401
    blocked = client.get("/admin/api/channels", headers=AUTH)
    assert blocked.status_code == 429 and "too many failed attempts" in blocked.json["message"]
