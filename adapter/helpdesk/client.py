"""HelpdeskClient: the Chatwoot Application API calls we make (chatwoot.md §2, §4).

Every call names the account and the channel's API access token; the base URL comes from settings.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests

from adapter.errors import HelpdeskApiError, NetworkError
from adapter.http_session import (
    get_following_allowed_redirects,
    is_public_host,
    json_of,
    network_errors,
    pooled_session,
    read_limited,
)
from adapter.metrics import Metrics


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    content_type: str


class HelpdeskClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        media_max_bytes: int,
        metrics: Metrics | None = None,
        attachment_hosts: tuple[str, ...] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.attachment_hosts = frozenset(attachment_hosts)
        self.timeout = timeout
        self.media_max_bytes = media_max_bytes
        self.session = pooled_session()
        self.metrics = metrics

    # --- contacts ----------------------------------------------------------------------

    def filter_contact_inbox(self, account_id: int, token: str, inbox_id: int, source_id: str) -> dict[str, Any] | None:
        """POST /contact_inboxes/filter: the contact behind (inbox, source_id), or None."""
        try:
            body = {"inbox_id": inbox_id, "source_id": source_id}
            return self._call("POST", account_id, "/contact_inboxes/filter", token, json=body)
        except HelpdeskApiError as exc:
            if exc.http_status == 404:
                return None
            raise

    def create_contact(self, account_id: int, token: str, contact: dict[str, Any]) -> dict[str, Any]:
        """POST /contacts (with inbox_id + source_id it also creates the contact_inbox)."""
        data = self._call("POST", account_id, "/contacts", token, json=contact)
        return dict(data["payload"]["contact"])

    def search_contacts(self, account_id: int, token: str, query: str) -> list[dict[str, Any]]:
        """GET /contacts/search?q=."""
        data = self._call("GET", account_id, "/contacts/search", token, params={"q": query})
        return list(data.get("payload") or [])

    def create_contact_inbox(self, account_id: int, token: str, contact_id: int, inbox_id: int, source_id: str) -> None:
        """POST /contacts/{id}/contact_inboxes (idempotent)."""
        self._call(
            "POST", account_id, f"/contacts/{contact_id}/contact_inboxes", token,
            json={"inbox_id": inbox_id, "source_id": source_id},
        )

    def update_contact(self, account_id: int, token: str, contact_id: int, changes: dict[str, Any]) -> None:
        """PATCH /contacts/{id} (custom/additional attributes are merged)."""
        self._call("PATCH", account_id, f"/contacts/{contact_id}", token, json=changes)

    # --- conversations ---------------------------------------------------------------

    def list_contact_conversations(self, account_id: int, token: str, contact_id: int) -> list[dict[str, Any]]:
        """GET /contacts/{id}/conversations (newest activity first)."""
        data = self._call("GET", account_id, f"/contacts/{contact_id}/conversations", token)
        return list(data.get("payload") or [])

    def create_conversation(self, account_id: int, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /conversations (always with inbox_id + contact_id)."""
        return self._call("POST", account_id, "/conversations", token, json=body)

    def get_conversation(self, account_id: int, token: str, conversation_id: int) -> dict[str, Any]:
        """GET /conversations/{id}."""
        return self._call("GET", account_id, f"/conversations/{conversation_id}", token)

    def update_conversation_custom_attributes(
        self, account_id: int, token: str, conversation_id: int, attributes: dict[str, Any]
    ) -> None:
        """POST /conversations/{id}/custom_attributes."""
        self._call(
            "POST", account_id, f"/conversations/{conversation_id}/custom_attributes", token,
            json={"custom_attributes": attributes},
        )

    # --- messages --------------------------------------------------------------------

    def create_message(
        self,
        account_id: int,
        token: str,
        conversation_id: int,
        fields: dict[str, Any],
        uploads: list[Upload] | None = None,
    ) -> dict[str, Any]:
        """POST /conversations/{id}/messages: JSON, or multipart when there are attachments."""
        path = f"/conversations/{conversation_id}/messages"
        if not uploads:
            return self._call("POST", account_id, path, token, json=fields)
        form: dict[str, str] = {}
        for name, value in fields.items():
            if value is None:
                continue
            if isinstance(value, (dict, list)):
                form[name] = json.dumps(value)
            elif isinstance(value, bool):
                form[name] = "true" if value else "false"
            else:
                form[name] = str(value)
        files = [("attachments[]", (u.filename, u.content, u.content_type)) for u in uploads]
        return self._call("POST", account_id, path, token, data=form, files=files)

    def list_messages(
        self, account_id: int, token: str, conversation_id: int, before: int | None = None
    ) -> list[dict[str, Any]]:
        """GET /conversations/{id}/messages: one page of the conversation's messages, the latest (20 in Chatwoot)
        or those older than message `before`."""
        params = {"before": before} if before is not None else None
        data = self._call("GET", account_id, f"/conversations/{conversation_id}/messages", token, params=params)
        return list(data.get("payload") or [])

    def update_message_status(
        self, account_id: int, token: str, conversation_id: int, message_id: int, status: str, error: str | None = None
    ) -> None:
        """PATCH /conversations/{cid}/messages/{id} {status, external_error} (API inboxes only)."""
        body: dict[str, Any] = {"status": status}
        if error is not None:
            body["external_error"] = error
        self._call("PATCH", account_id, f"/conversations/{conversation_id}/messages/{message_id}", token, json=body)

    # --- inboxes ---------------------------------------------------------------------

    def get_inbox(self, account_id: int, token: str, inbox_id: int) -> dict[str, Any]:
        return self._call("GET", account_id, f"/inboxes/{inbox_id}", token)

    def update_inbox(self, account_id: int, token: str, inbox_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", account_id, f"/inboxes/{inbox_id}", token, json=body)

    # --- attachments -----------------------------------------------------------------

    def download_attachment(self, url: str) -> tuple[bytes, str]:
        """GET an attachment's data_url: it must be on the helpdesk's host (HELPDESK_BASE_URL's, or one of
        HELPDESK_ATTACHMENT_HOSTS: Chatwoot writes data_url with its FRONTEND_URL); its redirect (to the file's
        storage) may only lead to those hosts or to a public address."""
        allowed_netlocs = {urlparse(self.base_url).netloc.lower(), *self.attachment_hosts}
        if urlparse(url).netloc.lower() not in allowed_netlocs:
            raise HelpdeskApiError(
                http_status=400,
                message=f"attachment URL is not on the helpdesk's host ({urlparse(url).netloc}); if Chatwoot's "
                "FRONTEND_URL differs from HELPDESK_BASE_URL, add its host to HELPDESK_ATTACHMENT_HOSTS",
            )
        helpdesk_hosts = {urlparse(f"//{netloc}").hostname for netloc in allowed_netlocs}
        with network_errors("helpdesk"):
            response = get_following_allowed_redirects(
                self.session, url, timeout=self.timeout,
                allowed=lambda host: host in helpdesk_hosts or is_public_host(host),
            )
            if response.status_code != 200:
                raise HelpdeskApiError(http_status=response.status_code, message="attachment download failed")
            content = read_limited(response, self.media_max_bytes, "helpdesk attachment")
        content_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
        return content, content_type

    def _record(self, started: float, error_code: str | None) -> None:
        if self.metrics is None:
            return
        self.metrics.observe("api_latency_seconds", time.perf_counter() - started, service="helpdesk")
        if error_code is not None:
            self.metrics.count("api_errors", service="helpdesk", code=error_code)

    def _call(self, method: str, account_id: int, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.base_url}/api/v1/accounts/{account_id}{path}"
        started = time.perf_counter()
        try:
            with network_errors("helpdesk"):
                # A redirect is answered as it is: the API never redirects, so one means a misconfigured base URL.
                response = self.session.request(method, url, headers={"api_access_token": token},
                                                timeout=self.timeout, allow_redirects=False, **kwargs)
        except NetworkError:
            self._record(started, "network")
            raise
        self._record(started, str(response.status_code) if response.status_code >= 300 else None)
        if response.status_code >= 300:
            raise HelpdeskApiError(http_status=response.status_code, message=_error_text(response))
        try:
            data = json_of(response)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {"payload": data}


def _error_text(response: requests.Response) -> str:
    if response.is_redirect:
        return f"redirected to {response.headers.get('Location')}: set HELPDESK_BASE_URL to the address it leads to"
    try:
        body = response.json()
    except ValueError:
        return response.reason or "error"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]
