"""The API clients' contracts, with `responses`: request shapes, and errors mapped by code."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from adapter.errors import GraphApiError, HelpdeskApiError, NetworkError
from adapter.helpdesk.client import HelpdeskClient, Upload
from adapter.meta.client import GraphClient

GRAPH = "https://graph.test/v25.0"
HELPDESK = "https://chat.test"
api = responses.RequestsMock(assert_all_requests_are_fired=False)


@pytest.fixture
def graph() -> GraphClient:
    return GraphClient(GRAPH, timeout=1, media_max_bytes=10)


@pytest.fixture
def helpdesk() -> HelpdeskClient:
    return HelpdeskClient(HELPDESK, timeout=1, media_max_bytes=10)


def graph_error(code: int, status: int = 400, details: str = "d") -> dict[str, object]:
    return {"json": {"error": {"message": f"(#{code}) t", "type": "OAuthException", "code": code,
                               "error_data": {"details": details}, "fbtrace_id": "AbC"}}, "status": status}


@api.activate
def test_send_message_posts_json_with_the_bearer_token_and_returns_the_wamid(graph: GraphClient) -> None:
    api.post(f"{GRAPH}/123/messages", json={"messages": [{"id": "wamid.A"}]})
    assert graph.send_message("123", "tok", {"type": "text"}) == "wamid.A"
    call = api.calls[0].request
    assert call.headers["Authorization"] == "Bearer tok" and json.loads(call.body or b"{}") == {"type": "text"}


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [(131047, 400, False), (130429, 400, True), (131000, 500, True), (190, 401, False), (131056, 400, True)],
)
@api.activate
def test_graph_errors_keep_code_and_trace_and_say_whether_to_retry(
    graph: GraphClient, code: int, status: int, retryable: bool
) -> None:
    api.post(f"{GRAPH}/123/messages", **graph_error(code, status))  # type: ignore[arg-type]
    with pytest.raises(GraphApiError) as caught:
        graph.send_message("123", "tok", {})
    assert caught.value.code == code and caught.value.fbtrace_id == "AbC"
    assert caught.value.retryable is retryable
    assert caught.value.explanation.startswith(f"WhatsApp error {code}:")


@pytest.mark.parametrize(("is_transient", "status"), [(True, 400), (False, 500)])
@api.activate
def test_an_unknown_code_follows_is_transient(graph: GraphClient, is_transient: bool, status: int) -> None:
    answer = graph_error(4_242_424, status)
    answer["json"]["error"]["is_transient"] = is_transient  # type: ignore[index]
    api.post(f"{GRAPH}/123/messages", **answer)  # type: ignore[arg-type]
    with pytest.raises(GraphApiError) as caught:
        graph.send_message("123", "tok", {})
    assert caught.value.retryable is is_transient


@api.activate
def test_a_5xx_without_a_graph_body_is_retryable(graph: GraphClient) -> None:
    api.post(f"{GRAPH}/123/messages", body="<html>bad gateway</html>", status=502)
    with pytest.raises(GraphApiError) as caught:
        graph.send_message("123", "tok", {})
    assert caught.value.retryable


@api.activate
def test_network_failure_is_a_retryable_network_error_without_the_url(graph: GraphClient) -> None:
    api.post(f"{GRAPH}/123/messages", body=requests.ConnectionError("boom https://x?access_token=SECRET"))
    with pytest.raises(NetworkError) as caught:
        graph.send_message("123", "tok", {})
    assert caught.value.retryable and "SECRET" not in str(caught.value)


@api.activate
def test_media_is_two_authenticated_gets_and_the_size_limit_holds(graph: GraphClient) -> None:
    media = {"url": "https://lookaside.fbsbx.com/m1", "mime_type": "image/jpeg", "file_size": 5}
    api.get(f"{GRAPH}/m1", json=media)
    api.get("https://lookaside.fbsbx.com/m1", body=b"12345")
    info = graph.get_media_url("m1", "tok")
    assert graph.download_media(info.url, "tok") == b"12345"
    assert api.calls[1].request.headers["Authorization"] == "Bearer tok"
    api.get("https://lookaside.fbsbx.com/big", body=b"x" * 11)
    with pytest.raises(Exception, match="limit"):
        graph.download_media("https://lookaside.fbsbx.com/big", "tok")


@api.activate
def test_helpdesk_create_message_is_multipart_with_every_attachment(helpdesk: HelpdeskClient) -> None:
    api.post(f"{HELPDESK}/api/v1/accounts/1/conversations/7/messages", json={"id": 99})
    uploads = [Upload("a.jpg", b"1", "image/jpeg"), Upload("b.pdf", b"2", "application/pdf")]
    fields = {"content": "hi", "content_attributes": {"in_reply_to_external_id": "wamid.X"}, "is_voice_message": True}
    assert helpdesk.create_message(1, "tok", 7, fields, uploads)["id"] == 99
    request = api.calls[0].request
    assert request.headers["api_access_token"] == "tok"
    body = request.body if isinstance(request.body, bytes) else b""
    assert body.count(b'name="attachments[]"') == 2 and b'{"in_reply_to_external_id": "wamid.X"}' in body


@api.activate
def test_helpdesk_errors_are_retryable_only_for_429_and_5xx(helpdesk: HelpdeskClient) -> None:
    url = f"{HELPDESK}/api/v1/accounts/1/conversations"
    api.post(url, json={"message": "Phone number has already been taken"}, status=422)
    api.post(url, json={"error": "down"}, status=503)
    with pytest.raises(HelpdeskApiError) as first:
        helpdesk.create_conversation(1, "t", {})
    assert not first.value.retryable and "already been taken" in first.value.message
    with pytest.raises(HelpdeskApiError) as second:
        helpdesk.create_conversation(1, "t", {})
    assert second.value.retryable


def test_attachments_are_only_downloaded_from_the_helpdesk_host(helpdesk: HelpdeskClient) -> None:
    with pytest.raises(HelpdeskApiError, match="not on the helpdesk"):
        helpdesk.download_attachment("http://169.254.169.254/latest/meta-data")


@api.activate
def test_attachments_on_the_helpdesks_frontend_host_need_it_listed() -> None:
    """Chatwoot writes data_url with its FRONTEND_URL, which may not be HELPDESK_BASE_URL's host."""
    url = "https://chat.acme.test/rails/active_storage/blobs/redirect/1/a.jpg"
    api.get(url, body=b"jpeg", content_type="image/jpeg")
    internal = HelpdeskClient("http://chatwoot.internal:3000", timeout=1, media_max_bytes=10)
    with pytest.raises(HelpdeskApiError, match="add its host to HELPDESK_ATTACHMENT_HOSTS"):
        internal.download_attachment(url)
    listed = HelpdeskClient("http://chatwoot.internal:3000", timeout=1, media_max_bytes=10,
                            attachment_hosts=("chat.acme.test",))  # fmt: skip
    assert listed.download_attachment(url) == (b"jpeg", "image/jpeg")


@api.activate
def test_media_downloads_only_from_meta_hosts_even_through_redirects(graph: GraphClient) -> None:
    with pytest.raises(Exception, match="not an allowed media host"):
        graph.download_media("http://169.254.169.254/latest/meta-data", "tok")
    api.get("https://lookaside.fbsbx.com/m1", status=302, headers={"Location": "http://10.0.0.5/admin"})
    with pytest.raises(Exception, match="not an allowed media host"):
        graph.download_media("https://lookaside.fbsbx.com/m1", "tok")
    api.get("https://lookaside.fbsbx.com/m2", status=302, headers={"Location": "https://scontent.fbcdn.net/x"})
    api.get("https://scontent.fbcdn.net/x", body=b"ok")
    assert graph.download_media("https://lookaside.fbsbx.com/m2", "tok") == b"ok"
    assert "Authorization" not in api.calls[-1].request.headers  # the token is not forwarded


@api.activate
def test_attachment_redirects_may_not_lead_to_private_addresses(helpdesk: HelpdeskClient) -> None:
    api.get(f"{HELPDESK}/rails/active_storage/blobs/redirect/1/a.jpg", status=302,
                  headers={"Location": "http://127.0.0.1:6379/"})
    with pytest.raises(Exception, match="not an allowed media host"):
        helpdesk.download_attachment(f"{HELPDESK}/rails/active_storage/blobs/redirect/1/a.jpg")


@api.activate
def test_an_api_call_sends_the_default_headers_with_its_own_and_its_query(helpdesk: HelpdeskClient) -> None:
    api.get(f"{HELPDESK}/api/v1/accounts/1/contacts/search", json={"payload": [{"id": 7}]})
    assert helpdesk.search_contacts(1, "tok", "+1 555") == [{"id": 7}]
    call = api.calls[0].request
    assert call.headers["api_access_token"] == "tok" and call.headers["User-Agent"].startswith("python-requests/")
    assert call.url == f"{HELPDESK}/api/v1/accounts/1/contacts/search?q=%2B1+555"


@api.activate
def test_a_redirecting_api_is_reported_as_a_misconfigured_base_url_not_followed(
    graph: GraphClient, helpdesk: HelpdeskClient
) -> None:
    elsewhere = "https://elsewhere.test/"
    moved = {"Location": elsewhere}
    api.post(f"{HELPDESK}/api/v1/accounts/1/conversations/5/messages", status=301, headers=moved)
    api.post(f"{GRAPH}/123/messages", status=302, headers=moved)
    with pytest.raises(HelpdeskApiError) as helpdesk_error:
        helpdesk.create_message(1, "tok", 5, {"content": "hi"})
    assert helpdesk_error.value.http_status == 301 and not helpdesk_error.value.retryable
    assert f"redirected to {elsewhere}: set HELPDESK_BASE_URL" in helpdesk_error.value.message
    with pytest.raises(GraphApiError) as graph_error:
        graph.send_message("123", "tok", {})
    assert not graph_error.value.retryable and "set GRAPH_API_BASE_URL" in graph_error.value.details
    assert len(api.calls) == 2  # neither redirect was followed
