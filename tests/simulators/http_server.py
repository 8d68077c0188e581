"""The simulators' HTTP/1.1 server: a thread per connection, requests parsed by httptools, kept alive.

Rails behind Puma and Meta's Graph API both keep connections open, so the simulators do too: a call
that reuses a socket pays no TCP handshake, as against the real servers. It is small on purpose. The
simulators are single processes holding their state in memory, and in the end-to-end benchmark the
helpdesk simulator caps what the adapter can be shown to deliver; cheroot, which served them before, cost
about a third of that process's CPU per request (py-spy), mostly in its pure-Python buffered reader.

What it does: HTTP/1.0 and 1.1, keep-alive unless either side says close, bodies by Content-Length or
chunked (httptools decodes them), `Expect: 100-continue`, pipelined requests in order, HEAD. A response
is sent in one write with its Content-Length (the simulators' bodies are small and finite); a malformed
request gets 400 and the connection closes. Stopping the server closes the connections still open, so
a stopped simulator is really gone.
"""

from __future__ import annotations

import io
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

import httptools

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_NO_BODY_STATUSES = frozenset({204, 304})
_RECV_BYTES = 65536


class _Request:
    """One request as httptools hands it over, filled in by the parser's callbacks."""

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.method = ""
        self.version = "1.1"
        self.keep_alive = True


class _Connection:
    """Reads requests off one socket and answers each through the WSGI app, in order."""

    def __init__(self, sock: socket.socket, peer: tuple[str, int], server: SimulatorServer) -> None:
        self.sock, self.peer, self.server = sock, peer, server
        self.ready: list[_Request] = []
        self.current = _Request()
        self.parser = httptools.HttpRequestParser(self)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.current = _Request()

    def on_url(self, url: bytes) -> None:
        self.current.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current.headers.append((name, value))

    def on_headers_complete(self) -> None:
        request = self.current
        request.method = self.parser.get_method().decode("ascii")
        request.version = self.parser.get_http_version()
        request.keep_alive = self.parser.should_keep_alive()
        if any(n.lower() == b"expect" and v.lower() == b"100-continue" for n, v in request.headers):
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.current.body.append(body)

    def on_message_complete(self) -> None:
        self.ready.append(self.current)

    def serve(self) -> None:
        try:
            while True:
                data = self.sock.recv(_RECV_BYTES)
                if not data:
                    return
                try:
                    self.parser.feed_data(data)
                except httptools.HttpParserUpgrade:
                    self._send_bare(400, "upgrades are not supported")
                    return
                except httptools.HttpParserError as exc:
                    self._send_bare(400, f"malformed request: {exc}")
                    return
                while self.ready:
                    request = self.ready.pop(0)
                    if not self._answer(request) or not request.keep_alive:
                        return
        except OSError:
            return  # the client went away, or the server is stopping
        finally:
            self.server.forget(self.sock)
            self.sock.close()

    def _environ(self, request: _Request) -> dict[str, Any]:
        url = httptools.parse_url(request.url)
        body = b"".join(request.body)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(url.path or b"/").decode("latin-1"),
            "QUERY_STRING": (url.query or b"").decode("latin-1"),
            "SERVER_NAME": self.server.host,
            "SERVER_PORT": str(self.server.port),
            "SERVER_PROTOCOL": f"HTTP/{request.version}",
            "REMOTE_ADDR": self.peer[0],
            "REMOTE_PORT": str(self.peer[1]),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for raw_name, raw_value in request.headers:
            name, value = raw_name.decode("latin-1").upper().replace("-", "_"), raw_value.decode("latin-1")
            if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                if name == "CONTENT_TYPE":
                    environ[name] = value
                continue
            key = f"HTTP_{name}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _answer(self, request: _Request) -> bool:
        """Run the app and send its answer; False when the connection must close after it."""
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return lambda data: body.append(data)

        body: list[bytes] = []
        environ = self._environ(request)
        try:
            result = self.server.app(environ, start_response)
            try:
                body.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception as exc:  # a simulator bug: answer like a crashed app server, keep serving
            print(f"{self.server.name}: {request.method} {environ['PATH_INFO']}: {exc!r}", file=sys.stderr)
            self._send_bare(500, "the simulator failed on this request")
            return False
        status, headers = started
        if self.server.log_requests:
            print(f"{request.method} {environ['PATH_INFO']} {status}", file=sys.stderr, flush=True)
        code = int(status.split(" ", 1)[0])
        content = b"".join(body)
        lines = [f"HTTP/1.1 {status}"]
        closing = not request.keep_alive
        for name, value in headers:
            lowered = name.lower()
            if lowered in ("content-length", "transfer-encoding"):
                continue  # framed below, from the body actually produced
            if lowered == "connection" and value.lower() == "close":
                closing = True
            lines.append(f"{name}: {value}")
        if code not in _NO_BODY_STATUSES and code >= 200:
            declared = next((v for n, v in headers if n.lower() == "content-length"), None)
            length = declared if request.method == "HEAD" and declared is not None else str(len(content))
            lines.append(f"Content-Length: {length}")
        if closing:
            lines.append("Connection: close")
        elif request.version == "1.0":
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = b"" if request.method == "HEAD" or code in _NO_BODY_STATUSES else content
        self.sock.sendall(head + payload)
        return not closing

    def _send_bare(self, code: int, text: str) -> None:
        body = f"{text}\n".encode()
        head = f"HTTP/1.1 {code} {HTTPStatus(code).phrase}\r\nContent-Type: text/plain; charset=utf-8\r\n" \
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"  # fmt: skip
        try:
            self.sock.sendall(head.encode() + body)
        except OSError:
            pass


class SimulatorServer:
    """Serves `app` on host:port (0: any free port) in daemon threads; `port` is known once constructed."""

    def __init__(self, host: str, port: int, app: WsgiApp, *, name: str, log_requests: bool = False) -> None:
        self.app, self.name, self.log_requests, self.host = app, name, log_requests, host
        self._listener = socket.create_server((host, port), backlog=128)
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, name=name, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, peer = self._listener.accept()
            except OSError:
                return  # closed by stop()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._stopped:
                    sock.close()
                    return
                self._open.add(sock)
            connection = _Connection(sock, peer[:2], self)
            threading.Thread(target=connection.serve, name=f"{self.name}-conn", daemon=True).start()

    def forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            still_open, self._open = list(self._open), set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for sock in still_open:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)
