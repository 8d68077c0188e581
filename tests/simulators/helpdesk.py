"""Chatwoot-compatible helpdesk simulator: a real HTTP server on 127.0.0.1 for tests and manual play.

It serves the slice of Chatwoot's Application API the adapter uses (profile, contacts, contact_inboxes,
conversations, messages incl. multipart attachments and the status PATCH, API inboxes, agent bots,
dashboard apps), ActiveStorage-like attachment URLs (``/rails/active_storage/blobs/redirect/…`` → 302 →
``/blobs/<key>``), and POSTs signed webhooks to each inbox's ``webhook_url`` exactly as Chatwoot 4.13+
does (see /work/shared/research/chatwoot.md §1–§5; the object model lives in ``helpdesk_state.py``, the
routes in ``helpdesk_api/``, one blueprint per resource group).

Usage in tests::

    sim = HelpdeskSimulator().start()
    sim.add_account(1)
    sim.add_user(1, token="tok")
    inbox = sim.add_inbox(1, name="WhatsApp", webhook_url="http://127.0.0.1:8000/hook", secret="s")
    ...
    sim.stop()

Webhooks for API writes (message_created/_updated, conversation_created/_status_changed/_updated, typing)
are delivered by one background thread in order, or by ``webhook_threads`` side by side, as Chatwoot's
Sidekiq does (``wait_for_webhooks()`` waits for the queue to drain); ``agent_reply``, ``delete_message``,
``retry_message``, ``set_status`` and ``post_webhook`` deliver synchronously. Fault injection (``fail_next``,
``set_delay``) applies to ``/api/`` requests; ``set_down`` answers 503 to everything except ``/_sim/``.

Where Chatwoot differs from a naive API, the simulator follows Chatwoot: the nulls of JSON arrays are
dropped (Rails' deep munge), ``template_params`` is checked against Chatwoot's JSON schema, the message
list answers 20 at a time (``before``/``after``), attachment URLs are on ``frontend_url`` (FRONTEND_URL),
and a message_created that could not be delivered marks its message failed.

Run alone: ``python -m tests.simulators.helpdesk --port 9002`` (account 1, an admin token printed on
stdout, ``POST /_sim/agent_reply {"conversation_id", "content"}`` to play the agent).
"""

from __future__ import annotations

import argparse
import json
import queue
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from flask import Flask

from adapter.helpdesk.signature import generate_signature
from tests.simulators import helpdesk_api
from tests.simulators.helpdesk_state import Actor, HelpdeskState, JsonDict, Outbound, rails_params
from tests.simulators.http_server import SimulatorServer
from tests.simulators.webhook_poster import WebhookConnectionFailed, WebhookError, WebhookPoster, WebhookTimeout

WEBHOOK_TIMEOUT_SECONDS = 5.0
MESSAGE_EVENTS = ("message_created", "message_updated")
_RAILS_ESCAPES = tuple((char.encode(), f"\\u{ord(char):04x}".encode()) for char in "<>&\u2028\u2029")


def _rails_json(payload: Any) -> bytes:
    """``payload.to_json`` as Rails writes it: compact, UTF-8, HTML-significant characters escaped."""
    try:
        raw = orjson.dumps(payload)  # a tenth of json.dumps' time; the same text for what a webhook holds
    except (TypeError, orjson.JSONEncodeError):  # an integer wider than 64 bits, a lone surrogate
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    for char, escaped in _RAILS_ESCAPES:
        raw = raw.replace(char, escaped)
    return raw


def _status_line(status: int, reason: str | None) -> str:
    """The ``external_error`` text for a non-2xx answer, e.g. ``503 Service Unavailable``."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} {reason or ''}".strip()


class HelpdeskSimulator:
    """A Chatwoot look-alike on an ephemeral loopback port; see the module docstring."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
        record_requests: bool = True,
        webhook_threads: int = 1,
        frontend_url: str | None = None,
    ) -> None:
        self._host, self._port, self._log_requests = host, port, log_requests
        self._webhook_threads = webhook_threads
        self._state = HelpdeskState()
        self._frontend_url_option = frontend_url
        self._state.frontend_url = (frontend_url or "").rstrip("/")
        self.base_url = ""
        # Each API request, for tests to assert on; a benchmark turns it off (it grows and costs per request).
        self.record_requests = record_requests
        self.requests_log: list[JsonDict] = []
        self.webhook_deliveries: list[JsonDict] = []
        self.echo_webhooks = True
        self._faults: list[JsonDict] = []
        self._delay = 0.0
        self._down = False
        self._fault_lock = threading.Lock()
        self._queue: queue.Queue[Outbound | None] = queue.Queue()  # unbounded: the worker enqueues too
        self._pending = 0
        self._pending_cv = threading.Condition()
        self._server: SimulatorServer | None = None
        self._threads: list[threading.Thread] = []
        self._webhooks = WebhookPoster(WEBHOOK_TIMEOUT_SECONDS)
        self.app = self._build_app()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> HelpdeskSimulator:
        self._server = SimulatorServer(self._host, self._port, self.app, name="helpdesk-sim-http",
                                       log_requests=self._log_requests)  # fmt: skip
        self.base_url = f"http://{self._host}:{self._server.port}"
        self._state.base_url = self.base_url
        self._threads = [
            threading.Thread(target=self._webhook_worker, name=f"helpdesk-sim-webhooks-{n}", daemon=True)
            for n in range(self._webhook_threads)
        ]
        for worker in self._threads:
            worker.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        for _ in self._threads:
            self._queue.put(None)
        self._server.stop()
        for thread in self._threads:
            thread.join(timeout=WEBHOOK_TIMEOUT_SECONDS + 1)
        self._server = None

    def __enter__(self) -> HelpdeskSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Drop every object, log, queued webhook and fault; ``echo_webhooks`` back to True."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self._done_one()
        self.wait_for_webhooks(timeout=WEBHOOK_TIMEOUT_SECONDS + 1)
        self._state.clear()
        self.requests_log.clear()
        self.webhook_deliveries.clear()
        with self._fault_lock:
            self._faults.clear()
            self._delay, self._down = 0.0, False
        self.echo_webhooks = True
        self.frontend_url = self._frontend_url_option

    @property
    def frontend_url(self) -> str:
        """Chatwoot's FRONTEND_URL: the scheme and host of attachment ``data_url``s (and their redirects).
        Defaults to ``base_url``; set another name of this server (``http://localhost:<port>``) to see an
        adapter whose HELPDESK_BASE_URL differs from it; ``None`` goes back to ``base_url``."""
        return self._state.frontend_url or self.base_url

    @frontend_url.setter
    def frontend_url(self, url: str | None) -> None:
        with self._state.lock:
            self._state.frontend_url = (url or "").rstrip("/")

    # ------------------------------------------------------------------ seeding and inspection
    @property
    def contacts(self) -> dict[int, JsonDict]:
        return self._state.contacts

    @property
    def conversations(self) -> dict[tuple[int, int], JsonDict]:
        """Keyed by ``(account_id, display_id)``; ``message_ids`` lists its messages in order."""
        return self._state.conversations

    @property
    def messages(self) -> dict[int, JsonDict]:
        """Raw rows: string ``message_type``, ``conversation_key``, ``attachment_ids``, float times."""
        return self._state.messages

    @property
    def inboxes(self) -> dict[int, JsonDict]:
        return self._state.inboxes

    @property
    def dashboard_apps(self) -> dict[int, JsonDict]:
        """Raw rows: ``title``, ``content`` (``[{"type": "frame", "url": …}]``), ``account_id``."""
        return self._state.dashboard_apps

    def add_account(self, account_id: int, name: str = "Acme") -> None:
        with self._state.lock:
            self._state.add_account(account_id, name)

    def add_user(
        self, account_id: int, *, token: str, name: str = "Ana Agent", email: str = "ana@acme.test", admin: bool = True
    ) -> dict[str, Any]:
        with self._state.lock:
            user = self._state.add_user(account_id, token=token, name=name, email=email, admin=admin)
            return {"id": user["id"], "name": user["name"], "email": user["email"]}

    def add_agent_bot(
        self, account_id: int, *, name: str = "AI Agent", token: str | None = None, outgoing_url: str | None = None
    ) -> dict[str, Any]:
        with self._state.lock:
            self._state.account(account_id)
            bot = self._state.add_agent_bot(account_id, name=name, token=token, outgoing_url=outgoing_url)
            return self._state.bot_json(bot, admin=True)

    def add_inbox(
        self,
        account_id: int,
        *,
        name: str,
        webhook_url: str,
        secret: str,
        additional_attributes: dict[str, Any] | None = None,
        lock_to_single_conversation: bool = False,
    ) -> dict[str, Any]:
        """An API-channel inbox; ``secret=""`` imitates a pre-4.13 Chatwoot (unsigned webhooks)."""
        with self._state.lock:
            inbox = self._state.create_inbox(
                account_id,
                {
                    "name": name,
                    "lock_to_single_conversation": lock_to_single_conversation,
                    "channel": {
                        "type": "api",
                        "webhook_url": webhook_url,
                        "additional_attributes": additional_attributes or {},
                    },
                },
            )
            inbox["secret"] = secret
            return self._state.inbox_json(inbox, admin=True)

    def conversation(self, account_id: int, display_id: int) -> dict[str, Any]:
        """The conversation in REST shape (``id`` = display_id)."""
        with self._state.lock:
            return self._state.conversation_rest(self._state.conversation(account_id, display_id))

    def messages_in(self, account_id: int, display_id: int) -> list[dict[str, Any]]:
        """Every message in order: REST shape + ``additional_attributes``; attachments add data/filename."""
        with self._state.lock:
            return self._state.messages_in(account_id, display_id)

    # ------------------------------------------------------------------ acting as the dashboard
    def agent_reply(
        self,
        account_id: int,
        display_id: int,
        content: str | None,
        *,
        attachments: Sequence[tuple[str, bytes, str]] = (),
        private: bool = False,
        in_reply_to: int | None = None,
        sender: str = "user",
        template_params: dict[str, Any] | None = None,
        message_type: str = "outgoing",
        content_attributes: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> tuple[dict[str, Any], int]:
        """Create a message as an agent/bot would, POST message_created synchronously.

        ``content_type`` with ``content_attributes={"items": [...]}`` makes a bot's rich message:
        ``input_select``, ``cards``, ``article`` or ``form`` (items checked as Chatwoot's validator does).

        ``sender``: ``"user"`` (first administrator, else first user of the account), ``"agent_bot"``
        (the inbox's bot, else the account's first bot), ``"contact"`` or ``"none"``. Returns the message
        in REST shape (after delivery, so a failed webhook shows ``status: failed``) and the webhook's
        HTTP status (0 when no HTTP answer came back or the inbox has no webhook_url).
        """
        with self._state.lock:
            conv = self._state.conversation(account_id, display_id)
            actor = self._dashboard_actor(account_id, conv, sender)
            attributes = dict(content_attributes or {})
            if in_reply_to is not None:
                attributes["in_reply_to"] = in_reply_to
            params: JsonDict = {
                "content": content,
                "private": private,
                "message_type": message_type,
                "content_attributes": attributes,
            }
            if template_params is not None:
                params["template_params"] = template_params
            if content_type is not None:
                params["content_type"] = content_type
            if sender == "contact":
                params["message_type"] = "incoming"
            params = rails_params(params)  # the dashboard posts JSON: Rails drops the nulls of its arrays
            message, outbounds = self._state.create_message(account_id, display_id, params, list(attachments), actor)
        created = [o for o in outbounds if o.event == "message_created" and o.message_id == message["id"]]
        self._enqueue([o for o in outbounds if o not in created])
        status = 0
        for outbound in created:
            status = self._deliver(outbound)[0] or 0
        with self._state.lock:
            return self._state.message_rest(message), status

    def delete_message(self, account_id: int, display_id: int, message_id: int) -> tuple[dict[str, Any], int]:
        """Delete a message as an agent would (``DELETE …/messages/{id}``) and POST its message_updated
        synchronously. Returns the message in REST shape and the webhook's HTTP status (0: no answer)."""
        with self._state.lock:
            message = self._state.find_message(account_id, display_id, message_id)
            outbounds = self._state.delete_message(message)
        return self._acted_on(message, outbounds)

    def retry_message(self, account_id: int, display_id: int, message_id: int) -> tuple[dict[str, Any], int]:
        """Press Retry on a message as an agent would (``POST …/messages/{id}/retry``, Chatwoot 4.15.1: status
        sent, content_attributes wiped to ``{}``) and POST its two message_updated synchronously. Returns the
        message in REST shape and the last webhook's HTTP status (0: no answer)."""
        with self._state.lock:
            message = self._state.find_message(account_id, display_id, message_id)
            outbounds = self._state.retry_message(message)
        return self._acted_on(message, outbounds)

    def _acted_on(self, message: JsonDict, outbounds: list[Outbound]) -> tuple[dict[str, Any], int]:
        status = 0
        for outbound in outbounds:
            status = self._deliver(outbound)[0] or 0
        with self._state.lock:
            return self._state.message_rest(message), status

    def set_webhook_url(self, inbox_id: int, url: str) -> str:
        """Point an inbox's webhooks elsewhere (e.g. a closed port, to make deliveries fail); returns the old URL."""
        with self._state.lock:
            inbox = self._state.inboxes[inbox_id]
            previous, inbox["webhook_url"] = inbox["webhook_url"], url
            return str(previous)

    def _dashboard_actor(self, account_id: int, conv: JsonDict, sender: str) -> Actor | None:
        state = self._state
        if sender == "user":
            users = [u for u in state.users.values() if account_id in u["roles"]]
            users.sort(key=lambda u: (u["roles"][account_id] != "administrator", u["id"]))
            if not users:
                raise ValueError(f"account {account_id} has no user; call add_user first")
            return Actor("user", users[0]["id"])
        if sender == "agent_bot":
            bot_id = state.inboxes[conv["inbox_id"]]["agent_bot_id"]
            if bot_id is None:
                bots = [b["id"] for b in state.agent_bots.values() if b["account_id"] == account_id]
                if not bots:
                    raise ValueError(f"account {account_id} has no agent bot; call add_agent_bot first")
                bot_id = bots[0]
            return Actor("agent_bot", bot_id)
        if sender in ("contact", "none"):
            return None
        raise ValueError(f"unknown sender {sender!r}")

    def set_status(self, account_id: int, display_id: int, status: str) -> int:
        """Change the status as an agent would and POST conversation_status_changed synchronously."""
        with self._state.lock:
            conv = self._state.conversation(account_id, display_id)
            previous = conv["status"]
            outbounds = self._state.change_status(conv, status)
            if not outbounds:  # unchanged status: Chatwoot would stay silent, this test helper still posts
                changed = [{"status": {"previous_value": previous, "current_value": status}}]
                outbounds = self._state.conversation_event("conversation_status_changed", conv, changed)
        result = 0
        for outbound in outbounds:
            result = self._deliver(outbound)[0] or 0
        return result

    def post_webhook(
        self,
        inbox_id: int,
        payload: dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        delivery_id: str | None = None,
    ) -> requests.Response:
        """POST ``payload`` to the inbox webhook_url signed like Chatwoot (override secret/timestamp/id)."""
        with self._state.lock:
            inbox = self._state.inboxes[inbox_id]
            url, inbox_secret = inbox["webhook_url"], inbox["secret"]
        body = _rails_json(payload)
        key = secret if secret is not None else inbox_secret
        headers = self._signed_headers(body, key, timestamp, delivery_id)
        record: JsonDict = {
            "event": payload.get("event"),
            "payload": payload,
            "status_code": None,
            "error": None,
            "url": url,
            "inbox_id": inbox_id,
            "headers": headers,
            "body": body,
        }
        try:
            response = requests.post(
                url, data=body, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False
            )
        except requests.RequestException as exc:
            record["error"] = str(exc)
            self.webhook_deliveries.append(record)
            raise
        record["status_code"] = response.status_code
        self.webhook_deliveries.append(record)
        return response

    # ------------------------------------------------------------------ fault injection
    def fail_next(self, count: int, *, http_status: int = 500, path_contains: str = "") -> None:
        """The next ``count`` ``/api/`` requests whose path contains ``path_contains`` get ``http_status``."""
        with self._fault_lock:
            self._faults.append({"remaining": count, "status": http_status, "path_contains": path_contains})

    def set_delay(self, seconds: float) -> None:
        """Every ``/api/`` request waits this long before being handled."""
        with self._fault_lock:
            self._delay = seconds

    def set_down(self, down: bool) -> None:
        """While down every request except ``/_sim/`` answers 503 (the port stays open)."""
        with self._fault_lock:
            self._down = down

    def _take_fault(self, path: str) -> tuple[bool, float, int | None]:
        """For a request to ``path``: whether the simulator is down, the delay set, and the status of the
        injected fault it uses up (``/api/`` paths only), if one is due."""
        with self._fault_lock:
            fault = None
            if path.startswith("/api/"):
                fault = next((f for f in self._faults if f["remaining"] > 0 and f["path_contains"] in path), None)
                if fault is not None:
                    fault["remaining"] -= 1
            return self._down, self._delay, fault["status"] if fault is not None else None

    # ------------------------------------------------------------------ webhook delivery
    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Block until the asynchronous webhook queue is empty; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._pending_cv:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._pending_cv.wait(remaining)
        return True

    def _enqueue(self, outbounds: list[Outbound]) -> None:
        if not self.echo_webhooks:
            return
        for outbound in outbounds:
            with self._pending_cv:
                self._pending += 1
            self._queue.put(outbound)

    def _done_one(self) -> None:
        with self._pending_cv:
            self._pending -= 1
            self._pending_cv.notify_all()

    def _webhook_worker(self) -> None:
        while True:
            outbound = self._queue.get()
            if outbound is None:
                self._webhooks.close()
                return
            try:
                self._deliver(outbound)
            except Exception as exc:  # never let one bad delivery kill the worker
                print(f"helpdesk simulator: webhook delivery crashed: {exc!r}", file=sys.stderr)
            finally:
                self._done_one()

    @staticmethod
    def _signed_headers(body: bytes, secret: str, timestamp: int | None, delivery_id: str | None) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "Ruby",
            "X-Chatwoot-Delivery": delivery_id or str(uuid.uuid4()),
        }
        if secret:
            ts = str(timestamp if timestamp is not None else int(time.time()))
            headers["X-Chatwoot-Timestamp"] = ts
            headers["X-Chatwoot-Signature"] = generate_signature(secret, ts, body)
        return headers

    def _deliver(self, outbound: Outbound) -> tuple[int | None, str | None]:
        """``Webhooks::Trigger``: one POST, no retries; a failed message event marks the message failed."""
        with self._state.lock:
            inbox = self._state.inboxes.get(outbound.inbox_id)
            if inbox is None or not inbox["webhook_url"]:
                return None, None
            url, secret = inbox["webhook_url"], inbox["secret"]
        body = _rails_json(outbound.payload)
        headers = self._signed_headers(body, secret, None, None)
        status: int | None = None
        error: str | None = None
        try:
            status, reason = self._webhooks.post(url, body, headers)
            if not 200 <= status < 300:
                error = _status_line(status, reason)
        except WebhookTimeout:
            error = "Net::ReadTimeout with #<TCPSocket:(closed)>"
        except WebhookConnectionFailed:
            parts = urlsplit(url)
            error = (
                f"Failed to open TCP connection to {parts.hostname}:{parts.port} "
                f'(Connection refused - connect(2) for "{parts.hostname}" port {parts.port})'
            )
        except WebhookError as exc:
            error = str(exc)
        self.webhook_deliveries.append(
            {
                "event": outbound.event,
                "payload": outbound.payload,
                "status_code": status,
                "error": error,
                "url": url,
                "inbox_id": outbound.inbox_id,
                "delivery_id": headers["X-Chatwoot-Delivery"],
                "headers": headers,
                "body": body,
            }
        )
        if error and outbound.event in MESSAGE_EVENTS and outbound.message_id is not None:
            self._mark_failed(outbound, error)
        return status, error

    def _mark_failed(self, outbound: Outbound, error: str) -> None:
        """``Messages::StatusUpdateService.new(message, 'failed', error.message)`` after a failed delivery."""
        with self._state.lock:
            message = self._state.messages.get(outbound.message_id or 0)
            if message is None:
                return
            follow_up = self._state.update_message_status(message, "failed", error)
        if outbound.event == "message_created":  # a failing message_updated must not loop
            self._enqueue(follow_up)

    # ------------------------------------------------------------------ HTTP app
    def _build_app(self) -> Flask:
        """The Flask app: JSON, request log, faults and error answers (``hooks``), then one blueprint a group."""
        app = Flask("helpdesk_simulator")
        helpdesk_api.install(app, self)
        for blueprint in helpdesk_api.BLUEPRINTS:
            app.register_blueprint(blueprint)
        return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chatwoot-compatible helpdesk simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9002)
    parser.add_argument("--token", default=None, help="admin api_access_token (random when omitted)")
    parser.add_argument("--account-name", default="Acme")
    args = parser.parse_args(argv)
    sim = HelpdeskSimulator(host=args.host, port=args.port, log_requests=True).start()
    sim.add_account(1, args.account_name)
    token = args.token or secrets.token_urlsafe(18)
    sim.add_user(1, token=token, name="Ana Agent", email="ana@acme.test", admin=True)
    print(f"helpdesk simulator listening on {sim.base_url}")
    print("account_id: 1")
    print(f"api_access_token: {token}")
    print(
        f'play the agent: curl -X POST {sim.base_url}/_sim/agent_reply -H "Content-Type: application/json" '
        '-d \'{"conversation_id": 1, "content": "Hello from the agent"}\'',
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
