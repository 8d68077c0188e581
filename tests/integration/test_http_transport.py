"""The API clients' transport against a real HTTP/1.1 server on loopback: kept-alive connections, what the
server closes, compressed bodies, and failures raised as requests raises them."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from adapter.errors import NetworkError
from adapter.helpdesk.client import HelpdeskClient
from adapter.http_session import pooled_session, send
from adapter.http_transport import KeepAliveAdapter


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    idle_timeout = 5.0
    delay = 0.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        self.server.connections += 1
        self.timeout = self.server.idle_timeout  # a kept-alive connection idle this long is closed by the server
        super().setup()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json; charset=utf-8", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        time.sleep(self.server.delay)
        if self.path == "/gzip":
            self._answer(200, gzip.compress(b'{"packed": true}'), **{"Content-Encoding": "gzip"})
        elif self.path == "/close":
            self._answer(200, b"{}", Connection="close")
            self.close_connection = True
        elif self.path == "/redirect":
            self._answer(302, b"", Location="https://elsewhere.test/")
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in (b'{"in": ', b'"chunks"}'):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/until-close":  # no length: the body ends where the server closes the connection
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"read": "to the close"}')
            self.close_connection = True
        elif self.path == "/empty":
            self.send_response(204)
            self.end_headers()
        else:
            self._answer(200, json.dumps({"path": self.path}).encode(), **{"X-Seen": "a"})

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


def test_calls_share_one_kept_alive_connection_and_read_like_requests(server: tuple[_Server, str]) -> None:
    httpd, base = server
    session = pooled_session()
    first = send(session, "POST", f"{base}/api/v1/x?y=1", headers={"api_access_token": "tok"}, timeout=2,
                 json={"content": "olá"})  # fmt: skip
    second = send(session, "GET", f"{base}/again", headers={}, timeout=2)
    assert first.status_code == 201 and first.reason == "Created" and first.encoding == "utf-8"
    assert first.json() == {"body": {"content": "olá"}, "token": "tok", "path": "/api/v1/x?y=1"}
    assert second.headers["x-seen"] == "a" and second.json() == {"path": "/again"}
    assert httpd.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced(server: tuple[_Server, str]) -> None:
    httpd, base = server
    httpd.idle_timeout = 0.2
    session = pooled_session()
    assert send(session, "GET", f"{base}/one", headers={}, timeout=2).status_code == 200
    time.sleep(0.5)  # the server has closed the kept-alive connection by now
    assert send(session, "GET", f"{base}/two", headers={}, timeout=2).json() == {"path": "/two"}
    assert httpd.connections == 2


def test_an_answer_with_connection_close_is_not_reused(server: tuple[_Server, str]) -> None:
    httpd, base = server
    session = pooled_session()
    send(session, "GET", f"{base}/close", headers={}, timeout=2)
    send(session, "GET", f"{base}/after", headers={}, timeout=2)
    assert httpd.connections == 2


def test_a_gzip_body_is_unpacked_and_a_redirect_answered_as_it_is(server: tuple[_Server, str]) -> None:
    _, base = server
    session = pooled_session()
    assert send(session, "GET", f"{base}/gzip", headers={}, timeout=2).json() == {"packed": True}
    redirect = send(session, "GET", f"{base}/redirect", headers={}, timeout=2)
    assert redirect.status_code == 302 and redirect.is_redirect


def test_chunked_and_unlengthed_bodies_are_read_whole_and_a_204_is_empty(server: tuple[_Server, str]) -> None:
    httpd, base = server
    session = pooled_session()
    assert send(session, "GET", f"{base}/chunked", headers={}, timeout=2).json() == {"in": "chunks"}
    assert send(session, "GET", f"{base}/empty", headers={}, timeout=2).content == b""
    assert httpd.connections == 1  # both kept the connection
    assert send(session, "GET", f"{base}/until-close", headers={}, timeout=2).json() == {"read": "to the close"}
    assert send(session, "GET", f"{base}/after", headers={}, timeout=2).json() == {"path": "/after"}
    assert httpd.connections == 2


def test_a_header_that_would_end_its_line_is_refused_before_anything_is_sent(server: tuple[_Server, str]) -> None:
    httpd, base = server
    with pytest.raises(requests.exceptions.InvalidHeader):
        send(pooled_session(), "GET", f"{base}/x", headers={"api_access_token": "tok\r\nX-Admin: 1"}, timeout=2)
    assert httpd.connections == 0


def test_a_streamed_download_takes_requests_own_path(server: tuple[_Server, str]) -> None:
    _, base = server
    session = pooled_session()
    with session.get(f"{base}/file", stream=True, timeout=2) as response:
        assert b"".join(response.iter_content(4)) == b'{"path": "/file"}'
    transport = session.get_adapter(base)
    assert isinstance(transport, KeepAliveAdapter) and not any(transport._idle.values())  # urllib3's pool had it


def test_a_slow_answer_is_a_read_timeout_and_the_client_a_network_error(server: tuple[_Server, str]) -> None:
    httpd, base = server
    httpd.delay = 0.5
    with pytest.raises(requests.exceptions.ReadTimeout):
        send(pooled_session(), "GET", f"{base}/slow", headers={}, timeout=0.1)
    with pytest.raises(NetworkError, match="timed out"):
        HelpdeskClient(base, timeout=0.1, media_max_bytes=10).get_inbox(1, "tok", 1)


def test_a_refused_connection_is_a_connection_error() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(requests.exceptions.ConnectionError):
        send(pooled_session(), "GET", f"http://127.0.0.1:{port}/", headers={}, timeout=1)


def test_at_most_pool_size_connections_stay_idle(server: tuple[_Server, str]) -> None:
    httpd, base = server
    httpd.delay = 0.2
    session = requests.Session()
    adapter = KeepAliveAdapter(pool_size=2)
    session.mount("http://", adapter)
    calls = [threading.Thread(target=send, args=(session, "GET", f"{base}/{n}"), kwargs={"headers": {}, "timeout": 2})
             for n in range(5)]  # fmt: skip
    for call in calls:
        call.start()
    for call in calls:
        call.join()
    assert httpd.connections == 5
    assert sum(len(idle) for idle in adapter._idle.values()) == 2


def _call_in_child(session: requests.Session, url: str, answers: multiprocessing.Queue[int]) -> None:
    answers.put(send(session, "GET", url, headers={}, timeout=2).status_code)


def test_a_forked_child_opens_its_own_connection(server: tuple[_Server, str]) -> None:
    httpd, base = server
    session = pooled_session()
    send(session, "GET", f"{base}/parent", headers={}, timeout=2)
    fork = multiprocessing.get_context("fork")
    answers: multiprocessing.Queue[int] = fork.Queue()
    child = fork.Process(target=_call_in_child, args=(session, f"{base}/child", answers))
    child.start()
    child.join(10)
    assert answers.get(timeout=1) == 200
    assert httpd.connections == 2  # the parent's socket was not written to by the child
    assert send(session, "GET", f"{base}/parent-again", headers={}, timeout=2).status_code == 200
    assert httpd.connections == 2
