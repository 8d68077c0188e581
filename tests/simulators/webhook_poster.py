"""The simulators' webhook sender: one kept-alive connection per thread and host.

A simulator posts a webhook for nearly every write, so in the end-to-end bench it posts hundreds a
second. Through requests each POST cost about 0.35 ms of CPU (URL and header preparation, adapters,
response wrapping); http.client does the same exchange for about a third of that, and still parses every
answer's headers with the email package: plain-HTTP posts are written in one send and their answers parsed
by httptools, as the simulators' server parses requests. HTTPS goes through http.client.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httptools


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
        connections: dict[_Key, Any] = self._local.__dict__.setdefault("connections", {})
        for attempt in (1, 2):
            connection = connections.pop(key, None)
            reused = connection is not None
            if connection is None:
                kind = http.client.HTTPSConnection if secure else _PlainConnection
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


class _Answer:
    """The parts of an answer the exchange reads, collected from httptools' callbacks."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.reason = ""
        self.status = 0
        self.complete = self.keep_alive = False

    def on_status(self, status: bytes) -> None:
        self.reason += status.decode("latin-1")

    def on_message_complete(self) -> None:
        self.complete = True
        # Asked now: once the message is complete the parser starts over and forgets it.
        self.status, self.keep_alive = self.parser.get_status_code(), self.parser.should_keep_alive()


class _PlainConnection:
    """http.client.HTTPConnection's `request`, `getresponse` and `close`, for plain HTTP: the request in one
    send, the answer read whole and parsed by httptools."""

    def __init__(self, host: str, port: int, *, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.status, self.reason, self.will_close = 0, "", False

    def request(self, method: str, path: str, *, body: bytes, headers: dict[str, str]) -> None:
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        self.sock.sendall(head.encode("latin-1") + body)

    def getresponse(self) -> _PlainConnection:
        assert self.sock is not None
        answer, started = _Answer(), False
        while not answer.complete:
            data = self.sock.recv(65536)
            if not data:
                if not started:  # nothing came back: closed while idle, or dropped
                    raise http.client.RemoteDisconnected("the receiver closed the connection without answering")
                break  # a body that runs to the end of the connection
            started = True
            try:
                answer.parser.feed_data(data)
            except httptools.HttpParserError as exc:
                raise http.client.HTTPException(f"malformed answer: {exc}") from None
        self.status = answer.status if answer.complete else answer.parser.get_status_code()
        self.reason, self.will_close = answer.reason, not answer.keep_alive
        return self

    def read(self) -> bytes:
        return b""  # read whole by getresponse

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
