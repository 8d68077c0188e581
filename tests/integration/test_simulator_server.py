"""The simulators' HTTP server speaks HTTP/1.1 as the adapter's clients expect of Puma and the Graph API."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from tests.simulators.http_server import SimulatorServer


def echo_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers with what it was sent: method, path, query, a header, and the body."""
    body = environ["wsgi.input"].read()
    text = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}?{environ['QUERY_STRING']} " \
           f"x={environ.get('HTTP_X_TEST', '')} len={environ['CONTENT_LENGTH']} body={body.decode()}"  # fmt: skip
    if environ["PATH_INFO"] == "/fail":
        raise RuntimeError("a simulator bug")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [text.encode()]


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    running = SimulatorServer("127.0.0.1", 0, echo_app, name="test-server")
    yield running
    running.stop()


def raw_exchange(server: SimulatorServer, data: bytes, *, until_closed: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        if not until_closed:
            return sock.recv(65536)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_one_connection_carries_many_requests(server: SimulatorServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    answers = []
    for n in range(3):
        connection.request("POST", f"/items/caf%C3%A9?n={n}", body=b"hello", headers={"X-Test": "yes"})
        response = connection.getresponse()
        answers.append((response.status, response.read().decode()))
    local = connection.sock.getsockname()
    connection.request("GET", "/again")
    connection.getresponse().read()
    assert connection.sock.getsockname() == local  # the same socket all along
    assert answers[2] == (200, "POST /items/caf\u00c3\u00a9?n=2 x=yes len=5 body=hello")  # PEP 3333: latin-1
    connection.close()


def test_chunked_body_pipelined_requests_and_close(server: SimulatorServer) -> None:
    chunked = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    second = b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = raw_exchange(server, chunked + second)
    first_reply, second_reply = answer.split(b"HTTP/1.1 200 OK")[1:]
    assert first_reply.endswith(b"body=abcde") and b"Content-Length: 28" in first_reply
    assert b"Connection: close" in second_reply and second_reply.endswith(b"GET /b? x= len=0 body=")


def test_head_declares_the_length_without_a_body(server: SimulatorServer) -> None:
    answer = raw_exchange(server, b"HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\n")


def test_expect_100_continue_is_answered_before_the_body(server: SimulatorServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"ok")
        assert sock.recv(65536).endswith(b"body=ok")


def test_malformed_request_and_app_failure_get_an_answer_and_a_close(server: SimulatorServer) -> None:
    assert raw_exchange(server, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 Bad Request")
    failed = raw_exchange(server, b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
    assert failed.startswith(b"HTTP/1.1 500 Internal Server Error") and b"Connection: close" in failed


def test_stopping_closes_kept_alive_connections() -> None:
    running = SimulatorServer("127.0.0.1", 0, echo_app, name="test-server")
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        sock.sendall(b"GET /k HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        running.stop()
        assert sock.recv(65536) == b""  # the server closed it
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", running.port), timeout=1).close()
