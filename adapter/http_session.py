"""One pooled HTTP session per API, and the one place network failures become NetworkError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter

from adapter.errors import ExternalApiError, NetworkError


def pooled_session(pool_size: int = 32) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


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
