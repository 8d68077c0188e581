"""The simulators' webhook sender against a real loopback server: reuse, reconnect, timeout, refusal."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from tests.simulators.webhook_poster import WebhookConnectionFailed, WebhookPoster, WebhookTimeout


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.connections += 1
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = self.rfile.readline()
                if not line:
                    return
                head += line
            length = next(int(x.split(b":")[1]) for x in head.split(b"\r\n") if x.lower().startswith(b"content-length"))
            self.server.bodies.append(self.rfile.read(length))
            time.sleep(self.server.delay)
            close = self.server.close_after_answer
            if self.server.answer is not None:
                self.wfile.write(self.server.answer)
                if b"Content-Length" not in self.server.answer and b"chunked" not in self.server.answer:
                    return  # a body that runs to the end of the connection
                continue
            ending = b"Connection: close\r\n\r\nok" if close else b"\r\nok"
            self.wfile.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n" + ending)
            if close or self.server.drop_idle:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections, self.bodies, self.delay = 0, list[bytes](), 0.0
        self.close_after_answer = self.drop_idle = False
        self.answer: bytes | None = None  # written as is instead of the usual answer
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook?x=1"


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_posts_reuse_one_connection(server: _Server) -> None:
    poster = WebhookPoster(timeout=2)
    answers = [poster.post(server.url, f"{n}".encode(), {"Content-Type": "application/json"}) for n in range(3)]
    assert answers == [(202, "Accepted")] * 3 and server.bodies == [b"0", b"1", b"2"] and server.connections == 1


def test_a_connection_the_receiver_closed_while_idle_is_replaced_without_losing_the_post(server: _Server) -> None:
    server.drop_idle = True  # answers, then closes without saying so, like a keep-alive timeout
    poster = WebhookPoster(timeout=2)
    for n in range(3):
        time.sleep(0.05)
        assert poster.post(server.url, f"{n}".encode(), {}) == (202, "Accepted")
    assert server.bodies == [b"0", b"1", b"2"] and server.connections == 3


def test_connection_close_is_honoured(server: _Server) -> None:
    server.close_after_answer = True
    poster = WebhookPoster(timeout=2)
    assert [poster.post(server.url, b"a", {}), poster.post(server.url, b"b", {})] == [(202, "Accepted")] * 2
    assert server.connections == 2


def test_a_slow_receiver_is_a_timeout(server: _Server) -> None:
    server.delay = 0.5
    with pytest.raises(WebhookTimeout):
        WebhookPoster(timeout=0.1).post(server.url, b"slow", {})


def test_nobody_listening_is_a_connection_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(WebhookConnectionFailed):
            WebhookPoster(timeout=1).post(f"http://127.0.0.1:{port}/hook", b"x", {})


def test_a_chunked_answer_keeps_the_connection_and_one_read_to_the_close_does_not(server: _Server) -> None:
    poster = WebhookPoster(timeout=2)
    server.answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    assert [poster.post(server.url, b"a", {}), poster.post(server.url, b"b", {})] == [(200, "OK")] * 2
    assert server.connections == 1
    server.answer = b"HTTP/1.1 201 Created\r\n\r\nthe body, to the close"
    assert [poster.post(server.url, b"c", {}), poster.post(server.url, b"d", {})] == [(201, "Created")] * 2
    assert server.connections == 2 and server.bodies == [b"a", b"b", b"c", b"d"]  # c on the kept one, d anew
