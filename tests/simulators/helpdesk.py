"""Chatwoot-compatible helpdesk simulator: a real HTTP server on 127.0.0.1 for tests and manual play.

It serves the slice of Chatwoot's Application API the adapter uses (profile, contacts, contact_inboxes,
conversations, messages incl. multipart attachments and the status PATCH, API inboxes, agent bots,
dashboard apps), ActiveStorage-like attachment URLs (``/rails/active_storage/blobs/redirect/…`` → 302 →
``/blobs/<key>``), and POSTs signed webhooks to each inbox's ``webhook_url`` exactly as Chatwoot 4.13+
does (see /work/shared/research/chatwoot.md §1–§5; the object model lives in ``helpdesk_state.py``).

Usage in tests::

    sim = HelpdeskSimulator().start()
    sim.add_account(1)
    sim.add_user(1, token="tok")
    inbox = sim.add_inbox(1, name="WhatsApp", webhook_url="http://127.0.0.1:8000/hook", secret="s")
    ...
    sim.stop()

Webhooks for API writes (message_created/_updated, conversation_created/_status_changed/_updated, typing)
are delivered by one background thread in order, or by ``webhook_threads`` side by side, as Chatwoot's
Sidekiq does (``wait_for_webhooks()`` waits for the queue to drain);
``agent_reply``/``set_status``/``post_webhook`` deliver synchronously. Fault injection (``fail_next``,
``set_delay``) applies to ``/api/`` requests; ``set_down`` answers 503 to everything except ``/_sim/``.

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
from flask import Flask, Response, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from adapter import jsonfast
from adapter.helpdesk.signature import generate_signature
from tests.simulators.helpdesk_state import (
    NOT_AUTHORIZED_ERROR,
    NOT_FOUND_ERROR,
    SEARCH_PAGE_SIZE,
    SIGN_IN_ERROR,
    Actor,
    ApiError,
    HelpdeskState,
    JsonDict,
    Outbound,
    not_found,
    to_bool,
    to_int,
)
from tests.simulators.http_server import SimulatorServer
from tests.simulators.webhook_poster import WebhookConnectionFailed, WebhookError, WebhookPoster, WebhookTimeout

WEBHOOK_TIMEOUT_SECONDS = 5.0
MESSAGE_EVENTS = ("message_created", "message_updated")
BOT_FORBIDDEN_ERROR = {"error": "Access to this endpoint is not authorized for bots"}
ACCOUNT_FORBIDDEN_ERROR = {"error": "You are not authorized to access this account"}
_NGINX_PAGE = "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n" \
              "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"


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


class _OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON, written and read by orjson where it gives the same value (the API's answers and bodies)."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        try:
            return orjson.dumps(obj).decode()
        except (TypeError, orjson.JSONEncodeError):
            return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return jsonfast.loads(s)


def _error_response(status: int) -> Response:
    """What a failing Chatwoot (or the proxy in front of it) answers with a given status."""
    try:
        phrase = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        phrase = str(status)
    if status in (502, 503, 504):
        return Response(_NGINX_PAGE.format(phrase), status=status, mimetype="text/html")
    if status == 429:  # Rack::Attack's throttled response
        return Response("Retry later\n", status=429, mimetype="text/plain")
    bodies: dict[int, JsonDict] = {401: SIGN_IN_ERROR, 403: NOT_AUTHORIZED_ERROR, 404: NOT_FOUND_ERROR}
    body = bodies.get(status, {"status": status, "error": phrase.split(" ", 1)[-1]})
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _status_line(status: int, reason: str | None) -> str:
    """The ``external_error`` text for a non-2xx answer, e.g. ``503 Service Unavailable``."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} {reason or ''}".strip()


class HelpdeskSimulator:
    """A Chatwoot look-alike on an ephemeral loopback port; see the module docstring."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, log_requests: bool = False,
                 record_requests: bool = True, webhook_threads: int = 1) -> None:
        self._host, self._port, self._log_requests = host, port, log_requests
        self._webhook_threads = webhook_threads
        self._state = HelpdeskState()
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

    def add_account(self, account_id: int, name: str = "Acme") -> None:
        with self._state.lock:
            self._state.add_account(account_id, name)

    def add_user(self, account_id: int, *, token: str, name: str = "Ana Agent", email: str = "ana@acme.test",
                 admin: bool = True) -> dict[str, Any]:
        with self._state.lock:
            user = self._state.add_user(account_id, token=token, name=name, email=email, admin=admin)
            return {"id": user["id"], "name": user["name"], "email": user["email"]}

    def add_agent_bot(self, account_id: int, *, name: str = "AI Agent", token: str | None = None,
                      outgoing_url: str | None = None) -> dict[str, Any]:
        with self._state.lock:
            self._state.account(account_id)
            bot = self._state.add_agent_bot(account_id, name=name, token=token, outgoing_url=outgoing_url)
            return self._state.bot_json(bot, admin=True)

    def add_inbox(self, account_id: int, *, name: str, webhook_url: str, secret: str,
                  additional_attributes: dict[str, Any] | None = None,
                  lock_to_single_conversation: bool = False) -> dict[str, Any]:
        """An API-channel inbox; ``secret=""`` imitates a pre-4.13 Chatwoot (unsigned webhooks)."""
        with self._state.lock:
            inbox = self._state.create_inbox(account_id, {
                "name": name, "lock_to_single_conversation": lock_to_single_conversation,
                "channel": {"type": "api", "webhook_url": webhook_url,
                            "additional_attributes": additional_attributes or {}}})
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
    def agent_reply(self, account_id: int, display_id: int, content: str | None, *,
                    attachments: Sequence[tuple[str, bytes, str]] = (), private: bool = False,
                    in_reply_to: int | None = None, sender: str = "user",
                    template_params: dict[str, Any] | None = None,
                    message_type: str = "outgoing",
                    content_attributes: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
        """Create a message as an agent/bot would, POST message_created synchronously.

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
            params: JsonDict = {"content": content, "private": private, "message_type": message_type,
                                "content_attributes": attributes}
            if template_params is not None:
                params["template_params"] = template_params
            if sender == "contact":
                params["message_type"] = "incoming"
            message, outbounds = self._state.create_message(account_id, display_id, params,
                                                            list(attachments), actor)
        created = [o for o in outbounds if o.event == "message_created" and o.message_id == message["id"]]
        self._enqueue([o for o in outbounds if o not in created])
        status = 0
        for outbound in created:
            status = self._deliver(outbound)[0] or 0
        with self._state.lock:
            return self._state.message_rest(message), status

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

    def post_webhook(self, inbox_id: int, payload: dict[str, Any], *, secret: str | None = None,
                     timestamp: int | None = None, delivery_id: str | None = None) -> requests.Response:
        """POST ``payload`` to the inbox webhook_url signed like Chatwoot (override secret/timestamp/id)."""
        with self._state.lock:
            inbox = self._state.inboxes[inbox_id]
            url, inbox_secret = inbox["webhook_url"], inbox["secret"]
        body = _rails_json(payload)
        key = secret if secret is not None else inbox_secret
        headers = self._signed_headers(body, key, timestamp, delivery_id)
        record: JsonDict = {"event": payload.get("event"), "payload": payload, "status_code": None,
                            "error": None,
                            "url": url, "inbox_id": inbox_id, "headers": headers, "body": body}
        try:
            response = requests.post(url, data=body, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS,
                                     allow_redirects=False)
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
    def _signed_headers(body: bytes, secret: str, timestamp: int | None,
                        delivery_id: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": "Ruby", "X-Chatwoot-Delivery": delivery_id or str(uuid.uuid4())}
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
            error = (f"Failed to open TCP connection to {parts.hostname}:{parts.port} "
                     f"(Connection refused - connect(2) for \"{parts.hostname}\" port {parts.port})")
        except WebhookError as exc:
            error = str(exc)
        self.webhook_deliveries.append({
            "event": outbound.event, "payload": outbound.payload, "status_code": status, "error": error,
            "url": url, "inbox_id": outbound.inbox_id, "delivery_id": headers["X-Chatwoot-Delivery"],
            "headers": headers, "body": body})
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
        app = Flask("helpdesk_simulator")
        app.json = _OrjsonProvider(app)
        state = self._state

        def record_request() -> None:
            entry = {"method": request.method, "path": request.path, "query": request.args.to_dict(),
                     "json": request.get_json(silent=True) if request.is_json else None,
                     "form": request.form.to_dict(),
                     "files": [(field, f.filename, f.mimetype, len(f.read()))
                               for field, f in request.files.items(multi=True)],
                     "token": request.headers.get("api_access_token"), "status_code": None}
            for stored in request.files.values():
                stored.stream.seek(0)
            g.log_entry = entry
            self.requests_log.append(entry)

        @app.before_request
        def _before() -> Response | None:
            if request.path.startswith("/_sim/"):
                return None
            if self.record_requests:
                record_request()
            with self._fault_lock:
                down, delay = self._down, self._delay
                fault = None
                if request.path.startswith("/api/"):
                    fault = next((f for f in self._faults if f["remaining"] > 0
                                  and f["path_contains"] in request.path), None)
                    if fault is not None:
                        fault["remaining"] -= 1
            if down:
                return _error_response(503)
            if fault is not None:
                return _error_response(fault["status"])
            if delay and request.path.startswith("/api/"):
                time.sleep(delay)
            return None

        @app.after_request
        def _after(response: Response) -> Response:
            entry = g.get("log_entry")
            if entry is not None:
                entry["status_code"] = response.status_code
            return response

        @app.errorhandler(ApiError)
        def _api_error(exc: ApiError) -> Response:
            if exc.body is None:
                return Response(status=exc.status)
            response = jsonify(exc.body)
            response.status_code = exc.status
            return response

        @app.errorhandler(HTTPException)
        def _http_error(exc: HTTPException) -> Response:
            return _error_response(exc.code or 500)

        def params() -> JsonDict:
            """Rails-style params: query string, then form fields, then the JSON body."""
            merged: JsonDict = request.args.to_dict()
            if not request.is_json:  # a JSON body has no form fields: parsing for them costs a request's tenth
                merged.update(request.form.to_dict())
            body = request.get_json(silent=True) if request.is_json else None
            if isinstance(body, dict):
                merged.update(body)
            for key in ("content_attributes", "template_params", "custom_attributes",
                        "additional_attributes"):
                if isinstance(merged.get(key), str):  # multipart sends JSON as a string (safe_parse_json)
                    try:
                        merged[key] = json.loads(merged[key])
                    except ValueError:
                        merged[key] = {}
            return merged

        def authenticate(account_id: int | None, *, bot_ok: bool = False) -> Actor:
            actor = state.actor_for(request.headers.get("api_access_token"))
            if actor is None:
                raise ApiError(401, dict(SIGN_IN_ERROR))
            if actor.kind == "agent_bot" and not bot_ok:
                raise ApiError(401, dict(BOT_FORBIDDEN_ERROR))
            if account_id is not None:
                state.account(account_id)
                if not state.can_access_account(actor, account_id):
                    raise ApiError(401, dict(ACCOUNT_FORBIDDEN_ERROR))
            return actor

        def require_admin(actor: Actor, account_id: int) -> None:
            if not state.is_admin(actor, account_id):
                raise ApiError(401, dict(NOT_AUTHORIZED_ERROR))

        acct = "/api/v1/accounts/<int:aid>"
        conv_url = acct + "/conversations/<int:cid>"

        # -------- profile
        @app.get("/api/v1/profile")
        def profile() -> Response:
            with state.lock:
                actor = authenticate(None)
                return jsonify(state.user_json(state.users[actor.id]))

        # -------- contacts
        @app.post(acct + "/contact_inboxes/filter")
        def contact_inbox_filter(aid: int) -> Response:
            with state.lock:
                authenticate(aid)
                p = params()
                contact = state.filter_contact_inbox(aid, p.get("inbox_id"), p.get("source_id"))
                if contact is None:
                    return Response(status=404)  # head :not_found
                return jsonify(state.contact_json(contact))

        @app.post(acct + "/contacts")
        def contact_create(aid: int) -> Response:
            with state.lock:
                authenticate(aid)
                contact, ci = state.create_contact(aid, params())
                link = {"inbox": state.inbox_row(state.inboxes[ci["inbox_id"]]) if ci else None,
                        "source_id": ci["source_id"] if ci else None}
                return jsonify({"payload": {"contact": state.contact_json(contact), "contact_inbox": link}})

        @app.get(acct + "/contacts/search")
        def contact_search(aid: int) -> Response:
            with state.lock:
                authenticate(aid)
                query = request.args.get("q", "")
                if not query.strip():
                    raise ApiError(422, {"error": "Specify search string with parameter q"})
                page = max(to_int(request.args.get("page")) or 1, 1)
                with_inboxes = request.args.get("include_contact_inboxes", "true") != "false"
                found = state.search_contacts(aid, query)
                chunk = found[(page - 1) * SEARCH_PAGE_SIZE: page * SEARCH_PAGE_SIZE]
                return jsonify({
                    "meta": {"count": len(found), "current_page": page,
                             "has_more": page * SEARCH_PAGE_SIZE < len(found)},
                    "payload": [state.contact_json(c, with_contact_inboxes=with_inboxes) for c in chunk]})

        @app.get(acct + "/contacts/<int:contact_id>")
        def contact_show(aid: int, contact_id: int) -> Response:
            with state.lock:
                authenticate(aid)
                return jsonify({"payload": state.contact_json(state.contact(aid, contact_id))})

        @app.route(acct + "/contacts/<int:contact_id>", methods=["PATCH", "PUT"])
        def contact_update(aid: int, contact_id: int) -> Response:
            with state.lock:
                authenticate(aid)
                contact = state.update_contact(aid, contact_id, params())
                return jsonify({"payload": state.contact_json(contact)})

        @app.post(acct + "/contacts/<int:contact_id>/contact_inboxes")
        def contact_inbox_create(aid: int, contact_id: int) -> Response:
            with state.lock:
                authenticate(aid)
                p = params()
                contact = state.contact(aid, contact_id)
                inbox = state.inbox(aid, p.get("inbox_id"))
                ci = state.build_contact_inbox(contact, inbox, p.get("source_id"))
                return jsonify(state.contact_inbox_json(ci))

        @app.get(acct + "/contacts/<int:contact_id>/conversations")
        def contact_conversations(aid: int, contact_id: int) -> Response:
            with state.lock:
                authenticate(aid)
                convs = state.contact_conversations(aid, contact_id)
                return jsonify({"payload": [state.conversation_rest(c) for c in convs]})

        # -------- conversations
        @app.post(acct + "/conversations")
        def conversation_create(aid: int) -> Response:
            with state.lock:
                actor = authenticate(aid, bot_ok=True)
                p = params()
                conv, created = state.create_conversation(aid, p)
                outbounds = state.conversation_event("conversation_created", conv) if created else []
                if created and isinstance(p.get("message"), dict):
                    _, more = state.create_message(aid, conv["id"], p["message"], [], actor)
                    outbounds += more
                response = jsonify(state.conversation_rest(conv))
            self._enqueue(outbounds)
            return response

        @app.get(conv_url)
        def conversation_show(aid: int, cid: int) -> Response:
            with state.lock:
                authenticate(aid, bot_ok=True)
                return jsonify(state.conversation_rest(state.conversation(aid, cid)))

        @app.post(conv_url + "/toggle_status")
        def conversation_toggle_status(aid: int, cid: int) -> Response:
            with state.lock:
                authenticate(aid, bot_ok=True)
                p = params()
                conv = state.conversation(aid, cid)
                outbounds = state.toggle_status(conv, p.get("status"), p.get("snoozed_until"))
                response = jsonify({"meta": {}, "payload": {
                    "success": True, "conversation_id": conv["id"], "current_status": conv["status"],
                    "snoozed_until": conv["snoozed_until"]}})
            self._enqueue(outbounds)
            return response

        @app.post(conv_url + "/toggle_typing_status")
        def conversation_typing(aid: int, cid: int) -> Response:
            with state.lock:
                actor = authenticate(aid, bot_ok=True)
                p = params()
                conv = state.conversation(aid, cid)
                outbounds = state.typing_event(conv, actor, p.get("typing_status") == "on",
                                               to_bool(p.get("is_private", False)))
            self._enqueue(outbounds)
            return Response(status=200)

        @app.post(conv_url + "/custom_attributes")
        def conversation_custom_attributes(aid: int, cid: int) -> Response:
            with state.lock:
                authenticate(aid, bot_ok=True)
                conv = state.conversation(aid, cid)
                outbounds = state.set_custom_attributes(conv, params().get("custom_attributes"))
                response = jsonify({"custom_attributes": conv["custom_attributes"]})
            self._enqueue(outbounds)
            return response

        @app.route(conv_url + "/labels", methods=["GET", "POST"])
        def conversation_labels(aid: int, cid: int) -> Response:
            with state.lock:
                authenticate(aid, bot_ok=True)
                conv = state.conversation(aid, cid)
                outbounds = []
                if request.method == "POST":
                    outbounds = state.set_labels(conv, params().get("labels") or [])
                response = jsonify({"payload": list(conv["labels"])})
            self._enqueue(outbounds)
            return response

        # -------- messages
        @app.get(conv_url + "/messages")
        def message_index(aid: int, cid: int) -> Response:
            with state.lock:
                authenticate(aid)
                conv = state.conversation(aid, cid)
                contact = state.contact_push(state.contacts[conv["contact_id"]])
                rows = [state.message_rest(m) for m in state.conversation_messages(conv)]
                return jsonify({"meta": {"contact": contact}, "payload": rows})

        @app.post(conv_url + "/messages")
        def message_create(aid: int, cid: int) -> Response:
            files = [(f.filename or "file", f.read(), f.mimetype or "application/octet-stream")
                     for key in ("attachments[]", "attachments") for f in request.files.getlist(key)
                     ] if not request.is_json else []  # fmt: skip
            with state.lock:
                actor = authenticate(aid, bot_ok=True)
                message, outbounds = state.create_message(aid, cid, params(), files, actor)
                response = jsonify(state.message_rest(message))
            self._enqueue(outbounds)
            return response

        @app.route(conv_url + "/messages/<int:mid>", methods=["PATCH", "PUT"])
        def message_update(aid: int, cid: int, mid: int) -> Response:
            with state.lock:
                authenticate(aid)
                p = params()
                message = state.find_message(aid, cid, mid)
                outbounds = state.update_message_status(message, p.get("status"), p.get("external_error"))
                response = jsonify(state.message_rest(message))
            self._enqueue(outbounds)
            return response

        # -------- inboxes and agent bots
        @app.get(acct + "/inboxes")
        def inbox_index(aid: int) -> Response:
            with state.lock:
                actor = authenticate(aid)
                admin = state.is_admin(actor, aid)
                inboxes = [i for i in state.inboxes.values() if i["account_id"] == aid]
                return jsonify({"payload": [state.inbox_json(i, admin=admin) for i in inboxes]})

        @app.get(acct + "/inboxes/<int:inbox_id>")
        def inbox_show(aid: int, inbox_id: int) -> Response:
            with state.lock:
                actor = authenticate(aid)
                return jsonify(state.inbox_json(state.inbox(aid, inbox_id), admin=state.is_admin(actor, aid)))

        @app.post(acct + "/inboxes")
        def inbox_create(aid: int) -> Response:
            with state.lock:
                require_admin(authenticate(aid), aid)
                return jsonify(state.inbox_json(state.create_inbox(aid, params()), admin=True))

        @app.route(acct + "/inboxes/<int:inbox_id>", methods=["PATCH", "PUT"])
        def inbox_update(aid: int, inbox_id: int) -> Response:
            with state.lock:
                require_admin(authenticate(aid), aid)
                return jsonify(state.inbox_json(state.update_inbox(aid, inbox_id, params()), admin=True))

        @app.post(acct + "/inboxes/<int:inbox_id>/reset_secret")
        def inbox_reset_secret(aid: int, inbox_id: int) -> Response:
            with state.lock:
                require_admin(authenticate(aid), aid)
                inbox = state.inbox(aid, inbox_id)
                inbox["secret"] = secrets.token_urlsafe(18)
                return jsonify(state.inbox_json(inbox, admin=True))

        @app.post(acct + "/inboxes/<int:inbox_id>/set_agent_bot")
        def inbox_set_agent_bot(aid: int, inbox_id: int) -> Response:
            with state.lock:
                require_admin(authenticate(aid), aid)
                inbox = state.inbox(aid, inbox_id)
                bot_id = params().get("agent_bot")
                inbox["agent_bot_id"] = None if bot_id in (None, "") else state.agent_bot(aid, bot_id)["id"]
                return Response(status=200)

        @app.get(acct + "/inboxes/<int:inbox_id>/agent_bot")
        def inbox_agent_bot(aid: int, inbox_id: int) -> Response:
            with state.lock:
                actor = authenticate(aid)
                bot_id = state.inbox(aid, inbox_id)["agent_bot_id"]
                bot = state.agent_bots.get(bot_id) if bot_id is not None else None
                admin = state.is_admin(actor, aid)
                return jsonify({"agent_bot": state.bot_json(bot, admin=admin) if bot else None})

        @app.get(acct + "/agent_bots")
        def agent_bot_index(aid: int) -> Response:
            with state.lock:
                actor = authenticate(aid)
                bots = [b for b in state.agent_bots.values() if b["account_id"] in (None, aid)]
                return jsonify([state.bot_json(b, admin=state.is_admin(actor, aid)) for b in bots])

        # -------- dashboard apps
        @app.route(acct + "/dashboard_apps", methods=["GET", "POST"])
        def dashboard_apps(aid: int) -> Response:
            with state.lock:
                authenticate(aid)
                if request.method == "POST":
                    return jsonify(state.dashboard_app_json(state.save_dashboard_app(aid, params())))
                apps = [a for a in state.dashboard_apps.values() if a["account_id"] == aid]
                return jsonify([state.dashboard_app_json(a) for a in apps])

        @app.route(acct + "/dashboard_apps/<int:app_id>", methods=["GET", "PATCH", "PUT", "DELETE"])
        def dashboard_app(aid: int, app_id: int) -> Response:
            with state.lock:
                authenticate(aid)
                found = state.dashboard_app(aid, app_id)
                if request.method == "DELETE":
                    del state.dashboard_apps[app_id]
                    return Response(status=200)
                if request.method in ("PATCH", "PUT"):
                    found = state.save_dashboard_app(aid, params(), found)
                return jsonify(state.dashboard_app_json(found))

        # -------- ActiveStorage look-alike
        @app.get("/rails/active_storage/blobs/redirect/<key>/<path:filename>")
        @app.get("/rails/active_storage/representations/redirect/<key>/<path:filename>")
        def blob_redirect(key: str, filename: str) -> Response:
            with state.lock:
                if key not in state.blobs:
                    raise not_found()
            return Response(status=302, headers={"Location": f"{self.base_url}/blobs/{key}"})

        @app.get("/blobs/<key>")
        def blob_data(key: str) -> Response:
            with state.lock:
                if key not in state.blobs:
                    raise not_found()
                att = state.attachments[state.blobs[key]]
                data, mime, filename = att["data"], att["content_type"], att["url_filename"]
            return Response(data, mimetype=mime,
                            headers={"Content-Disposition": f"inline; filename*=UTF-8''{filename}"})

        # -------- simulator controls (for a person playing the agent)
        @app.post("/_sim/agent_reply")
        def sim_agent_reply() -> Response:
            body = request.get_json(silent=True) or {}
            try:
                message, status = self.agent_reply(
                    int(body.get("account_id", 1)), int(body["conversation_id"]), body.get("content"),
                    private=bool(body.get("private", False)), sender=str(body.get("sender", "user")))
            except (KeyError, ValueError, ApiError) as exc:
                failure = jsonify({"error": str(exc)})
                failure.status_code = 422
                return failure
            return jsonify({"message": message, "webhook_status": status})

        @app.post("/_sim/set_status")
        def sim_set_status() -> Response:
            body = request.get_json(silent=True) or {}
            account_id, display_id = int(body.get("account_id", 1)), int(body["conversation_id"])
            status = self.set_status(account_id, display_id, str(body["status"]))
            return jsonify({"webhook_status": status})

        @app.get("/_sim/conversations")
        def sim_conversations() -> Response:
            with state.lock:
                return jsonify([{**state.conversation_rest(c), "all_messages": [
                    state.message_rest(m) for m in state.conversation_messages(c)]}
                    for c in state.conversations.values()])

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
    print(f'play the agent: curl -X POST {sim.base_url}/_sim/agent_reply -H "Content-Type: application/json" '
          '-d \'{"conversation_id": 1, "content": "Hello from the agent"}\'', flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
