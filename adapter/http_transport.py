"""The API clients' transport: requests' HTTPAdapter, with whole-body calls sent on pooled http.client
connections.

Every inbound message costs a worker one helpdesk call, and every reply one Graph call. Under requests, urllib3
spent about 0.3 ms of CPU on each (its pool, retry and response machinery); http.client alone does the same
exchange for about a third of that, measured against a loopback keep-alive server. So a call whose answer is
read whole goes out here on a kept-alive http.client connection; a streamed download (media, attachments), a
client certificate or a custom CA bundle still take HTTPAdapter's own path, unchanged.

Failures are requests' exceptions, as HTTPAdapter raises them, so callers map them in one place
(`http_session.network_errors`). Tests mock this transport with `responses` (target `TRANSPORT_SEND`).
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import certifi
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

TRANSPORT_SEND = "adapter.http_transport.KeepAliveAdapter.send"  # what `responses` patches in tests

Timeout: TypeAlias = float | tuple[float, float] | tuple[float, None] | None  # as HTTPAdapter.send takes it
_Origin: TypeAlias = tuple[str, str, int]


class KeepAliveAdapter(HTTPAdapter):
    """HTTPAdapter whose whole-body calls skip urllib3: at most `pool_size` idle connections per origin."""

    def __init__(self, pool_size: int = 32) -> None:
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.pool_size = pool_size
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._tls: ssl.SSLContext | None = None

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        body = request.body
        if stream or cert or verify is not True or proxies or not (body is None or isinstance(body, (bytes, str))):
            return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        return self._exchange(request, timeout)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
        super().close()

    # --- one exchange ------------------------------------------------------------------

    def _exchange(self, request: requests.PreparedRequest, timeout: Timeout) -> requests.Response:
        url = urlsplit(str(request.url))
        scheme, host = url.scheme.lower(), url.hostname or ""
        if scheme not in ("http", "https") or not host:
            raise requests.exceptions.InvalidURL(f"cannot send to {scheme}://{host}")
        origin = (scheme, host, url.port or (443 if scheme == "https" else 80))
        connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        started = time.perf_counter()
        body = request.body.encode() if isinstance(request.body, str) else request.body
        connection, connected = self._checkout(origin, connect_timeout), False
        try:
            if connection.sock is None:
                connection.connect()
            connected = True
            connection.sock.settimeout(read_timeout)
            connection.request(str(request.method), target, body, dict(request.headers))
            answer = connection.getresponse()
            content = answer.read()
        except BaseException as exc:
            connection.close()  # never reused: a reply may still be on its way
            error = _as_requests_error(exc, request, connected=connected)
            if error is exc:
                raise
            raise error from exc
        if answer.will_close:
            connection.close()
        else:
            self._checkin(origin, connection)
        return self._response(request, answer, content, time.perf_counter() - started)

    def _response(
        self, request: requests.PreparedRequest, answer: http.client.HTTPResponse, content: bytes, seconds: float
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = _headers(answer.getheaders())
        response._content = _decoded(content, response.headers.get("Content-Encoding", ""))
        response._content_consumed = True  # type: ignore[attr-defined]
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = str(request.url)
        response.request = request
        response.elapsed = timedelta(seconds=seconds)
        response.connection = self
        return response

    # --- the pool ----------------------------------------------------------------------

    def _checkout(self, origin: _Origin, connect_timeout: float | None) -> http.client.HTTPConnection:
        with self._lock:
            if self._pid != os.getpid():  # a forked child never shares its parent's sockets
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get(origin)
            while idle:
                connection = idle.pop()
                if not _dropped(connection.sock):
                    return connection
                connection.close()  # the server closed it while it was idle
        scheme, host, port = origin
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=self._tls_context())
        return http.client.HTTPConnection(host, port, timeout=connect_timeout)

    def _checkin(self, origin: _Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.pool_size and self._pid == os.getpid():
                idle.append(connection)
                return
        connection.close()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:  # the same CA bundle requests verifies against
            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls


def _dropped(sock: socket.socket | None) -> bool:
    """An idle keep-alive socket that is readable was closed by the server (or sent what nobody asked for)."""
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _headers(pairs: list[tuple[str, str]]) -> CaseInsensitiveDict[str]:
    """A repeated header's values joined with ", ", as urllib3 joins them."""
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in pairs:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _decoded(content: bytes, encoding: str) -> bytes:
    """The body as requests would give it: gzip and deflate undone (requests asks for them)."""
    encoding = encoding.strip().lower()
    if not content or encoding not in ("gzip", "x-gzip", "deflate"):
        return content
    try:
        if encoding == "deflate":
            try:
                return zlib.decompress(content)
            except zlib.error:
                return zlib.decompress(content, -zlib.MAX_WBITS)  # raw deflate, as some servers send it
        return zlib.decompress(content, 16 + zlib.MAX_WBITS)
    except zlib.error as exc:
        raise requests.exceptions.ContentDecodingError(f"body not {encoding} as declared") from exc


def _as_requests_error(exc: BaseException, request: requests.PreparedRequest, *, connected: bool) -> BaseException:
    """What HTTPAdapter would raise for the same failure (anything else is raised as it is)."""
    if isinstance(exc, TimeoutError):  # socket.timeout
        kind = requests.exceptions.ReadTimeout if connected else requests.exceptions.ConnectTimeout
        return kind(str(exc) or "timed out", request=request)
    if isinstance(exc, ssl.SSLError):
        return requests.exceptions.SSLError(str(exc), request=request)
    if isinstance(exc, (OSError, http.client.HTTPException)):
        return requests.exceptions.ConnectionError(f"{type(exc).__name__}: {exc}", request=request)
    return exc
