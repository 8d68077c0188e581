"""adapter.http_session.send: the JSON short path builds what requests.Request.prepare() builds."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from adapter.http_session import json_of, pooled_session, send
from tests.transport_mock import transport_mock

URL = "https://chat.test/api/v1/accounts/1/conversations/7/messages"


def _sent(method: str, url: str, **body: Any) -> requests.PreparedRequest:
    with transport_mock(assert_all_requests_are_fired=True) as mock:
        mock.add(method, url.split("?")[0], json={"id": 1})
        send(pooled_session(), method, url, headers={"api_access_token": "tok"}, timeout=1, **body)
        return mock.calls[0].request


@pytest.mark.parametrize(
    ("method", "payload"),
    [
        ("POST", {"content": "olá 👋", "n": 12345678901234567890, "nested": {"list": [1, None, True]}}),
        ("PATCH", {"status": "read"}),
        ("POST", None),
        ("DELETE", None),
        ("GET", None),
    ],
)
def test_the_short_path_sends_what_requests_prepares(method: str, payload: Any) -> None:
    short = _sent(method, URL, json=payload)
    prepared = requests.Request(method, URL, headers={"api_access_token": "tok"}, json=payload).prepare()
    assert (short.method, short.url) == (prepared.method, prepared.url)
    assert {k.lower(): v for k, v in short.headers.items() if k != "Content-Length"} == {
        k.lower(): v for k, v in {**requests.utils.default_headers(), **prepared.headers}.items()
        if k != "Content-Length"
    }
    if payload is None:
        assert short.body is None
        assert short.headers.get("Content-Length") == prepared.headers.get("Content-Length")
    else:
        assert isinstance(short.body, bytes) and json.loads(short.body) == payload
        assert "olá" not in str(payload) or "olá 👋".encode() in short.body  # written by the short path, unescaped
        assert short.headers["Content-Length"] == str(len(short.body))


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("https://chat.test/api/v1/accounts/1/contacts/search", {"params": {"q": "+55 11 ä"}}),
        ("https://chat.test/api/v1/accounts/1/contacts/a b", {"json": {"x": 1}}),
        ("https://chat.test/api/v1/accounts/1/contacts/ä", {"json": {"x": 1}}),
        ("https://chat.test/api/v1/accounts/1/contacts", {"data": {"x": "1"}}),
    ],
)
def test_anything_else_is_prepared_by_requests(url: str, body: dict[str, Any]) -> None:
    sent = _sent("POST", url, **body)
    prepared = requests.Request("POST", url, **body).prepare()
    assert sent.url == prepared.url and sent.body == prepared.body


def test_json_of_reads_the_body_exactly_and_refuses_what_is_not_json() -> None:
    with transport_mock(assert_all_requests_are_fired=True) as mock:
        mock.add("GET", URL, body=b'{"id": 123456789012345678901234567890, "name": "\\u00e9"}')
        mock.add("GET", URL, body=b"<html>not json</html>")
        session = pooled_session()
        first = send(session, "GET", URL, headers={}, timeout=1)
        assert json_of(first) == {"id": 123456789012345678901234567890, "name": "é"}
        with pytest.raises(ValueError):
            json_of(send(session, "GET", URL, headers={}, timeout=1))
