"""The simulators' HTTP server (werkzeug's, wrapped) over real loopback connections."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from werkzeug.wrappers import Request, Response

from tests.simulators.http_server import SimulatorServer

release = threading.Event()  # /slow waits for it


@Request.application  # type: ignore[arg-type]
def echo_app(request: Request) -> Response:
    """Answers with what it was sent: method, path, query, two headers and the body."""
    if request.path == "/slow":
        release.wait(5)
    text = f"{request.method} {request.path}?{request.query_string.decode()} " \
           f"x={request.headers.get('X-Test', '')} token={request.headers.get('api_access_token', '')} " \
           f"body={request.get_data().decode()}"  # fmt: skip
    return Response(text, content_type="text/plain")


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    running = SimulatorServer("127.0.0.1", 0, echo_app, name="test-server")
    yield running
    running.stop()


def raw_exchange(server: SimulatorServer, data: bytes) -> bytes:
    """Sends `data` and reads until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_the_app_gets_the_request_and_each_answer_closes_its_connection(server: SimulatorServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    answers = []
    for n in range(2):
        connection.request("POST", f"/items/caf%C3%A9?n={n}", body=b"hello",
                           headers={"X-Test": "yes", "api_access_token": "tok"})  # fmt: skip
        response = connection.getresponse()
        answers.append((response.status, response.getheader("Connection"), response.read().decode()))
    # The path as PEP 3333 hands it over (latin-1), and Chatwoot's underscored token header is kept.
    assert answers[1] == (200, "close", "POST /items/café?n=1 x=yes token=tok body=hello")
    connection.close()


def test_chunked_body_and_expect_100_continue(server: SimulatorServer) -> None:
    chunked = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    assert raw_exchange(server, chunked).endswith(b"body=abcde")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"ok")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"body=ok")


def test_head_declares_the_length_without_a_body(server: SimulatorServer) -> None:
    answer = raw_exchange(server, b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\n")
    assert f"Content-Length: {len('HEAD /h? x= token= body=')}".encode() in answer


def test_a_malformed_request_gets_400(server: SimulatorServer) -> None:
    answer = raw_exchange(server, b"NOT HTTP AT ALL\r\n\r\n")  # no version: http.server answers as HTTP/0.9
    assert b"Error code: 400" in answer and b"Bad request version" in answer


def test_requests_are_served_side_by_side(server: SimulatorServer) -> None:
    release.clear()
    slow = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    slow.request("GET", "/slow")
    time.sleep(0.1)
    quick = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
    quick.request("GET", "/quick")
    assert quick.getresponse().status == 200  # while /slow is still waiting
    release.set()
    assert slow.getresponse().status == 200
    slow.close()
    quick.close()


def test_stopping_closes_open_connections_and_the_port() -> None:
    release.clear()
    running = SimulatorServer("127.0.0.1", 0, echo_app, name="test-server")
    idle = socket.create_connection(("127.0.0.1", running.port), timeout=5)  # connected, nothing sent
    busy = socket.create_connection(("127.0.0.1", running.port), timeout=5)
    busy.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    running.stop()
    try:
        assert idle.recv(65536) == b""  # the server closed both
        assert busy.recv(65536) == b""
    finally:
        release.set()
        idle.close()
        busy.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", running.port), timeout=1).close()


def test_a_port_in_use_is_an_os_error(server: SimulatorServer) -> None:
    with pytest.raises(OSError):
        SimulatorServer("127.0.0.1", server.port, echo_app, name="second")


def test_request_lines_are_printed_only_when_asked(capfd: pytest.CaptureFixture[str]) -> None:
    for log_requests in (False, True):
        running = SimulatorServer("127.0.0.1", 0, echo_app, name=f"logging-{log_requests}",
                                  log_requests=log_requests)  # fmt: skip
        try:
            raw_exchange(running, b"GET /logged HTTP/1.1\r\nHost: x\r\n\r\n")
        finally:
            running.stop()
    err = capfd.readouterr().err
    assert "logging-True: GET /logged HTTP/1.1 200" in err and "logging-False" not in err
