"""The API clients' connections against a real HTTP/1.1 server on loopback: kept alive and reused, replaced
when the server closed them, at most the pool's size kept, and failures mapped to NetworkError."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adapter.errors import ExternalApiError, NetworkError
from adapter.helpdesk.client import HelpdeskClient
from adapter.http_session import pooled_session

GZIP_INBOX, CLOSING_INBOX = 90, 91  # the inboxes whose answers are gzipped, or close the connection


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    requests = 0
    idle_timeout = 5.0
    delay = 0.0
    counting = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out has gone before its answer is written


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        with self.server.counting:
            self.server.connections += 1
        self.timeout = self.server.idle_timeout  # a kept-alive connection idle this long is closed by the server
        super().setup()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        with self.server.counting:
            self.server.requests += 1
        self.send_response(status)
        for name, value in {"Content-Type": "application/json; charset=utf-8", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        time.sleep(self.server.delay)
        if self.path.endswith(f"/inboxes/{GZIP_INBOX}"):
            self._answer(200, gzip.compress(b'{"packed": true}'), **{"Content-Encoding": "gzip"})
        elif self.path.endswith(f"/inboxes/{CLOSING_INBOX}"):
            self._answer(200, b"{}", Connection="close")
            self.close_connection = True
        else:
            self._answer(200, json.dumps({"path": self.path}).encode())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"] or 0))
        echo = {"body": json.loads(body), "token": self.headers["api_access_token"], "path": self.path}
        self._answer(201, json.dumps(echo).encode())


@pytest.fixture
def server() -> Iterator[tuple[_Server, str]]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _client(base: str, timeout: float = 2) -> HelpdeskClient:
    return HelpdeskClient(base, timeout=timeout, media_max_bytes=100)


def test_calls_share_one_kept_alive_connection(server: tuple[_Server, str]) -> None:
    httpd, base = server
    client = _client(base)
    created = client.create_conversation(1, "tok", {"content": "olá"})
    assert created == {"body": {"content": "olá"}, "token": "tok", "path": "/api/v1/accounts/1/conversations"}
    assert client.get_inbox(1, "tok", 7) == {"path": "/api/v1/accounts/1/inboxes/7"}
    assert client.get_conversation(1, "tok", 3) == {"path": "/api/v1/accounts/1/conversations/3"}
    assert (httpd.requests, httpd.connections) == (3, 1)


def test_a_gzip_answer_is_read_unpacked(server: tuple[_Server, str]) -> None:
    _, base = server
    assert _client(base).get_inbox(1, "tok", GZIP_INBOX) == {"packed": True}


def test_a_connection_the_server_closed_is_replaced(server: tuple[_Server, str]) -> None:
    httpd, base = server
    httpd.idle_timeout = 0.2
    client = _client(base)
    client.get_inbox(1, "tok", 1)
    time.sleep(0.5)  # the server has closed the kept-alive connection by now
    assert client.get_inbox(1, "tok", 2) == {"path": "/api/v1/accounts/1/inboxes/2"}
    client.get_inbox(1, "tok", CLOSING_INBOX)
    client.get_inbox(1, "tok", 3)
    assert (httpd.requests, httpd.connections) == (4, 3)


def test_at_most_pool_size_connections_are_kept(server: tuple[_Server, str]) -> None:
    httpd, base = server
    httpd.delay = 0.2
    session = pooled_session(pool_size=2)

    def five_at_once() -> None:
        calls = [threading.Thread(target=session.get, args=(f"{base}/{n}",), kwargs={"timeout": 2}) for n in range(5)]
        for call in calls:
            call.start()
        for call in calls:
            call.join()

    five_at_once()
    assert httpd.connections == 5
    five_at_once()
    assert (httpd.requests, httpd.connections) == (10, 8)  # two kept from the first five, three new


def test_a_header_that_would_end_its_line_is_refused_before_anything_is_sent(server: tuple[_Server, str]) -> None:
    httpd, base = server
    with pytest.raises(ExternalApiError):
        _client(base).get_inbox(1, "tok\r\nX-Admin: 1", 1)
    assert httpd.connections == 0


def test_a_slow_answer_is_a_network_error_that_says_it_timed_out(server: tuple[_Server, str]) -> None:
    httpd, base = server
    httpd.delay = 0.5
    with pytest.raises(NetworkError, match="timed out"):
        _client(base, timeout=0.1).get_inbox(1, "tok", 1)


def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(NetworkError, match="connection failed"):
        _client(f"http://127.0.0.1:{port}", timeout=1).get_inbox(1, "tok", 1)
