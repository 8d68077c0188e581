"""The simulators' webhook sender: one kept-alive http.client connection per thread and host.

A simulator posts a webhook for nearly every write, so in the end-to-end bench it posts hundreds a
second. Through requests each POST cost about 0.35 ms of CPU (URL and header preparation, adapters,
response wrapping); http.client does the same exchange for about a third of that.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit


class WebhookError(Exception):
    """The POST got no HTTP answer."""


class WebhookTimeout(WebhookError):
    """Connecting or waiting for the answer took longer than the timeout."""


class WebhookConnectionFailed(WebhookError):
    """The receiver could not be reached, or dropped the connection before answering."""


_Key = tuple[str, str, int]


class WebhookPoster:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        """POST `body` to `url` (redirects are answers, not followed); the answer's status and reason."""
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        key: _Key = (parts.scheme, parts.hostname or "", parts.port or (443 if secure else 80))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connections: dict[_Key, http.client.HTTPConnection] = self._local.__dict__.setdefault("connections", {})
        for attempt in (1, 2):
            connection = connections.pop(key, None)
            reused = connection is not None
            if connection is None:
                kind = http.client.HTTPSConnection if secure else http.client.HTTPConnection
                connection = kind(key[1], key[2], timeout=self.timeout)
            try:
                connection.request("POST", path, body=body, headers=dict(headers))
                response = connection.getresponse()
                response.read()
            except TimeoutError:
                connection.close()
                raise WebhookTimeout(f"no answer from {key[1]}:{key[2]} within {self.timeout:g}s") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                connection.close()
                if reused and attempt == 1:
                    continue  # the receiver closed the idle kept-alive connection: it never saw this request
                raise WebhookConnectionFailed(str(exc) or type(exc).__name__) from None
            except OSError as exc:
                connection.close()
                raise WebhookConnectionFailed(str(exc) or type(exc).__name__) from None
            except http.client.HTTPException as exc:
                connection.close()
                raise WebhookError(f"{type(exc).__name__}: {exc}") from None
            if response.will_close:
                connection.close()
            else:
                connections[key] = connection
            return response.status, response.reason
        raise AssertionError("unreachable: the second attempt returns or raises")

    def close(self) -> None:
        """Close the calling thread's connections."""
        for connection in self._local.__dict__.pop("connections", {}).values():
            connection.close()
