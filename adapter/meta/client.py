"""GraphClient: the WhatsApp Cloud API calls we make. Base URL and version come from settings."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests

from adapter.errors import GraphApiError, NetworkError
from adapter.http_session import (
    get_following_allowed_redirects,
    json_of,
    network_errors,
    pooled_session,
    read_limited,
)
from adapter.meta import error_codes
from adapter.metrics import Metrics

logger = logging.getLogger(__name__)

# Where Meta serves media from (lookaside.fbsbx.com and its CDNs).
META_MEDIA_DOMAINS = (".fbsbx.com", ".facebook.com", ".fbcdn.net", ".whatsapp.net")
# A verified business may hold 6,000 templates: this bound only stops a paging loop that never ends.
MAX_PAGES = 1000


@dataclass(frozen=True)
class MediaInfo:
    url: str
    mime_type: str
    file_size: int | None


class GraphClient:
    def __init__(self, base_url: str, *, timeout: float, media_max_bytes: int, metrics: Metrics | None = None) -> None:
        self.base_url = base_url.rstrip("/")  # includes the version, e.g. https://graph.facebook.com/v25.0
        self.timeout = timeout
        self.media_max_bytes = media_max_bytes
        self.session = pooled_session()
        self.metrics = metrics

    def send_message(self, phone_number_id: str, token: str, body: dict[str, Any]) -> str:
        """POST /{phone-number-id}/messages (Send messages). Returns the wamid."""
        data = self._call("POST", f"/{phone_number_id}/messages", token, json=body)
        messages = data.get("messages") or []
        if not messages or not messages[0].get("id"):
            raise GraphApiError(
                code=0, title="no message id in the answer", retryable=False,
                explanation="WhatsApp accepted the request but returned no message id.",
            )
        return str(messages[0]["id"])

    def mark_as_read(self, phone_number_id: str, token: str, wamid: str, *, typing: bool = False) -> None:
        """POST /{phone-number-id}/messages with status=read (Mark messages as read); with `typing`, also show
        the typing indicator, which WhatsApp hides on our next message or after 25 seconds."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        self._call("POST", f"/{phone_number_id}/messages", token, json=body)

    def get_media_url(self, media_id: str, token: str) -> MediaInfo:
        """GET /{media-id} (Media: retrieve URL). The URL lives 5 minutes."""
        data = self._call("GET", f"/{media_id}", token)
        size = str(data.get("file_size") or "")
        return MediaInfo(
            url=str(data["url"]),
            mime_type=str(data.get("mime_type") or "application/octet-stream"),
            file_size=int(size) if size.isdigit() else None,
        )

    def download_media(self, url: str, token: str) -> bytes:
        """GET <media url> with the bearer token (Media: download); only from Meta's media hosts."""
        with network_errors("Graph media"):
            response = get_following_allowed_redirects(
                self.session, url, allowed=self.is_media_host, timeout=self.timeout,
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code != 200:
                raise _graph_error(response)
            return read_limited(response, self.media_max_bytes, "WhatsApp media")

    def _record(self, started: float, error_code: str | None) -> None:
        if self.metrics is None:
            return
        self.metrics.observe("api_latency_seconds", time.perf_counter() - started, service="graph")
        if error_code is not None:
            self.metrics.count("api_errors", service="graph", code=error_code)

    def is_media_host(self, host: str) -> bool:
        """Meta's media and CDN hosts, or the configured Graph host itself (a simulator in a sandbox)."""
        host = host.lower()
        return host == (urlparse(self.base_url).hostname or "") or host.endswith(META_MEDIA_DOMAINS)

    def upload_media(self, phone_number_id: str, token: str, content: bytes, mime_type: str, filename: str) -> str:
        """POST /{phone-number-id}/media (Media: upload). Returns the media id."""
        data = self._call(
            "POST",
            f"/{phone_number_id}/media",
            token,
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        return str(data["id"])

    def get(self, path: str, token: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Any Graph GET (phone number fields, templates…)."""
        return self._call("GET", path, token, params=params)

    def get_all(self, path: str, token: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a Graph list edge (phone numbers, templates…), following `paging.next` to the last page."""
        page = self.get(path, token, params)
        items: list[Any] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            data = page.get("data") or []
            items.extend(data)
            next_url = (page.get("paging") or {}).get("next")
            if not next_url or next_url in seen or not data:
                return items
            seen.add(str(next_url))
            page = self.get(str(next_url), token)  # absolute: it already carries fields, limit and cursor
        logger.warning("stopped reading %s after %d pages", path, MAX_PAGES)
        return items

    def post(self, path: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", path, token, json=body)

    def delete(self, path: str, token: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("DELETE", path, token, params=params)

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        url = path if path.startswith("http") else self.base_url + path
        started = time.perf_counter()
        try:
            with network_errors("Graph API"):
                # A redirect is answered as it is: Graph never redirects, so one means a misconfigured base URL.
                response = self.session.request(method, url, headers={"Authorization": f"Bearer {token}"},
                                                timeout=self.timeout, allow_redirects=False, **kwargs)
            if response.status_code >= 300:
                raise _graph_error(response)
        except GraphApiError as exc:
            self._record(started, str(exc.code or exc.http_status))
            raise
        except NetworkError:
            self._record(started, "network")
            raise
        self._record(started, None)
        try:
            data = json_of(response)
        except ValueError:
            raise _graph_error(response) from None
        return data if isinstance(data, dict) else {"data": data}


def _graph_error(response: requests.Response) -> GraphApiError:
    """Meta's error payload -> GraphApiError, by code (error_codes.py decides retry and wording)."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = int(error.get("code") or 0)
    # error_user_msg is Meta's sentence for people (template creation names the broken rule there).
    details = str(error.get("error_user_msg") or (error.get("error_data") or {}).get("details") or "")
    if response.is_redirect:
        details = f"redirected to {response.headers.get('Location')}: set GRAPH_API_BASE_URL to the address it leads to"
    entry = error_codes.lookup(code) if code else None
    transient = error.get("is_transient")
    retryable = error_codes.is_retryable(code or None, response.status_code,
                                         transient if isinstance(transient, bool) else None)  # fmt: skip
    title = str(error.get("message") or (entry.title if entry else f"HTTP {response.status_code}"))
    explanation = entry.explanation if entry else f"WhatsApp answered HTTP {response.status_code}."
    return GraphApiError(
        code=code,
        title=title,
        details=details,
        http_status=response.status_code,
        fbtrace_id=error.get("fbtrace_id"),
        retryable=retryable,
        explanation=explanation,
    )
