"""The API clients' transport: requests' HTTPAdapter, with whole-body calls sent on pooled keep-alive
connections and their answers read by httptools.

Every inbound message costs a worker one helpdesk call, and every reply one Graph call. Under requests, urllib3's
pool, retry and response machinery took about a quarter of a worker's CPU (py-spy under load), and http.client,
tried next, still parsed every answer's headers with the email package. Here a request is written
in one send on a socket kept per origin, and the answer is parsed by httptools (llhttp, the parser uvicorn
uses): on a loopback keep-alive server, 0.27 ms of CPU per call with http.client against 0.09 ms. A streamed
download (media, attachments), a client certificate or a custom CA bundle still take HTTPAdapter's own path.

Failures are requests' exceptions, as HTTPAdapter raises them, so callers map them in one place
(`http_session.network_errors`). Tests mock this transport with `responses` (target `TRANSPORT_SEND`).
"""

from __future__ import annotations

import os
import re
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import certifi
import httptools
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

TRANSPORT_SEND = "adapter.http_transport.KeepAliveAdapter.send"  # what `responses` patches in tests

Timeout: TypeAlias = float | tuple[float, float] | tuple[float, None] | None  # as HTTPAdapter.send takes it
_Origin: TypeAlias = tuple[str, str, int]
_READ_SIZE = 64 * 1024
_UNSAFE_IN_HEADER = re.compile(r"[\r\n\x00]")  # a value that would end the header line early (request smuggling)


class KeepAliveAdapter(HTTPAdapter):
    """HTTPAdapter whose whole-body calls skip urllib3: at most `pool_size` idle connections per origin."""

    def __init__(self, pool_size: int = 32) -> None:
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.pool_size = pool_size
        self._idle: dict[_Origin, list[_Connection]] = {}
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
        if (
            stream or cert or verify is not True or proxies or request.method == "HEAD"  # HEAD: a body never follows
            or not (body is None or isinstance(body, (bytes, str)))
        ):  # fmt: skip
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
        head = _request_head(str(request.method), url, request.headers)
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        started = time.perf_counter()
        with _raised_as_requests_does(request, connected=False):
            connection = self._checkout(origin, connect_timeout)
        with _raised_as_requests_does(request, connected=True):
            try:
                answer = connection.exchange(head + body, read_timeout)
            except BaseException:
                connection.close()  # never reused: a reply may still be on its way
                raise
        if answer.keep_alive:
            self._checkin(origin, connection)
        else:
            connection.close()
        return self._response(request, answer, time.perf_counter() - started)

    def _response(self, request: requests.PreparedRequest, answer: _Answer, seconds: float) -> requests.Response:
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = _headers(answer.headers)
        response._content = _decoded(b"".join(answer.body), response.headers.get("Content-Encoding", ""))
        response._content_consumed = True  # type: ignore[attr-defined]
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = str(request.url)
        response.request = request
        response.elapsed = timedelta(seconds=seconds)
        response.connection = self
        return response

    # --- the pool ----------------------------------------------------------------------

    def _checkout(self, origin: _Origin, connect_timeout: float | None) -> _Connection:
        with self._lock:
            if self._pid != os.getpid():  # a forked child never shares its parent's sockets
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get(origin)
            while idle:
                connection = idle.pop()
                if not connection.dropped():
                    return connection
                connection.close()  # the server closed it while it was idle
        return _Connection(origin, connect_timeout, self._tls_context() if origin[0] == "https" else None)

    def _checkin(self, origin: _Origin, connection: _Connection) -> None:
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


class _Answer:
    """One HTTP answer as httptools reads it (its callbacks are this object's methods)."""

    def __init__(self) -> None:
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.headers_done = False
        self.done = False
        self.keep_alive = False
        self.parser = httptools.HttpResponseParser(self)

    def on_status(self, status: bytes) -> None:
        self.reason = status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True
        # Asked now: once the message is complete the parser starts over and forgets it.
        self.status, self.keep_alive = self.parser.get_status_code(), self.parser.should_keep_alive()


class _Connection:
    """A kept-alive HTTP/1.1 connection: each request written in one send, its answer parsed as it arrives."""

    def __init__(self, origin: _Origin, connect_timeout: float | None, tls: ssl.SSLContext | None) -> None:
        _, host, port = origin
        sock = socket.create_connection((host, port), timeout=connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = tls.wrap_socket(sock, server_hostname=host) if tls is not None else sock

    def exchange(self, request: bytes, read_timeout: float | None) -> _Answer:
        self.sock.settimeout(read_timeout)
        self.sock.sendall(request)
        answer = _Answer()
        while not answer.done:
            data = self.sock.recv(_READ_SIZE)
            if not data:  # closed by the server: the end of a body read to the close, or a broken answer
                if answer.headers_done and not _has_length(answer.headers):
                    answer.done, answer.status = True, answer.parser.get_status_code()
                    return answer  # keep_alive stays False: this socket is finished
                raise ConnectionResetError("the server closed the connection before answering in full")
            answer.parser.feed_data(data)
        return answer

    def dropped(self) -> bool:
        """An idle keep-alive socket that is readable was closed by the server (or sent what nobody asked for)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        self.sock.close()


def _request_head(method: str, url: Any, headers: Mapping[str, str]) -> bytes:
    """The request line and headers; Host from the URL unless given. A name or value that would end its line
    early is refused (requests refuses it too, where it prepares the request)."""
    lines = [f"{method} {url.path or '/'}{'?' + url.query if url.query else ''} HTTP/1.1"]
    if "Host" not in headers:
        lines.append(f"Host: {url.netloc.rpartition('@')[2]}")
    for name, value in headers.items():
        if _UNSAFE_IN_HEADER.search(name) or _UNSAFE_IN_HEADER.search(str(value)):
            raise requests.exceptions.InvalidHeader(f"header {name!r} holds a line break")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _has_length(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in headers)


def _headers(pairs: list[tuple[bytes, bytes]]) -> CaseInsensitiveDict[str]:
    """A repeated header's values joined with ", ", as urllib3 joins them."""
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for raw_name, raw_value in pairs:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
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


@contextmanager
def _raised_as_requests_does(request: requests.PreparedRequest, *, connected: bool) -> Iterator[None]:
    """A failure raised as the exception HTTPAdapter raises for it (anything else goes through as it is)."""
    try:
        yield
    except TimeoutError as exc:  # socket.timeout
        kind = requests.exceptions.ReadTimeout if connected else requests.exceptions.ConnectTimeout
        raise kind(str(exc) or "timed out", request=request) from exc
    except ssl.SSLError as exc:
        raise requests.exceptions.SSLError(str(exc), request=request) from exc
    except OSError as exc:
        raise requests.exceptions.ConnectionError(f"{type(exc).__name__}: {exc}", request=request) from exc
    except httptools.HttpParserError as exc:
        raise requests.exceptions.ConnectionError(f"not an HTTP answer: {exc}", request=request) from exc
