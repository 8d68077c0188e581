"""One pooled HTTP session per API, and the one place network failures become NetworkError."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlparse

import requests
from requests.adapters import HTTPAdapter

from adapter import jsonfast
from adapter.errors import ExternalApiError, NetworkError


def pooled_session(pool_size: int = 32) -> requests.Session:
    """A session keeping up to `pool_size` connections per origin. It reads the environment as requests does:
    HTTPS_PROXY, HTTP_PROXY and NO_PROXY route the calls (a corporate egress proxy), REQUESTS_CA_BUNDLE and
    CURL_CA_BUNDLE name the certificates to trust. Cookies are refused: one session serves every channel's
    token, so nothing one call was answered with may ride along on another's."""
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def json_of(response: requests.Response) -> Any:
    """response.json() without its text decoding pass: json.loads reads UTF-8, -16 and -32 bytes itself (and
    orjson the UTF-8 answers, first). ValueError when the body is not JSON."""
    return jsonfast.loads(response.content)


@contextmanager
def network_errors(service: str) -> Iterator[None]:
    """Connection failures and timeouts are retryable NetworkErrors (the URL, which may hold a token, is dropped)."""
    try:
        yield
    except requests.Timeout:
        raise NetworkError(service, "timed out") from None
    except requests.ConnectionError:
        raise NetworkError(service, "connection failed") from None
    except requests.RequestException as exc:
        raise NetworkError(service, type(exc).__name__) from None


def read_limited(response: requests.Response, max_bytes: int, service: str) -> bytes:
    """The body, refusing anything larger than max_bytes (declared or actual)."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ExternalApiError(f"{service} file is larger than the {max_bytes} byte limit", retryable=False)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise ExternalApiError(f"{service} file is larger than the {max_bytes} byte limit", retryable=False)
        chunks.append(chunk)
    return b"".join(chunks)


MAX_REDIRECTS = 5


def get_following_allowed_redirects(
    session: requests.Session,
    url: str,
    *,
    allowed: Callable[[str], bool],
    timeout: float,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """GET `url`, following redirects only to hosts `allowed` approves (no SSRF through a redirect).

    Raises ExternalApiError (not retryable) for a host that is not allowed. The response streams.
    """
    for _ in range(MAX_REDIRECTS + 1):
        host = urlparse(url).hostname or ""
        if urlparse(url).scheme not in ("http", "https") or not allowed(host):
            raise ExternalApiError(
                f"download refused: {host or 'that address'} is not an allowed media host", retryable=False
            )
        response = session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False)
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        location = response.headers.get("Location", "")
        response.close()
        url = urljoin(url, location)
        headers = None  # never forward credentials to where a redirect points
    raise ExternalApiError("download refused: too many redirects", retryable=False)


def is_public_host(host: str) -> bool:
    """True when every address the host resolves to is a public one (not loopback, private, link-local…)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    return bool(addresses) and all(address.is_global for address in addresses)
