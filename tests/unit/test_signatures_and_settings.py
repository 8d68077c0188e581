"""Both webhook signatures, and settings validation."""

from __future__ import annotations

import pytest

from adapter.errors import ConfigurationError
from adapter.helpdesk import signature as helpdesk_signature
from adapter.meta import signature as meta_signature
from adapter.settings import load_settings


def test_meta_signature_is_over_the_raw_escaped_bytes() -> None:
    body = b'{"text":"\\u00e4\\u00f6\\u00e5"}'
    header = meta_signature.generate_signature("secret", body)
    assert header.startswith("sha256=") and len(header) == 71
    assert meta_signature.verify_signature("secret", body, header)
    assert not meta_signature.verify_signature("secret", '{"text":"äöå"}'.encode(), header)
    assert not meta_signature.verify_signature("other", body, header)
    assert not meta_signature.verify_signature("", body, header)
    assert not meta_signature.verify_signature("secret", body, None)


def test_helpdesk_signature_covers_timestamp_dot_body_and_refuses_stale() -> None:
    body = b'{"event":"message_created"}'
    sig = helpdesk_signature.generate_signature("s", "1700000000", body)
    ok = helpdesk_signature.verify_signature(
        "s", body, signature=sig, timestamp="1700000000", now=1700000100, max_age_seconds=300
    )
    assert ok is None
    body_only = "sha256=" + __import__("hmac").new(b"s", body, "sha256").hexdigest()
    assert helpdesk_signature.verify_signature(
        "s", body, signature=body_only, timestamp="1700000000", now=1700000100, max_age_seconds=300
    ) == "signature does not match"
    stale = helpdesk_signature.verify_signature(
        "s", body, signature=sig, timestamp="1700000000", now=1700000301, max_age_seconds=300
    )
    assert stale is not None and "stale" in stale
    assert helpdesk_signature.verify_signature(
        "s", body, signature=None, timestamp=None, now=0, max_age_seconds=300
    ) is not None


def test_defaults_need_nothing_configured() -> None:
    settings = load_settings({})
    assert settings.port == 8080 and settings.redis_url == ""
    assert settings.graph_url == "https://graph.facebook.com/v25.0"


def test_every_bad_variable_is_named_in_one_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"PORT": "eighty", "REDIS_URL": "http://x", "GRAPH_API_VERSION": "25", "WORKER_THREADS": "0"})
    text = str(caught.value)
    for name in ("PORT", "REDIS_URL", "GRAPH_API_VERSION", "WORKER_THREADS"):
        assert name in text


def test_helpdesk_attachment_hosts_are_network_locations() -> None:
    hosts = load_settings({"HELPDESK_ATTACHMENT_HOSTS": "Chat.Acme.test, https://cdn.acme.test:8443/x ,"})
    assert hosts.helpdesk_attachment_hosts == ("chat.acme.test", "cdn.acme.test:8443")
    assert load_settings({}).helpdesk_attachment_hosts == ()
    with pytest.raises(ConfigurationError, match="HELPDESK_ATTACHMENT_HOSTS must be comma-separated hosts"):
        load_settings({"HELPDESK_ATTACHMENT_HOSTS": "not a host/"})
