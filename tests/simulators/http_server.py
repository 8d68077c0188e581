"""The simulators' HTTP server: werkzeug's threaded server speaking HTTP/1.1, so clients keep connections open.

Rails behind Puma and Meta's Graph API both keep connections alive; a simulator that closed every one
would make each call pay a TCP handshake and a new server thread, which neither real server costs.
Stopping the server also closes the connections still open, so a stopped simulator is really gone.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"


class KeepAliveServer(ThreadedWSGIServer):
    def __init__(self, host: str, port: int, app: Any, handler: type[KeepAliveHandler]) -> None:
        super().__init__(host, port, app, handler=handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        with self._open_lock:
            self._open.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            still_open = list(self._open)
        for conn in still_open:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
