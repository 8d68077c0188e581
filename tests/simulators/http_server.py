"""The simulators' HTTP server: werkzeug's threaded WSGI server, served from a thread of its own.

werkzeug parses the requests (Content-Length and chunked bodies, `Expect: 100-continue`, HEAD) and
answers each with `Connection: close`, so every request comes on a connection of its own. What this
wrapper adds, for the simulators' sake:

- headers whose names hold an underscore reach the app: Chatwoot's clients send `api_access_token`,
  which Puma passes on and werkzeug drops;
- the listening socket is bound before werkzeug sees it, so a port in use raises OSError (werkzeug
  would print and exit the process) and `port` is known once constructed, also for port 0;
- stopping shuts down the connections still open (a request being handled, a client that has sent
  nothing yet), so a stopped simulator is really gone;
- request lines are printed only when asked for; werkzeug's own logger is not configured.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_POLL_SECONDS = 0.05  # how soon serve_forever notices shutdown()


class _Handler(WSGIRequestHandler):
    """werkzeug's handler, told which SimulatorServer it works for (set on a subclass per server)."""

    owner: ClassVar[SimulatorServer]
    disable_nagle_algorithm = True  # werkzeug writes the head and the body separately

    def handle_expect_100(self) -> bool:
        return True  # werkzeug's run_wsgi answers 100 Continue itself; http.server would answer it twice

    def setup(self) -> None:
        super().setup()
        self.owner.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.owner.forget(self.connection)

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        for name, value in self.headers.items():
            if "_" not in name:
                continue  # werkzeug has put it in already
            key = "HTTP_" + name.upper().replace("-", "_")
            value = value.replace("\r\n", "")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.owner.log_requests:
            print(f"{self.owner.name}: {self.requestline} {code}", file=sys.stderr, flush=True)

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error" or self.owner.log_requests:
            print(f"{self.owner.name}: {message % args if args else message}", file=sys.stderr, flush=True)


class SimulatorServer:
    """Serves `app` on host:port (0: any free port) from a daemon thread until `stop()`."""

    def __init__(self, host: str, port: int, app: WsgiApp, *, name: str, log_requests: bool = False) -> None:
        self.app, self.name, self.log_requests, self.host = app, name, log_requests, host
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        handler = type(f"{_Handler.__name__}[{name}]", (_Handler,), {"owner": self})
        with socket.create_server((host, port), backlog=128) as listener:  # werkzeug serves a duplicate
            self.port = int(listener.getsockname()[1])
            self._server: BaseWSGIServer = make_server(
                host, self.port, app, threaded=True, request_handler=handler, fd=listener.fileno()
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": _POLL_SECONDS}, name=name, daemon=True
        )
        self._thread.start()

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            if not self._stopped:
                self._open.add(sock)
                return
        _shut(sock)  # accepted while stopping

    def forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)

    def stop(self) -> None:
        """Stop accepting, close the listening socket and every connection still open."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            still_open, self._open = list(self._open), set()
        self._server.shutdown()  # serve_forever returns, closing the listening socket
        self._thread.join(timeout=5)
        for sock in still_open:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its handler
