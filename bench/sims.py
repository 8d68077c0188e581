"""The two simulators as processes of their own (no GIL shared with the load generator), plus /_bench/ timing.

    python -m bench.sims graph --port P --app-secret S --phone-number-id N --display-phone-number D \\
        --waba-id W --access-token T
    python -m bench.sims helpdesk --port P --token T --webhook-url URL --secret S

`/_bench/*` is served beside the simulator's own routes: the Graph side records when each text send
arrived, the helpdesk side lists created messages with their `created_at`. The simulators' request
logs are trimmed every second so a long run does not measure the simulators' memory.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator


def _trim_forever(lists: list[list[Any]], stop: threading.Event) -> None:
    while not stop.wait(1.0):
        for records in lists:
            del records[:]


def _mount(app: Flask, bench: Flask) -> None:
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/_bench": bench})  # type: ignore[method-assign]


def serve_graph(args: argparse.Namespace, stop: threading.Event) -> Callable[[], None]:
    sim = GraphSimulator(app_secret=args.app_secret, port=args.port, quiet=True)
    sim.add_phone_number(
        args.phone_number_id,
        display_phone_number=args.display_phone_number,
        waba_id=args.waba_id,
        access_token=args.access_token,
    )
    sends: list[tuple[float, str]] = []
    original = sim._send

    def timed_send(pnid: str) -> Response:
        response = original(pnid)
        if response.status_code == 200:
            body = request.get_json(silent=True) or {}
            text = (body.get("text") or {}).get("body") if isinstance(body, dict) else None
            if text:
                sends.append((time.time(), str(text)))
        return response

    setattr(sim, "_send", timed_send)  # noqa: B010 - the simulator's own method table reads self._send
    bench = Flask("bench_graph")
    bench.add_url_rule("/ping", "ping", lambda: jsonify({"ok": True}))

    @bench.get("/sends")
    def list_sends() -> Response:
        after = int(request.args.get("after", 0))
        return jsonify({"total": len(sends), "sends": sends[after:]})

    _mount(sim.app, bench)
    sim.start()
    threading.Thread(target=_trim_forever, args=([sim.requests_log, sim.webhooks_sent], stop), daemon=True).start()
    return sim.stop


def serve_helpdesk(args: argparse.Namespace, stop: threading.Event) -> Callable[[], None]:
    sim = HelpdeskSimulator(port=args.port, record_requests=False, webhook_threads=args.webhook_threads).start()
    sim.add_account(1)
    sim.add_user(1, token=args.token)
    inbox = sim.add_inbox(1, name="WhatsApp (bench)", webhook_url=args.webhook_url, secret=args.secret)
    lock = sim._state.lock  # the simulator's own state lock: read its tables consistently
    bench = Flask("bench_helpdesk")
    bench.add_url_rule("/ping", "ping", lambda: jsonify({"ok": True}))

    @bench.get("/info")
    def info() -> Response:
        last = next(reversed(sim.messages), 0)  # ids grow with insertion order; O(1)
        pending = sim._pending  # webhooks (message_created echoes, ...) not yet delivered to the adapter
        return jsonify({"inbox_id": inbox["id"], "messages": len(sim.messages), "last_message_id": last,
                        "webhooks_pending": pending})  # fmt: skip

    @bench.get("/messages")
    def list_messages() -> Response:
        """Messages with id > after: [id, message_type, source_id, created_at, conversation display id, content]."""
        after = int(request.args.get("after", 0))
        with lock:
            rows = list(sim.messages.values())
        return jsonify([
            [m["id"], m["message_type"], m["source_id"], m["created_at"], m["conversation_key"][1], m["content"]]
            for m in rows if m["id"] > after
        ])  # fmt: skip

    @bench.get("/conversations")
    def conversations() -> Response:
        with lock:
            return jsonify([display_id for (_, display_id) in sim.conversations])

    _mount(sim.app, bench)
    threading.Thread(target=_trim_forever, args=([sim.webhook_deliveries], stop), daemon=True).start()
    return sim.stop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sims")
    sub = parser.add_subparsers(dest="which", required=True)
    graph = sub.add_parser("graph")
    graph.add_argument("--port", type=int, required=True)
    graph.add_argument("--app-secret", required=True)
    graph.add_argument("--phone-number-id", required=True)
    graph.add_argument("--display-phone-number", required=True)
    graph.add_argument("--waba-id", required=True)
    graph.add_argument("--access-token", required=True)
    helpdesk = sub.add_parser("helpdesk")
    helpdesk.add_argument("--port", type=int, required=True)
    helpdesk.add_argument("--token", required=True)
    helpdesk.add_argument("--webhook-url", required=True)
    helpdesk.add_argument("--secret", required=True)
    # Chatwoot delivers webhooks from Sidekiq jobs, several side by side: one thread fell behind the adapter.
    helpdesk.add_argument("--webhook-threads", type=int, default=4, help="webhooks delivered side by side")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    shutdown = serve_graph(args, stop) if args.which == "graph" else serve_helpdesk(args, stop)
    print(f"{args.which} simulator for the bench on 127.0.0.1:{args.port}", flush=True)
    while not stop.wait(0.5):
        pass
    shutdown()


if __name__ == "__main__":
    main()
