"""The simulators' HTTP server: cheroot (CherryPy's WSGI server), which keeps connections alive.

Rails behind Puma and Meta's Graph API both keep connections open; werkzeug's development server closes
every one, which made each call pay a TCP handshake and a new server thread that neither real server
costs. Stopping the server also closes the connections still open, so a stopped simulator is really gone.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from cheroot.wsgi import Server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _logged(app: WsgiApp) -> WsgiApp:
    def log_each(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            print(f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')} {status}", file=sys.stderr, flush=True)
            return start_response(status, headers, *exc)

        return app(environ, start)

    return log_each


class SimulatorServer:
    """Serves `app` on host:port (0: any free port) in daemon threads; `port` is known once constructed."""

    def __init__(self, host: str, port: int, app: WsgiApp, *, name: str, log_requests: bool = False) -> None:
        logging.getLogger("cheroot").setLevel(logging.ERROR)
        self._server = Server((host, port), _logged(app) if log_requests else app, numthreads=16,
                              server_name=name, shutdown_timeout=1)  # fmt: skip
        self._server.prepare()  # binds now, so the port is known before serving
        self.port = int(self._server.bind_addr[1])
        self._thread = threading.Thread(target=self._server.serve, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.stop()
        self._thread.join(timeout=5)
