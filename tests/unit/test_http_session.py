"""adapter.http_session: the pooled session is requests' own, and answers are read exactly."""

from __future__ import annotations

import pytest
import requests
import responses
from requests.adapters import HTTPAdapter

from adapter.http_session import json_of, pooled_session

URL = "https://chat.test/api/v1/accounts/1/conversations/7/messages"


def test_the_session_is_requests_own_with_one_adapter_for_both_schemes() -> None:
    session = pooled_session(4)
    assert type(session) is requests.Session and session.trust_env  # proxies and CA bundles from the environment
    adapter = session.get_adapter("https://graph.facebook.com/v25.0/1/messages")
    assert type(adapter) is HTTPAdapter and session.get_adapter("http://127.0.0.1:3000/") is adapter


@responses.activate
def test_json_of_reads_the_body_exactly_and_refuses_what_is_not_json() -> None:
    responses.get(URL, body=b'{"id": 123456789012345678901234567890, "name": "\\u00e9"}')
    responses.get(URL, body=b"<html>not json</html>")
    session = pooled_session()
    assert json_of(session.get(URL, timeout=1)) == {"id": 123456789012345678901234567890, "name": "é"}
    with pytest.raises(ValueError):
        json_of(session.get(URL, timeout=1))


@responses.activate
def test_a_cookie_one_answer_sets_is_never_sent_with_another_call() -> None:
    responses.get(URL, json={}, headers={"Set-Cookie": "_chatwoot_session=abc; Path=/"})
    session = pooled_session()
    session.get(URL, timeout=1)
    session.get(URL, timeout=1)
    assert "Cookie" not in responses.calls[1].request.headers and not session.cookies
