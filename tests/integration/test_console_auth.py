"""Console sign-in, sessions, CSRF and the HTML error pages (Flask test client, real Redis)."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from adapter import create_app
from adapter.clock import ManualClock
from adapter.console import auth, links
from tests.browser.world import ADMIN_PASSWORD, SESSION_SECRET, console_settings, csrf_of, sign_in


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_760_000_000.0)


@pytest.fixture
def app(store: redis.Redis, clock: ManualClock) -> Any:
    return create_app(console_settings(None, None), store=store, clock=clock)


def login(client: Any, password: str) -> Any:
    page = client.get("/admin/login")
    return client.post("/admin/login", data={"username": "admin", "password": password,
                                             "csrf_token": csrf_of(page.get_data(as_text=True))})  # fmt: skip


def test_pages_need_a_sign_in_and_the_password_opens_a_secure_session(client: Any) -> None:
    response = client.get("/admin/numbers")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login?next=/admin/numbers")
    signed_in = login(client, ADMIN_PASSWORD)
    assert signed_in.status_code == 302
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie  # PUBLIC_BASE_URL is https
    assert client.get("/admin/numbers", base_url="https://localhost").status_code == 200


def test_a_wrong_password_is_refused_and_repeated_failures_are_slowed(client: Any, clock: ManualClock) -> None:
    for _ in range(auth.FREE_ATTEMPTS):
        refused = login(client, "guess")
        assert refused.status_code == 401 and "Wrong name or password." in refused.get_data(as_text=True)
    slowed = login(client, ADMIN_PASSWORD)  # even the right password waits
    assert slowed.status_code == 429 and "Wait 1 seconds" in slowed.get_data(as_text=True)
    clock.advance(1)
    assert login(client, "guess").status_code == 401
    assert "Wait 2 seconds" in login(client, ADMIN_PASSWORD).get_data(as_text=True)
    clock.advance(2)
    assert login(client, ADMIN_PASSWORD).status_code == 302


def test_the_session_key_is_the_same_in_every_process(store: redis.Redis) -> None:
    first = create_app(console_settings(None, None, SESSION_SECRET=""), store=store)
    second = create_app(console_settings(None, None, SESSION_SECRET=""), store=store)
    assert first.secret_key == second.secret_key and first.secret_key
    client = first.test_client()
    sign_in_cookie = login(client, ADMIN_PASSWORD).headers["Set-Cookie"].split(";")[0]
    other = second.test_client()
    other.set_cookie("wa_console", sign_in_cookie.split("=", 1)[1], domain="localhost")
    assert other.get("/admin/troubleshooting", base_url="https://localhost").status_code == 200


def test_every_form_needs_the_csrf_token(client: Any) -> None:
    sign_in(client)
    for data in ({}, {"csrf_token": "forged"}):
        refused = client.post("/admin/logout", data=data, base_url="https://localhost")
        text = refused.get_data(as_text=True)
        assert refused.status_code == 400 and "This form expired or did not come from this console" in text
    assert client.get("/admin/numbers", base_url="https://localhost").status_code == 200  # still signed in
    anonymous = client.application.test_client()
    assert anonymous.post("/admin/login", data={"username": "admin", "password": ADMIN_PASSWORD}).status_code == 400


def test_signed_links_sign_in_until_they_expire(client: Any, clock: ManualClock) -> None:
    link = links.make_link(SESSION_SECRET, "console", "ada@acme.test", now=clock.now(), lifetime_seconds=600)
    query = link.query(SESSION_SECRET)
    tampered = query.replace("ada%40acme.test", "eve%40acme.test")
    refused = client.get(f"/admin/login/link?{tampered}")
    assert refused.status_code == 403 and "signature is wrong" in refused.get_data(as_text=True)
    app_link = links.make_link(SESSION_SECRET, "app", "account:1", now=clock.now(), lifetime_seconds=600)
    assert client.get(f"/admin/login/link?{app_link.query(SESSION_SECRET)}").status_code == 403
    clock.advance(601)
    expired = client.get(f"/admin/login/link?{query}")
    assert expired.status_code == 403 and "expired" in expired.get_data(as_text=True)
    clock.advance(-601)
    assert client.get(f"/admin/login/link?{query}").status_code == 302
    page = client.get("/admin/troubleshooting", base_url="https://localhost").get_data(as_text=True)
    assert "ada@acme.test (signed link)" in page


@pytest.mark.parametrize(
    ("method", "path", "status", "words"),
    [
        ("get", "/admin/no-such-page", 404, "Page not found"),
        ("get", "/admin/numbers/999", 404, "no channel 999"),
        ("get", "/admin/logout", 405, "Not available this way"),
        ("post", "/admin/numbers/999/refresh", 404, "no channel 999"),
        ("get", "/admin/templates?waba=1", 404, "no connected number belongs"),
        ("get", "/admin/login/link?scope=console", 403, "the link is incomplete"),
        ("get", "/app", 403, "not installed"),
    ],
)
def test_failures_are_html_pages_with_no_stack_trace(client: Any, method: str, path: str, status: int,
                                                     words: str) -> None:  # fmt: skip
    csrf = sign_in(client)
    kwargs = {"data": {"csrf_token": csrf}} if method == "post" else {}
    response = getattr(client, method)(path, base_url="https://localhost", **kwargs)
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "text/html" and words in text and f"Error {status}" in text
    assert "Traceback" not in text


def test_an_unexpected_error_is_a_500_page_that_hides_the_details(client: Any, monkeypatch: Any) -> None:
    from adapter.web.console import numbers as console_numbers

    def explode(*_: Any) -> Any:
        raise RuntimeError("token=very-secret-internals")

    monkeypatch.setattr(console_numbers.troubleshooting, "backlog_by_number", explode)
    sign_in(client)
    response = client.get("/admin/numbers", base_url="https://localhost")
    text = response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong" in text and "Reference:" in text
    assert "very-secret-internals" not in text and "Traceback" not in text


def test_unauthenticated_posts_get_401_and_the_json_admin_api_is_unchanged(client: Any) -> None:
    csrf = csrf_of(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/numbers/1/refresh", data={"csrf_token": csrf})
    assert response.status_code == 401 and "Sign in" in response.get_data(as_text=True)
    api = client.get("/admin/api/channels")
    assert api.status_code == 401 and api.json["error"] == "unauthorized"
    missing = client.get("/admin/api/no-such", headers={"Authorization": "Bearer test-admin-token"})
    assert missing.status_code == 404 and missing.is_json
