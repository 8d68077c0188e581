"""Tokens and secrets are encrypted in Redis, and the adapter will not run on stored secrets without the key."""

from __future__ import annotations

import pytest
import redis
from cryptography.fernet import Fernet

from adapter import create_app
from adapter.errors import ConfigurationError
from adapter.store import keys
from tests.conftest import ADMIN_TOKEN, GRAPH_TOKEN, HELPDESK_TOKEN, INBOX_SECRET, PNID, make_channel, make_settings


def test_secrets_are_stored_encrypted_and_read_back(store: redis.Redis) -> None:
    app = create_app(make_settings(), store=store)
    channels = app.extensions["adapter"].channels
    channels.save(make_channel())
    raw = store.hgetall(keys.channel(PNID))
    stored = " ".join(raw.values())
    assert not any(secret in stored for secret in (GRAPH_TOKEN, HELPDESK_TOKEN, INBOX_SECRET))
    assert raw["graph_access_token"].startswith("enc:v1:")
    channel = channels.get(PNID)
    assert channel is not None and channel.graph_access_token == GRAPH_TOKEN
    assert channels.webhook_secret(PNID) == INBOX_SECRET


def test_startup_refuses_stored_secrets_without_the_key(store: redis.Redis) -> None:
    create_app(make_settings(), store=store).extensions["adapter"].channels.save(make_channel())
    with pytest.raises(ConfigurationError, match="ENCRYPTION_KEY"):
        create_app(make_settings(ENCRYPTION_KEY=""), store=store)


def test_a_number_cannot_be_connected_without_a_key(store: redis.Redis) -> None:
    client = create_app(make_settings(ENCRYPTION_KEY=""), store=store).test_client()
    body = {"phone_number_id": PNID, "waba_id": "1", "graph_access_token": "t", "helpdesk_account_id": 1,
            "helpdesk_inbox_id": 1, "helpdesk_api_token": "t", "helpdesk_webhook_secret": "s"}
    response = client.post("/admin/api/channels", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 409 and "ENCRYPTION_KEY" in response.json["message"]


def test_a_wrong_key_is_named_at_startup(store: redis.Redis) -> None:
    with pytest.raises(ConfigurationError, match="not a valid Fernet key"):
        create_app(make_settings(ENCRYPTION_KEY="short"), store=store)


def test_a_stored_secret_is_decrypted_once_and_a_changed_one_is_read_anew(
    store: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    decrypted: list[bytes] = []
    decrypt = Fernet.decrypt

    def counting(self: Fernet, token: bytes, ttl: int | None = None) -> bytes:
        decrypted.append(token)
        return decrypt(self, token, ttl)

    monkeypatch.setattr(Fernet, "decrypt", counting)
    channels = create_app(make_settings(), store=store).extensions["adapter"].channels
    channels.save(make_channel())
    assert [channels.webhook_secret(PNID) for _ in range(3)] == [INBOX_SECRET] * 3
    assert len(decrypted) == 1  # each helpdesk webhook reads it: decrypting it every time was its largest cost
    channels.save(make_channel(helpdesk_webhook_secret="rotated"))
    assert channels.webhook_secret(PNID) == "rotated" and len(decrypted) == 2
