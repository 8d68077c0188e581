"""A Meta Graph API (WhatsApp Cloud API) simulator: a real HTTP server on a loopback port.

It implements the slice of the Graph API the adapter uses (send, media, templates, phone numbers,
onboarding), validates requests the way Meta does and answers Meta's error bodies, records everything
it receives, and can act as Meta's webhook sender (signed with ``X-Hub-Signature-256``).

In tests::

    sim = GraphSimulator(app_secret="s3cret").start()
    sim.add_phone_number("PNID1", display_phone_number="15550001111", waba_id="WABA1", access_token="tok")
    sim.webhook_url = "http://127.0.0.1:8080/webhooks/meta"
    ...  # point the adapter at sim.base_url (it appends /v25.0)
    sim.stop()

Standalone (serves forever, prints its base URL)::

    python -m tests.simulators.graph --port 9001 --webhook-url http://127.0.0.1:8080/webhooks/meta \\
        --app-secret X

Simulator-only control endpoints (no auth, never recorded, standalone use):

- ``POST /_sim/inbound {"phone_number_id","wa_id","name","text"}`` posts a signed inbound text webhook
  to ``webhook_url``; answers ``{"wamid","webhook_status"}``.
- ``POST /_sim/status {"wamid","status"}`` posts a status webhook for a message sent earlier.
- ``GET /_sim/state`` lists sent messages, read receipts and uploads (without the bytes).

Behaviour worth knowing (all modelled on Meta):

- Only the configured version prefix is served; any other path answers code 2500 "Unknown path components".
- A token unknown to the simulator, or one that does not belong to the addressed phone number / WABA
  (tokens of any number of a WABA are valid for the whole WABA), answers HTTP 401 code 190.
- Template sends are checked against the WABA's templates: unknown or not APPROVED → 132001, PAUSED →
  132015, DISABLED → 132016, wrong body/header parameter count → 132000. Set ``strict_templates = False``
  to accept any template send.
- ``reset()`` clears records (sends, uploads, read receipts, logs, webhooks), queued failures and the
  delay; phone numbers, templates, inbound media and signup codes stay.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask, Request, Response, request

from adapter.meta.signature import HEADER as SIGNATURE_HEADER
from adapter.meta.signature import generate_signature
from tests.simulators import meta_payloads as mp
from tests.simulators.graph_pricing import Priced, PricingModel
from tests.simulators.graph_template_rules import refusal_of
from tests.simulators.http_server import SimulatorServer

# --- Meta constants ------------------------------------------------------------------------------

MESSAGE_TYPES = (
    "text", "image", "video", "audio", "document", "sticker",
    "location", "contacts", "interactive", "template", "reaction",
)  # fmt: skip
MEDIA_MESSAGE_TYPES = ("image", "video", "audio", "document", "sticker")

_MB = 1024 * 1024
AUDIO_TYPES = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")
DOCUMENT_TYPES = (
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
IMAGE_TYPES = ("image/jpeg", "image/png")
STICKER_TYPES = ("image/webp",)
VIDEO_TYPES = ("video/mp4", "video/3gpp")
SUPPORTED_MEDIA_TYPES = AUDIO_TYPES + DOCUMENT_TYPES + IMAGE_TYPES + STICKER_TYPES + VIDEO_TYPES

#: Which uploaded MIME types each media message type accepts (documents take any supported type).
SEND_TYPE_MIMES: dict[str, tuple[str, ...]] = {
    "image": IMAGE_TYPES,
    "video": VIDEO_TYPES,
    "audio": AUDIO_TYPES,
    "sticker": STICKER_TYPES,
    "document": SUPPORTED_MEDIA_TYPES,
}

TEMPLATE_CATEGORIES = ("AUTHENTICATION", "MARKETING", "UTILITY")
TEMPLATE_EDITABLE_STATUSES = ("APPROVED", "REJECTED", "PAUSED")
TEMPLATE_DEFAULT_FIELDS = ("name", "parameter_format", "components", "language", "status", "category", "id")
TEMPLATE_KNOWN_FIELDS = frozenset(
    TEMPLATE_DEFAULT_FIELDS
    + (
        "sub_category", "rejected_reason", "quality_score", "correct_category", "previous_category",
        "message_send_ttl_seconds", "cta_url_link_tracking_opted_out", "library_template_name",
    )
)  # fmt: skip
TEMPLATE_NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
DEFAULT_TEMPLATE_LIMIT = 25
DEFAULT_PHONE_NUMBER_LIMIT = 25

PHONE_FIELDS = (
    "id", "display_phone_number", "verified_name", "code_verification_status", "quality_rating",
    "name_status", "status", "platform_type", "throughput", "messaging_limit_tier",
)  # fmt: skip
PHONE_DEFAULT_FIELDS = (
    "verified_name", "code_verification_status", "display_phone_number", "quality_rating",
    "platform_type", "throughput", "id",
)  # fmt: skip
#: Real Graph fields the simulator does not model: asking for them is fine, they are just absent.
PHONE_UNMODELLED_FIELDS = frozenset(
    (
        "new_name_status", "webhook_configuration", "is_official_business_account", "account_mode",
        "health_status", "last_onboarded_time", "whatsapp_business_manager_messaging_limit",
        "is_pin_enabled", "search_visibility", "certificate", "eligibility_for_api_business_global_search",
    )
)  # fmt: skip

UNKNOWN_OBJECT = (
    "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing "
    "permissions, or does not support this operation. Please read the Graph API documentation at "
    "https://developers.facebook.com/docs/graph-api"
)
ALL_METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH"]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _base_mime(mime: str) -> str:
    return mime.split(";", 1)[0].strip().lower()


def _size_limit(mime: str) -> int:
    base = _base_mime(mime)
    if base in STICKER_TYPES:
        return 500 * 1024
    if base in IMAGE_TYPES:
        return 5 * _MB
    if base in DOCUMENT_TYPES:
        return 100 * _MB
    return 16 * _MB  # audio, video


def _fbtrace_id() -> str:
    return secrets.token_urlsafe(17)[:23]


def _json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class GraphError(Exception):
    """Raised inside handlers; turned into Meta's error body."""

    def __init__(
        self,
        code: int,
        title: str,
        details: str | None = None,
        *,
        http_status: int = 400,
        message: str | None = None,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        with_data: bool = True,
        user_title: str | None = None,
        user_msg: str | None = None,
    ) -> None:
        super().__init__(title)
        self.code = code
        self.title = title
        self.details = details
        self.http_status = http_status
        self.message = message
        self.error_type = error_type
        self.subcode = subcode
        self.with_data = with_data
        self.user_title, self.user_msg = user_title, user_msg

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {
            "message": self.message or f"(#{self.code}) {self.title}",
            "type": self.error_type,
            "code": self.code,
        }
        if self.with_data:
            err["error_data"] = {"messaging_product": "whatsapp", "details": self.details or self.title}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        if self.user_title:
            err["error_user_title"], err["error_user_msg"] = self.user_title, self.user_msg or ""
        err["fbtrace_id"] = _fbtrace_id()
        return {"error": err}

    def response(self) -> Response:
        return _json_response(self.body(), self.http_status)


def _invalid(details: str) -> GraphError:
    return GraphError(100, "Invalid parameter", details)


def _not_valid(details: str) -> GraphError:
    return GraphError(131009, "Parameter value is not valid", details)


def _missing(details: str) -> GraphError:
    return GraphError(131008, "Required parameter is missing", details)


def _auth_error() -> GraphError:
    return GraphError(
        190,
        "Invalid OAuth access token",
        message="Invalid OAuth access token - Cannot parse access token",
        http_status=401,
        with_data=False,
    )


def _unknown_object(method: str, object_id: str) -> GraphError:
    return GraphError(
        100,
        "Unsupported request",
        message=UNKNOWN_OBJECT.format(method=method.lower(), id=object_id),
        error_type="GraphMethodException",
        subcode=33,
        with_data=False,
    )


@dataclass
class _Failure:
    remaining: int
    http_status: int
    code: int
    title: str
    details: str
    path_contains: str
    processed: bool


class GraphSimulator:
    """The simulator. See the module docstring; everything public is thread-safe enough for tests."""

    def __init__(
        self,
        *,
        app_secret: str = "app-secret",
        version: str = "v25.0",
        host: str = "127.0.0.1",
        port: int = 0,
        quiet: bool = True,
    ) -> None:
        self.app_secret = app_secret
        self.version = version
        self.webhook_url: str | None = None
        self.strict_templates = True
        self.phone_number_page_size = DEFAULT_PHONE_NUMBER_LIMIT  # GET /{waba}/phone_numbers without `limit`
        self.webhook_timeout = 10.0

        self.phone_numbers: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.sent_messages: list[dict[str, Any]] = []
        self.read_receipts: list[dict[str, Any]] = []
        self.uploads: dict[str, dict[str, Any]] = {}
        self.requests_log: list[dict[str, Any]] = []
        self.webhooks_sent: list[dict[str, Any]] = []
        self.subscribed_apps: dict[str, dict[str, Any]] = {}  # waba_id -> subscription body

        self._host = host
        self._port = port
        self._quiet = quiet
        self._lock = threading.RLock()
        self._ids = itertools.count(int(time.time()) * 1000)
        self._numbers: dict[str, dict[str, Any]] = {}  # private per-number state: token, waba, codes
        self._template_waba: dict[str, str] = {}
        self._inbound_media: dict[str, dict[str, Any]] = {}
        self._by_wamid: dict[str, dict[str, Any]] = {}
        self._signup_codes: dict[str, str] = {}
        self._empty_wabas: dict[str, str] = {}  # waba id -> its token, for WABAs with no number yet
        self._used_codes: set[str] = set()
        self._failures: list[_Failure] = []
        self._delay = 0.0
        self._pricing = PricingModel()
        self._priced: dict[str, Priced] = {}  # wamid -> its price, decided when it was sent
        self._server: SimulatorServer | None = None
        self._base_url: str | None = None
        self.app = self._build_app()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> GraphSimulator:
        """Bind, serve in a daemon thread and return once the socket accepts connections."""
        if self._server is not None:
            return self
        self._server = SimulatorServer(self._host, self._port, self.app, name="graph-simulator",
                                       log_requests=not self._quiet)  # fmt: skip
        self._base_url = f"http://{self._host}:{self._server.port}"
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        self._server = None

    def __enter__(self) -> GraphSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no version; clients append ``/v25.0``)."""
        if self._base_url is None:
            raise RuntimeError("GraphSimulator is not started")
        return self._base_url

    @property
    def graph_url(self) -> str:
        """``base_url`` plus the version prefix."""
        return f"{self.base_url}/{self.version}"

    # --- configuration helpers ------------------------------------------------------------------

    def _new_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    def add_phone_number(
        self,
        phone_number_id: str,
        *,
        display_phone_number: str,
        waba_id: str,
        access_token: str,
        verified_name: str = "Acme Support",
        registered: bool = True,
        name_status: str = "PENDING_REVIEW",
    ) -> None:
        """Register a business number; its token is valid for every number and the templates of its WABA.

        ``registered=False`` starts it unregistered (sends answer 133010 until ``/register``). Like a new
        number at Meta, its display name starts under review (it does not stop messages).
        """
        with self._lock:
            self.phone_numbers[phone_number_id] = {
                "id": phone_number_id,
                "display_phone_number": display_phone_number,
                "verified_name": verified_name,
                "code_verification_status": "VERIFIED",
                "quality_rating": "GREEN",
                "name_status": name_status,
                "status": "CONNECTED" if registered else "PENDING",
                "platform_type": "CLOUD_API" if registered else "NOT_APPLICABLE",
                "throughput": {"level": "STANDARD"},
                "messaging_limit_tier": "TIER_1K",
            }
            self._numbers[phone_number_id] = {
                "access_token": access_token,
                "waba_id": waba_id,
                "registered": registered,
                "registered_elsewhere": False,
                "verification_code": None,
                "pin": None,
            }

    def mark_registered_elsewhere(self, phone_number_id: str) -> None:
        """``/register`` for this number will answer code 100 "already registered on WhatsApp"."""
        with self._lock:
            self._numbers[phone_number_id]["registered_elsewhere"] = True

    def last_verification_code(self, phone_number_id: str) -> str | None:
        """The 6-digit code the last ``request_code`` "sent" by SMS/voice."""
        with self._lock:
            code = self._numbers[phone_number_id]["verification_code"]
            return str(code) if code is not None else None

    def is_registered(self, phone_number_id: str) -> bool:
        with self._lock:
            return bool(self._numbers[phone_number_id]["registered"])

    def clear_templates(self) -> None:
        """Forget every template (reset() keeps them, like the numbers)."""
        with self._lock:
            self.templates.clear()
            self._template_waba.clear()

    def add_waba(self, waba_id: str, *, access_token: str) -> None:
        """A WhatsApp Business Account with no number yet (Embedded Signup's FINISH_ONLY_WABA)."""
        with self._lock:
            self._empty_wabas[waba_id] = access_token

    def add_signup_code(self, code: str, access_token: str) -> None:
        """An Embedded Signup code that ``oauth/access_token`` exchanges (once) for ``access_token``."""
        with self._lock:
            self._signup_codes[code] = access_token
            self._used_codes.discard(code)

    def add_media(self, content: bytes, mime_type: str, *, media_id: str | None = None) -> str:
        """Media a customer sent (referenced by inbound webhooks); downloadable with any known token."""
        media_id = media_id or self._new_id()
        with self._lock:
            self._inbound_media[media_id] = {"content": content, "mime_type": mime_type, "filename": None}
        return media_id

    def add_template(self, waba_id: str, template: dict[str, Any]) -> str:
        """Add a template to a WABA (status APPROVED unless given); returns its id."""
        tpl = dict(template)
        template_id = str(tpl.pop("id", None) or self._new_id())
        tpl.setdefault("status", "APPROVED")
        tpl.setdefault("parameter_format", "POSITIONAL")
        tpl.setdefault("components", [])
        with self._lock:
            self.templates[template_id] = {"id": template_id, **tpl}
            self._template_waba[template_id] = waba_id
        return template_id

    def set_template_status(
        self, template_id: str, status: str, *, reason: str | None = None, notify: bool = False
    ) -> None:
        """Change a template's status (``reason`` → ``rejected_reason``).

        ``notify=True`` also posts a ``message_template_status_update`` webhook to ``webhook_url``.
        """
        with self._lock:
            tpl = self.templates[template_id]
            tpl["status"] = status
            if reason is not None:
                tpl["rejected_reason"] = reason
            waba_id = self._template_waba[template_id]
        if notify:
            change = mp.template_status_update(
                template_id, tpl["name"], tpl.get("language", ""), status,
                reason=reason or "NONE", category=tpl.get("category"),
            )  # fmt: skip
            self.post_webhook(mp.envelope(waba_id, [change], time=int(time.time())))

    # --- records and fault injection --------------------------------------------------------------

    def sends_by_key(self) -> dict[str, int]:
        """How many accepted ``/messages`` sends carried each ``biz_opaque_callback_data``."""
        with self._lock:
            counts = collections.Counter(
                m["idempotency_key"] for m in self.sent_messages if m["idempotency_key"] is not None
            )
        return dict(counts)

    def fail_next(
        self,
        count: int,
        *,
        http_status: int = 500,
        code: int = 131000,
        title: str = "Something went wrong",
        details: str = "",
        path_contains: str = "/messages",
        processed: bool = False,
    ) -> None:
        """The next ``count`` requests whose path contains ``path_contains`` answer this error.

        ``processed=True`` handles the request normally first (a send is recorded) and then answers the
        error anyway: the "Meta accepted it but the response was lost" case.
        """
        with self._lock:
            self._failures.append(
                _Failure(count, http_status, code, title, details, path_contains, processed)
            )

    def set_delay(self, seconds: float) -> None:
        """Every Graph request sleeps this long before being handled."""
        with self._lock:
            self._delay = seconds

    def reset(self) -> None:
        """Clear records, queued failures and the delay; keep numbers, templates, media, signup codes."""
        with self._lock:
            self.sent_messages.clear()
            self.read_receipts.clear()
            self.uploads.clear()
            self.requests_log.clear()
            self.webhooks_sent.clear()
            self._by_wamid.clear()
            self._priced.clear()
            self._failures.clear()
            self._delay = 0.0
        self._pricing.reset()

    # --- webhooks (simulator → adapter) -----------------------------------------------------------

    def post_webhook(self, payload: dict[str, Any], *, signature: str | None = None) -> requests.Response:
        """POST ``payload`` to ``webhook_url`` serialized like Meta (ASCII-escaped, compact) and signed."""
        if not self.webhook_url:
            raise RuntimeError("GraphSimulator.webhook_url is not set")
        self._pricing.observe_webhook(payload)
        body = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: generate_signature(self.app_secret, body) if signature is None else signature,
        }
        resp = requests.post(self.webhook_url, data=body, headers=headers, timeout=self.webhook_timeout)
        with self._lock:
            self.webhooks_sent.append({"payload": payload, "status_code": resp.status_code})
        return resp

    def deliver_status(
        self,
        wamid: str,
        status: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        timestamp: int | None = None,
    ) -> requests.Response:
        """Post a ``statuses`` webhook for a message the adapter sent (looked up by wamid)."""
        with self._lock:
            sent = self._by_wamid.get(wamid)
            if sent is None:
                raise KeyError(f"no sent message with wamid {wamid!r}")
            pnid = sent["phone_number_id"]
            body = sent["body"]
            display = self.phone_numbers[pnid]["display_phone_number"]
            waba_id = self._numbers[pnid]["waba_id"]
            priced = self._pricing.carry(self._priced[wamid], status)
        item = mp.status(
            wamid,
            status,
            _digits(str(body.get("to", ""))),
            timestamp if timestamp is not None else int(time.time()),
            errors,
            body.get("biz_opaque_callback_data"),
            pricing=priced.get("pricing"),
            conversation=priced.get("conversation"),
        )
        return self.post_webhook(mp.envelope(waba_id, [mp.statuses_change(pnid, display, [item])]))

    def tap(self, wamid: str, index: int, *, name: str = "Customer") -> requests.Response:
        """The customer taps button or list row `index` of the interactive message sent as `wamid`: post the
        ``button_reply`` / ``list_reply`` webhook WhatsApp sends, with that message as its context."""
        with self._lock:
            sent = self._by_wamid.get(wamid)
            if sent is None:
                raise KeyError(f"no sent message with wamid {wamid!r}")
            pnid, body = sent["phone_number_id"], sent["body"]
            display = self.phone_numbers[pnid]["display_phone_number"]
            waba_id = self._numbers[pnid]["waba_id"]
        interactive = body.get("interactive") or {}
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            reply = action["buttons"][index]["reply"]
            message = mp.interactive_button_reply(reply["id"], reply["title"], wamid, context_from=display)
        elif interactive.get("type") == "list":
            row = [r for section in action["sections"] for r in section["rows"]][index]
            message = mp.interactive_list_reply(row["id"], row["title"], row.get("description", ""), wamid,
                                                context_from=display)  # fmt: skip
        else:
            raise ValueError(f"message {wamid} has no reply buttons or list to tap")
        return self.post_webhook(mp.inbound(pnid, wa_id=_digits(str(body.get("to", ""))), name=name, message=message,
                                            display_phone_number=display, waba_id=waba_id))  # fmt: skip

    # --- HTTP plumbing ----------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.config["MAX_CONTENT_LENGTH"] = None

        def handle(path: str) -> Response:
            return self._handle(path)

        app.add_url_rule("/", "root", handle, defaults={"path": ""}, methods=ALL_METHODS)
        app.add_url_rule("/<path:path>", "any", handle, methods=ALL_METHODS)
        return app

    def _handle(self, path: str) -> Response:
        if path.startswith("_sim/"):
            return self._sim_control(path)
        self._log(request)
        with self._lock:
            delay = self._delay
        if delay > 0:
            time.sleep(delay)
        failure = self._take_failure(request.path)
        if failure is not None and not failure.processed:
            return self._failure_response(failure)
        try:
            resp = self._route(path)
        except GraphError as err:
            resp = err.response()
        if failure is not None:
            return self._failure_response(failure)
        return resp

    def _log(self, req: Request) -> None:
        entry = {
            "method": req.method,
            "path": req.path,
            "query": req.args.to_dict(flat=True),
            "json": req.get_json(silent=True),
            "headers": dict(req.headers),
        }
        with self._lock:
            self.requests_log.append(entry)

    def _take_failure(self, path: str) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.remaining > 0 and failure.path_contains in path:
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        self._failures.remove(failure)
                    return failure
        return None

    @staticmethod
    def _failure_response(f: _Failure) -> Response:
        return GraphError(f.code, f.title, f.details or f.title, http_status=f.http_status).response()

    def _token(self) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return request.args.get("access_token") or None

    def _known_tokens(self) -> set[str]:
        with self._lock:
            return {n["access_token"] for n in self._numbers.values()} | set(self._signup_codes.values())

    def _waba_tokens(self, waba_id: str) -> set[str]:
        with self._lock:
            tokens = {n["access_token"] for n in self._numbers.values() if n["waba_id"] == waba_id}
            return tokens | ({self._empty_wabas[waba_id]} if waba_id in self._empty_wabas else set())

    def _wabas(self) -> set[str]:
        with self._lock:
            return {n["waba_id"] for n in self._numbers.values()} | set(self._empty_wabas)

    def _params(self) -> dict[str, Any]:
        """Graph-style parameters: query string, then form fields, then a JSON object body."""
        params: dict[str, Any] = {k: v for k, v in request.args.items() if k != "access_token"}
        for key, val in request.form.items():
            if val[:1] in ("{", "["):
                try:
                    params[key] = json.loads(val)
                    continue
                except ValueError:
                    pass
            params[key] = val
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            params.update(body)
        return params

    def _route(self, path: str) -> Response:
        parts = [p for p in path.split("/") if p]
        method = request.method
        token = self._token()

        if len(parts) == 2 and parts[0] == "media-download" and method == "GET":
            return self._media_download(parts[1], token)
        if not parts or parts[0] != self.version:
            raise GraphError(
                2500, "Unknown path components", message=f"Unknown path components: /{path}", with_data=False
            )
        rest = parts[1:]
        if rest == ["oauth", "access_token"] and method == "GET":
            return self._oauth_access_token()
        if token is None or token not in self._known_tokens():
            raise _auth_error()
        if len(rest) == 1:
            return self._object(method, rest[0], token)
        if len(rest) == 2:
            return self._edge(method, rest[0], rest[1], token)
        raise _unknown_object(method, "/".join(rest))

    def _require(self, token: str, allowed: set[str]) -> None:
        if token not in allowed:
            raise _auth_error()

    def _object(self, method: str, object_id: str, token: str) -> Response:
        with self._lock:
            number = self._numbers.get(object_id)
            media = self.uploads.get(object_id) or self._inbound_media.get(object_id)
            template_waba = self._template_waba.get(object_id)
        if number is not None:
            self._require(token, self._waba_tokens(number["waba_id"]))
            if method == "GET":
                return self._phone_number_get(object_id)
            if method == "POST":
                return self._phone_number_update(object_id)
        elif media is not None:
            self._require(token, self._media_tokens(media))
            if method == "GET":
                return self._media_get(object_id, media)
            if method == "DELETE":
                with self._lock:
                    self.uploads.pop(object_id, None)
                    self._inbound_media.pop(object_id, None)
                return _json_response({"success": True})
        elif template_waba is not None:
            self._require(token, self._waba_tokens(template_waba))
            if method == "GET":
                return self._template_get(object_id)
            if method == "POST":
                return self._template_edit(object_id)
        raise _unknown_object(method, object_id)

    def _edge(self, method: str, object_id: str, edge: str, token: str) -> Response:
        with self._lock:
            number = self._numbers.get(object_id)
        is_waba = object_id in self._wabas()
        handler: Callable[[str], Response] | None = None
        if number is not None:
            self._require(token, self._waba_tokens(number["waba_id"]))
            handler = {
                ("POST", "messages"): self._send,
                ("POST", "media"): self._upload,
                ("POST", "request_code"): self._request_code,
                ("POST", "verify_code"): self._verify_code,
                ("POST", "register"): self._register,
                ("POST", "deregister"): self._deregister,
            }.get((method, edge))
            if handler is not None:
                return handler(object_id)
        elif is_waba:
            self._require(token, self._waba_tokens(object_id))
            handler = {
                ("GET", "message_templates"): self._templates_list,
                ("POST", "message_templates"): self._template_create,
                ("DELETE", "message_templates"): self._template_delete,
                ("GET", "phone_numbers"): self._phone_numbers_list,
                ("POST", "phone_numbers"): self._phone_number_add,
                ("GET", "subscribed_apps"): self._subscribed_apps_get,
                ("POST", "subscribed_apps"): self._subscribe,
                ("DELETE", "subscribed_apps"): self._unsubscribe,
            }.get((method, edge))
            if handler is not None:
                return handler(object_id)
        raise _unknown_object(method, object_id)

    # --- /messages ------------------------------------------------------------------------------

    def _send(self, pnid: str) -> Response:
        body = self._params()
        if body.get("messaging_product") != "whatsapp":
            raise GraphError(100, "The parameter messaging_product is required.")
        if "status" in body:
            return self._mark_read(pnid, body)
        with self._lock:
            registered = self._numbers[pnid]["registered"]
        if not registered:
            raise GraphError(
                133010,
                "Account not registered",
                "The phone number is not registered on the WhatsApp Business Platform.",
            )
        recipient_type = body.get("recipient_type", "individual")
        if recipient_type not in ("individual", "group"):
            raise _invalid("Param recipient_type must be one of {INDIVIDUAL, GROUP}")
        to = body.get("to")
        if to in (None, ""):
            raise _missing("Parameter 'to' is required")
        if not isinstance(to, str):
            raise _invalid("Param to must be a string")
        wa_id = _digits(to)
        if recipient_type == "individual":
            if re.sub(r"[\s+\-().]", "", to) != wa_id or not 5 <= len(wa_id) <= 20:
                raise GraphError(131009, "Parameter value is not valid", "Invalid 'to' parameter")
            if wa_id == _digits(self.phone_numbers[pnid]["display_phone_number"]):
                raise GraphError(131021, "Recipient cannot be sender", "Recipient phone number is the sender")
        mtype = body.get("type", "text")
        if mtype not in MESSAGE_TYPES:
            allowed = ", ".join(t.upper() for t in sorted(MESSAGE_TYPES))
            raise _invalid(f'Param type must be one of {{{allowed}}} - got "{mtype}".')
        obj = body.get(mtype)
        if obj in (None, "", [], {}):
            raise _missing(f"Parameter '{mtype}' is required")
        context = body.get("context")
        if context is not None:
            if not isinstance(context, dict) or not isinstance(context.get("message_id"), str):
                raise _invalid("Param context['message_id'] must be a string")
            if mtype == "reaction":
                raise _invalid("Reaction messages cannot be sent as a reply")
        callback = body.get("biz_opaque_callback_data")
        if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
            raise _invalid("Param biz_opaque_callback_data must be at most 512 characters long")
        self._validate_object(pnid, mtype, obj)

        wamid = mp.new_wamid()
        category = None
        if mtype == "template":
            template = self._find_template(self._numbers[pnid]["waba_id"], obj) or {}
            category = str(template.get("category") or "UTILITY")
        priced = self._pricing.price(pnid, wa_id, category, time.time())
        record = {"phone_number_id": pnid, "body": body, "wamid": wamid, "idempotency_key": callback}
        with self._lock:
            self.sent_messages.append(record)
            self._by_wamid[wamid] = record
            self._priced[wamid] = priced
        message: dict[str, Any] = {"id": wamid}
        if mtype == "template":
            message["message_status"] = "accepted"
        answer: dict[str, Any] = {"messaging_product": "whatsapp"}
        if recipient_type == "individual":
            answer["contacts"] = [{"input": to, "wa_id": wa_id}]
        answer["messages"] = [message]
        return _json_response(answer)

    def _mark_read(self, pnid: str, body: dict[str, Any]) -> Response:
        if body.get("status") != "read":
            raise _invalid("Param status must be one of {READ}")
        if not isinstance(body.get("message_id"), str) or not body["message_id"]:
            raise GraphError(100, "The parameter message_id is required.")
        typing = body.get("typing_indicator")
        if typing is not None and (not isinstance(typing, dict) or typing.get("type") != "text"):
            raise _invalid("Param typing_indicator['type'] must be one of {TEXT}")
        with self._lock:
            self.read_receipts.append(
                {"phone_number_id": pnid, "body": body, "message_id": body["message_id"]}
            )
        return _json_response({"success": True})

    @staticmethod
    def _check_len(value: Any, name: str, limit: int, *, required: bool = True, too_long: str | None = None) -> None:
        """`too_long`: Meta's 131009 details for this field, where it answers that rather than 100."""
        if value is None or value == "":
            if required:
                raise _missing(f"Parameter '{name}' is required")
            return
        if not isinstance(value, str):
            raise _invalid(f"Param {name} must be a string")
        if len(value) > limit:
            if too_long:
                raise _not_valid(too_long)
            raise _invalid(f"Param {name} must be at most {limit} characters long")

    def _validate_object(self, pnid: str, mtype: str, obj: Any) -> None:
        if mtype == "contacts":
            self._validate_contacts(obj)
            return
        if not isinstance(obj, dict):
            raise _invalid(f"Param {mtype} must be a JSON object")
        if mtype == "text":
            body = obj.get("body")
            if body is None:
                raise _missing("Parameter 'text.body' is required")
            if not isinstance(body, str) or not body:
                raise _invalid("Param text['body'] must be a non-empty string")
            if len(body) > 4096:
                raise _invalid("Param text['body'] must be at most 4096 characters long")
            if "preview_url" in obj and not isinstance(obj["preview_url"], bool):
                raise _invalid("Param text['preview_url'] must be a boolean")
        elif mtype in MEDIA_MESSAGE_TYPES:
            self._validate_media(mtype, obj)
        elif mtype == "location":
            for key in ("latitude", "longitude"):
                if obj.get(key) in (None, ""):
                    raise _missing(f"Parameter 'location.{key}' is required")
                try:
                    float(obj[key])
                except (TypeError, ValueError):
                    raise _invalid(f"Param location['{key}'] must be a number") from None
        elif mtype == "reaction":
            if not isinstance(obj.get("message_id"), str) or not obj["message_id"]:
                raise _missing("Parameter 'reaction.message_id' is required")
            if "emoji" not in obj or not isinstance(obj["emoji"], str):
                raise _missing("Parameter 'reaction.emoji' is required")
        elif mtype == "interactive":
            self._validate_interactive(obj)
        elif mtype == "template":
            self._validate_template_send(pnid, obj)

    def _validate_media(self, mtype: str, obj: dict[str, Any]) -> None:
        has_id, has_link = bool(obj.get("id")), bool(obj.get("link"))
        if not has_id and not has_link:
            raise _missing(f"Parameter '{mtype}.id' or '{mtype}.link' is required")
        if has_id and has_link:
            raise _invalid(f"Param {mtype} must contain exactly one of 'id' or 'link'")
        if mtype in ("audio", "sticker") and "caption" in obj:
            raise _invalid(f"Param {mtype}['caption'] is not supported for {mtype} messages")
        self._check_len(obj.get("caption"), f"{mtype}['caption']", 1024, required=False)
        if mtype == "document":
            self._check_len(obj.get("filename"), "document['filename']", 240, required=False)
        if has_link:
            link = obj["link"]
            if not isinstance(link, str) or not re.match(r"^https?://[^\s/]+", link):
                raise _invalid(f"Param {mtype}['link'] must be a valid http or https URL")
            return
        with self._lock:
            upload = self.uploads.get(str(obj["id"]))
        if upload is None:
            raise GraphError(131053, "Media upload error", "Unable to retrieve media")
        mime = _base_mime(upload["mime_type"])
        if mime not in SEND_TYPE_MIMES[mtype]:
            raise GraphError(
                131053, "Media upload error", f"Media of type {mime} cannot be sent as a {mtype} message"
            )

    def _validate_contacts(self, obj: Any) -> None:
        if not isinstance(obj, list) or not obj:
            raise _invalid("Param contacts must be a non-empty array")
        if len(obj) > 257:
            raise _invalid("Param contacts must contain at most 257 elements")
        for i, card in enumerate(obj):
            name = card.get("name") if isinstance(card, dict) else None
            if not isinstance(name, dict) or not name.get("formatted_name"):
                raise _missing(f"Parameter 'contacts[{i}].name.formatted_name' is required")

    def _validate_interactive(self, obj: dict[str, Any]) -> None:
        """Meta's answers to interactive sends. Counts and title lengths are refused with 131009 "Parameter
        value is not valid" and these details, as live Graph answers them (seen in integrators' logs and
        tests): "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3", "Button title length
        invalid. Min length: 1, Max length: 20", "Total row count exceed max allowed count: 10", "Row title is
        too long. Max length is 24". The row description's and unique row ids' details are modelled on those.
        Other shapes and lengths answer 100 "Invalid parameter"."""
        itype = obj.get("type")
        if not itype:
            raise _missing("Parameter 'interactive.type' is required")
        action = obj.get("action")
        if not isinstance(action, dict):
            raise _missing("Parameter 'interactive.action' is required")
        body: dict[str, Any] = obj["body"] if isinstance(obj.get("body"), dict) else {}
        footer: dict[str, Any] = obj["footer"] if isinstance(obj.get("footer"), dict) else {}
        self._check_len(footer.get("text"), "interactive['footer']['text']", 60, required=False)
        if itype in ("button", "cta_url"):
            self._validate_interactive_header(obj.get("header"))
        if itype == "button":
            self._check_len(body.get("text"), "interactive['body']['text']", 1024)
            buttons = action.get("buttons")
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
                raise _not_valid("Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3")
            ids, titles = set(), set()
            for i, btn in enumerate(buttons):
                reply = btn.get("reply") if isinstance(btn, dict) else None
                if not isinstance(reply, dict) or btn.get("type") != "reply":
                    raise _invalid(f"Param interactive['action']['buttons'][{i}] must be a reply button")
                self._check_len(reply.get("id"), f"interactive['action']['buttons'][{i}]['reply']['id']", 256)
                title = reply.get("title")
                if not isinstance(title, str) or not 1 <= len(title) <= 20:
                    raise _not_valid("Button title length invalid. Min length: 1, Max length: 20")
                if reply["id"] in ids or title in titles:
                    raise _not_valid("Buttons must have unique ids and titles")
                ids.add(reply["id"])
                titles.add(title)
        elif itype == "list":
            self._check_len(body.get("text"), "interactive['body']['text']", 4096)
            header = obj.get("header")
            if isinstance(header, dict):
                if header.get("type", "text") != "text":
                    raise _invalid("Param interactive['header']['type'] must be text for list messages")
                self._check_len(header.get("text"), "interactive['header']['text']", 60)
            self._check_len(action.get("button"), "interactive['action']['button']", 20)
            sections = action.get("sections")
            if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
                raise _invalid("Param interactive['action']['sections'] must contain 1 to 10 elements")
            rows = [row for sec in sections if isinstance(sec, dict) for row in sec.get("rows") or []]
            if not 1 <= len(rows) <= 10:
                raise _not_valid("Total row count exceed max allowed count: 10")
            for sec in sections:
                if len(sections) > 1 or sec.get("title"):
                    self._check_len(sec.get("title"), "interactive['action']['sections']['title']", 24)
            row_ids: set[str] = set()
            for row in rows:
                self._check_len(row.get("id"), "interactive['action']['sections']['rows']['id']", 200)
                self._check_len(row.get("title"), "interactive['action']['sections']['rows']['title']", 24,
                                too_long="Row title is too long. Max length is 24")  # fmt: skip
                self._check_len(row.get("description"), "interactive['action']['sections']['rows']['description']", 72,
                                required=False, too_long="Row description is too long. Max length is 72")  # fmt: skip
                if row["id"] in row_ids:
                    raise _not_valid("Row ids must be unique")
                row_ids.add(row["id"])
        elif itype == "cta_url":
            self._check_len(body.get("text"), "interactive['body']['text']", 1024)
            params = action.get("parameters")
            if action.get("name") != "cta_url" or not isinstance(params, dict):
                raise _missing("Parameter 'interactive.action.parameters' is required")
            self._check_len(
                params.get("display_text"), "interactive['action']['parameters']['display_text']", 20
            )
            self._check_len(params.get("url"), "interactive['action']['parameters']['url']", 2000)
            if not re.match(r"^https?://[^\s/]+", str(params["url"])):
                raise _invalid("Param interactive['action']['parameters']['url'] must be a valid http or https URL")
        elif itype not in (
            "product", "product_list", "catalog_message", "flow", "location_request_message",
            "address_message", "voice_call", "call_permission_request",
        ):  # fmt: skip
            raise _invalid(f"Param interactive['type'] is not a valid interactive message type: {itype}")

    def _validate_interactive_header(self, header: Any) -> None:
        """Reply buttons and URL buttons take a text or a media header (id or link, as a media message)."""
        if header is None:
            return
        kind = header.get("type") if isinstance(header, dict) else None
        if kind == "text":
            self._check_len(header.get("text"), "interactive['header']['text']", 60)
        elif kind in ("image", "video", "document"):
            media = header.get(kind)
            if not isinstance(media, dict):
                raise _missing(f"Parameter 'interactive.header.{kind}' is required")
            self._validate_media(kind, {k: v for k, v in media.items() if k in ("id", "link", "filename")})
        else:
            raise _invalid("Param interactive['header']['type'] must be one of {TEXT, IMAGE, VIDEO, DOCUMENT}")

    def _find_template(self, waba_id: str, obj: dict[str, Any]) -> dict[str, Any] | None:
        name = obj.get("name")
        lang = (obj.get("language") or {}).get("code") if isinstance(obj.get("language"), dict) else None
        with self._lock:
            for tid, tpl in self.templates.items():
                same_waba = self._template_waba[tid] == waba_id
                if same_waba and tpl.get("name") == name and tpl.get("language") == lang:
                    return tpl
        return None

    def _validate_template_send(self, pnid: str, obj: dict[str, Any]) -> None:
        if not obj.get("name"):
            raise _missing("Parameter 'template.name' is required")
        language = obj.get("language")
        if not isinstance(language, dict) or not language.get("code"):
            raise _missing("Parameter 'template.language.code' is required")
        components = obj.get("components", [])
        if not isinstance(components, list):
            raise _invalid("Param template['components'] must be an array")
        if not self.strict_templates:
            return
        name, code = obj["name"], language["code"]
        tpl = self._find_template(self._numbers[pnid]["waba_id"], obj)
        status = (tpl or {}).get("status")
        if status == "PAUSED":
            raise GraphError(132015, "Template is Paused", f"Template {name} is paused due to low quality")
        if status == "DISABLED":
            raise GraphError(132016, "Template is disabled", f"Template {name} has been disabled")
        if tpl is None or status != "APPROVED":
            raise GraphError(
                132001,
                "Template name does not exist in the translation",
                f"template name ({name}) does not exist in {code}",
                http_status=404,
            )
        named = str(tpl.get("parameter_format", "POSITIONAL")).upper() == "NAMED"
        for kind in ("header", "body"):
            expected = self._template_placeholders(tpl, kind)
            sent = [c for c in components if isinstance(c, dict) and str(c.get("type", "")).lower() == kind]
            params = [p for c in sent for p in (c.get("parameters") or [])]
            if kind == "header" and not expected and params and self._header_format(tpl) != "TEXT":
                continue  # media/location header parameters are not placeholders
            if len(params) != len(expected):
                raise GraphError(
                    132000,
                    "Number of parameters does not match the expected number of params",
                    f"{kind}: number of localizable_params ({len(params)}) does not match the expected "
                    f"number of params ({len(expected)})",
                )
            if named and {p.get("parameter_name") for p in params} != set(expected):
                raise GraphError(
                    132000,
                    "Number of parameters does not match the expected number of params",
                    f"{kind}: parameter names {sorted(str(p.get('parameter_name')) for p in params)} do not "
                    f"match the expected names {sorted(expected)}",
                )

    @staticmethod
    def _header_format(tpl: dict[str, Any]) -> str:
        for comp in tpl.get("components") or []:
            if str(comp.get("type", "")).upper() == "HEADER":
                return str(comp.get("format", "TEXT")).upper()
        return ""

    @staticmethod
    def _template_placeholders(tpl: dict[str, Any], kind: str) -> list[str]:
        for comp in tpl.get("components") or []:
            if str(comp.get("type", "")).upper() != kind.upper():
                continue
            if kind == "header" and str(comp.get("format", "TEXT")).upper() != "TEXT":
                return []
            found: list[str] = []
            for name in re.findall(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", str(comp.get("text", ""))):
                if name not in found:
                    found.append(name)
            return found
        return []

    # --- media ------------------------------------------------------------------------------------

    def _media_tokens(self, media: dict[str, Any]) -> set[str]:
        pnid = media.get("phone_number_id")
        if pnid is None:
            return self._known_tokens()
        return self._waba_tokens(self._numbers[pnid]["waba_id"])

    def _upload(self, pnid: str) -> Response:
        if request.form.get("messaging_product") != "whatsapp":
            raise GraphError(100, "The parameter messaging_product is required.")
        file = request.files.get("file")
        if file is None:
            raise GraphError(100, "The parameter file is required.")
        mime = request.form.get("type") or file.mimetype or ""
        content = file.read()
        base = _base_mime(mime)
        if base not in SUPPORTED_MEDIA_TYPES:
            raise GraphError(
                131053,
                "Media upload error",
                "Param file must be a file with one of the following types: "
                f"{', '.join(SUPPORTED_MEDIA_TYPES)}. Received file of type '{mime}'.",
            )
        if not content:
            raise GraphError(131053, "Media upload error", "Uploaded file is empty")
        limit = _size_limit(base)
        if len(content) > limit:
            raise GraphError(
                131053,
                "Media upload error",
                f"File of type {base} is {len(content)} bytes; the maximum for this type is {limit} bytes",
            )
        media_id = self._new_id()
        with self._lock:
            self.uploads[media_id] = {
                "content": content,
                "mime_type": mime,
                "phone_number_id": pnid,
                "filename": file.filename or None,
            }
        return _json_response({"id": media_id})

    def _media_get(self, media_id: str, media: dict[str, Any]) -> Response:
        restrict = request.args.get("phone_number_id")
        if restrict and media.get("phone_number_id") not in (None, restrict):
            raise _unknown_object("GET", media_id)
        content: bytes = media["content"]
        return _json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/media-download/{media_id}?ext=1",
                "mime_type": media["mime_type"],
                "sha256": base64.b64encode(hashlib.sha256(content).digest()).decode(),
                "file_size": len(content),
                "id": media_id,
            }
        )

    def _media_download(self, media_id: str, token: str | None) -> Response:
        if token is None or token not in self._known_tokens():
            raise _auth_error()
        with self._lock:
            media = self.uploads.get(media_id) or self._inbound_media.get(media_id)
        if media is None:
            return Response(b"Not Found", status=404, mimetype="text/plain")
        return Response(media["content"], status=200, mimetype=None, content_type=media["mime_type"])

    # --- templates --------------------------------------------------------------------------------

    @staticmethod
    def _fields(raw: str | None, default: tuple[str, ...], known: frozenset[str], node: str) -> list[str]:
        if not raw:
            return list(default)
        fields = [f.strip() for f in raw.split(",") if f.strip()]
        for field in fields:
            if field not in known:
                raise GraphError(
                    100,
                    "Tried accessing nonexisting field",
                    message=f"(#100) Tried accessing nonexisting field ({field}) on node type ({node})",
                )
        return fields if "id" in fields else [*fields, "id"]

    @staticmethod
    def _cursor(template_id: str) -> str:
        return base64.urlsafe_b64encode(template_id.encode()).decode().rstrip("=")

    def _page(self, edge_path: str, items: list[dict[str, Any]], views: list[dict[str, Any]],
              default_limit: int) -> Response:  # fmt: skip
        """One page of a list edge as Graph pages: `limit`, `after` cursors, `paging.next` while more remain."""
        args = request.args
        try:
            limit = int(args.get("limit", default_limit))
        except ValueError:
            raise _invalid("Param limit must be an integer") from None
        if limit < 1:
            raise _invalid("Param limit must be a positive integer")
        start = 0
        after = args.get("after")
        if after:
            cursors = [self._cursor(str(item["id"])) for item in items]
            if after not in cursors:
                raise _invalid("Param after is not a valid cursor")
            start = cursors.index(after) + 1
        page = items[start : start + limit]
        data = views[start : start + limit]
        if not page:
            return _json_response({"data": data})
        paging_cursors = {"before": self._cursor(str(page[0]["id"])), "after": self._cursor(str(page[-1]["id"]))}
        body: dict[str, Any] = {"data": data, "paging": {"cursors": paging_cursors}}
        if start + limit < len(items):
            query = {k: v for k, v in args.items() if k not in ("after", "before")}
            query["limit"] = str(limit)
            query["after"] = paging_cursors["after"]
            body["paging"]["next"] = f"{self.base_url}/{self.version}/{edge_path}?" + urllib.parse.urlencode(query)
        return _json_response(body)

    def _templates_list(self, waba_id: str) -> Response:
        args = request.args
        fields = self._fields(
            args.get("fields"), TEMPLATE_DEFAULT_FIELDS, TEMPLATE_KNOWN_FIELDS, "WhatsAppBusinessHSM"
        )
        with self._lock:
            items = [t for tid, t in self.templates.items() if self._template_waba[tid] == waba_id]
        if args.get("name"):
            items = [t for t in items if args["name"].lower() in str(t.get("name", "")).lower()]
        for key in ("status", "category", "language"):
            if args.get(key):
                wanted = {v.strip().upper() for v in args[key].split(",")}
                items = [t for t in items if str(t.get(key, "")).upper() in wanted]
        views = [{f: t[f] for f in fields if f in t} for t in items]
        return self._page(f"{waba_id}/message_templates", items, views, DEFAULT_TEMPLATE_LIMIT)

    def _template_get(self, template_id: str) -> Response:
        fields = self._fields(
            request.args.get("fields"), TEMPLATE_DEFAULT_FIELDS, TEMPLATE_KNOWN_FIELDS, "WhatsAppBusinessHSM"
        )
        with self._lock:
            tpl = dict(self.templates[template_id])
        return _json_response({f: tpl[f] for f in fields if f in tpl})

    @staticmethod
    def _validate_components(components: Any, parameter_format: str) -> None:
        refusal = refusal_of(components, parameter_format)
        if refusal is not None:
            raise GraphError(refusal.code, refusal.title, refusal.user_msg, subcode=refusal.subcode,
                             user_title=refusal.user_title, user_msg=refusal.user_msg)  # fmt: skip

    def _template_create(self, waba_id: str) -> Response:
        params = self._params()
        name = params.get("name")
        if not name:
            raise GraphError(100, "The parameter name is required.")
        if not isinstance(name, str) or not TEMPLATE_NAME_RE.match(name):
            raise _invalid(
                "Template name can only contain lowercase letters, numbers and underscores (max 512)"
            )
        category = str(params.get("category", "")).upper()
        if not category:
            raise GraphError(100, "The parameter category is required.")
        if category not in TEMPLATE_CATEGORIES:
            raise _invalid("Param category must be one of {AUTHENTICATION, MARKETING, UTILITY}")
        language = params.get("language")
        if not language or not isinstance(language, str):
            raise GraphError(100, "The parameter language is required.")
        parameter_format = str(params.get("parameter_format", "POSITIONAL")).upper()
        if parameter_format not in ("POSITIONAL", "NAMED"):
            raise _invalid("Param parameter_format must be one of {NAMED, POSITIONAL}")
        self._validate_components(params.get("components"), parameter_format)
        with self._lock:
            for tid, tpl in self.templates.items():
                if (
                    self._template_waba[tid] == waba_id
                    and tpl.get("name") == name
                    and tpl.get("language") == language
                ):
                    raise GraphError(
                        100,
                        "Invalid parameter",
                        "Content in this language already exists",
                        subcode=2388024,
                    )
        template_id = self.add_template(
            waba_id,
            {
                "name": name,
                "language": language,
                "status": "PENDING",
                "category": category,
                "parameter_format": parameter_format,
                "components": params["components"],
            },
        )
        return _json_response({"id": template_id, "status": "PENDING", "category": category})

    def _template_edit(self, template_id: str) -> Response:
        params = self._params()
        with self._lock:
            tpl = self.templates[template_id]
            status = tpl.get("status")
        if status not in TEMPLATE_EDITABLE_STATUSES:
            raise _invalid(f"Templates with status {status} cannot be edited")
        if not {"components", "category", "message_send_ttl_seconds"} & params.keys():
            raise GraphError(100, "The parameter components is required.")
        category = params.get("category")
        if category is not None:
            category = str(category).upper()
            if category not in TEMPLATE_CATEGORIES:
                raise _invalid("Param category must be one of {AUTHENTICATION, MARKETING, UTILITY}")
            if status == "APPROVED" and category != tpl.get("category"):
                raise _invalid("The category of an approved template cannot be edited")
        if "components" in params:
            parameter_format = params.get("parameter_format") or tpl.get("parameter_format") or "POSITIONAL"
            self._validate_components(params["components"], str(parameter_format))
        with self._lock:
            if "components" in params:
                tpl["components"] = params["components"]
            if category is not None:
                tpl["category"] = category
            if "message_send_ttl_seconds" in params:
                tpl["message_send_ttl_seconds"] = params["message_send_ttl_seconds"]
            tpl["status"] = "PENDING"
        return _json_response({"success": True})

    def _template_delete(self, waba_id: str) -> Response:
        name = request.args.get("name") or self._params().get("name")
        if not name:
            raise GraphError(100, "The parameter name is required.")
        hsm_id = request.args.get("hsm_id") or self._params().get("hsm_id")
        with self._lock:
            victims = [
                tid
                for tid, tpl in self.templates.items()
                if self._template_waba[tid] == waba_id
                and tpl.get("name") == name
                and (not hsm_id or tid == str(hsm_id))
            ]
            if not victims:
                raise _invalid(f'Message template "{name}" not found')
            for tid in victims:
                del self.templates[tid]
                del self._template_waba[tid]
        return _json_response({"success": True})

    # --- phone numbers and onboarding ---------------------------------------------------------------

    def _phone_view(self, pnid: str, fields: list[str]) -> dict[str, Any]:
        with self._lock:
            data = dict(self.phone_numbers[pnid])
        return {f: data[f] for f in fields if f in data}

    def _phone_fields(self) -> list[str]:
        return self._fields(
            request.args.get("fields"),
            PHONE_DEFAULT_FIELDS,
            frozenset(PHONE_FIELDS) | PHONE_UNMODELLED_FIELDS,
            "WhatsAppBusinessPhoneNumber",
        )

    def _phone_number_get(self, pnid: str) -> Response:
        return _json_response(self._phone_view(pnid, self._phone_fields()))

    def _phone_number_update(self, pnid: str) -> Response:
        params = self._params()
        pin = params.get("pin")
        if pin is not None:
            if not re.fullmatch(r"\d{6}", str(pin)):
                raise _invalid("Param pin must be a 6-digit number")
            with self._lock:
                self._numbers[pnid]["pin"] = str(pin)
        return _json_response({"success": True})

    def _phone_numbers_list(self, waba_id: str) -> Response:
        fields = self._phone_fields()
        with self._lock:
            ids = [pnid for pnid, n in self._numbers.items() if n["waba_id"] == waba_id]
        views = [self._phone_view(pnid, fields) for pnid in ids]
        return self._page(f"{waba_id}/phone_numbers", [{"id": pnid} for pnid in ids], views,
                          self.phone_number_page_size)  # fmt: skip

    def _phone_number_add(self, waba_id: str) -> Response:
        """POST /{waba}/phone_numbers {cc, phone_number, verified_name}: a new, unregistered number whose
        display name Meta now reviews."""
        params = self._params()
        for name in ("cc", "phone_number", "verified_name"):
            if not str(params.get(name) or "").strip():
                raise GraphError(100, f"The parameter {name} is required.")
        cc, national = str(params["cc"]), str(params["phone_number"])
        if not (cc.isdigit() and national.isdigit()):
            raise _invalid("Param cc and phone_number must be digits")
        display = cc + national
        with self._lock:
            if any(n["display_phone_number"] == display for n in self.phone_numbers.values()):
                raise GraphError(100, "Invalid parameter", details="This phone number already exists")
            token = self._empty_wabas.get(waba_id) or next(
                n["access_token"] for n in self._numbers.values() if n["waba_id"] == waba_id
            )
        pnid = self._new_id()
        self.add_phone_number(pnid, display_phone_number=display, waba_id=waba_id, access_token=token,
                              verified_name=str(params["verified_name"]), registered=False)  # fmt: skip
        with self._lock:
            self.phone_numbers[pnid]["name_status"] = "PENDING_REVIEW"
            self.phone_numbers[pnid]["code_verification_status"] = "NOT_VERIFIED"
        return _json_response({"id": pnid})

    def _request_code(self, pnid: str) -> Response:
        params = self._params()
        method = str(params.get("code_method", ""))
        if not method:
            raise GraphError(100, "The parameter code_method is required.")
        if method.upper() not in ("SMS", "VOICE"):
            raise _invalid("Param code_method must be one of {SMS, VOICE}")
        if not params.get("language"):
            raise GraphError(100, "The parameter language is required.")
        code = f"{secrets.randbelow(1_000_000):06d}"
        with self._lock:
            self._numbers[pnid]["verification_code"] = code
        return _json_response({"success": True})

    def _verify_code(self, pnid: str) -> Response:
        code = self._params().get("code")
        if code in (None, ""):
            raise GraphError(100, "The parameter code is required.")
        with self._lock:
            number = self._numbers[pnid]
            expected = number["verification_code"]
            if expected is None or str(code) != expected:
                # Meta answers a wrong code as an invalid parameter (code 100), not with a code of its own.
                raise _invalid("The verification code you entered is incorrect.")
            number["verification_code"] = None
            self.phone_numbers[pnid]["code_verification_status"] = "VERIFIED"
        return _json_response({"success": True})

    def _register(self, pnid: str) -> Response:
        params = self._params()
        if params.get("messaging_product") != "whatsapp":
            raise GraphError(100, "The parameter messaging_product is required.")
        pin = params.get("pin")
        if pin in (None, ""):
            raise GraphError(100, "The parameter pin is required.")
        if not re.fullmatch(r"\d{6}", str(pin)):
            raise _invalid("Param pin must be a 6-digit number")
        with self._lock:
            number = self._numbers[pnid]
            if number["registered_elsewhere"]:
                raise _invalid("Phone number is already registered on WhatsApp")
            if number["pin"] is not None and number["pin"] != str(pin):
                raise GraphError(133005, "Two step verification PIN Mismatch", "Incorrect PIN")
            number["pin"] = str(pin)
            number["registered"] = True
            self.phone_numbers[pnid]["status"] = "CONNECTED"
            self.phone_numbers[pnid]["platform_type"] = "CLOUD_API"
        return _json_response({"success": True})

    def _deregister(self, pnid: str) -> Response:
        with self._lock:
            self._numbers[pnid]["registered"] = False
            self.phone_numbers[pnid]["status"] = "DISCONNECTED"
            self.phone_numbers[pnid]["platform_type"] = "NOT_APPLICABLE"
        return _json_response({"success": True})

    def _subscribe(self, waba_id: str) -> Response:
        params = self._params()
        sub: dict[str, Any] = {}
        uri = params.get("override_callback_uri")
        if uri is not None:
            if not isinstance(uri, str) or len(uri) > 200 or not uri.startswith("https://"):
                raise _invalid("Param override_callback_uri must be an https URL of at most 200 characters")
            if not params.get("verify_token"):
                raise GraphError(100, "The parameter verify_token is required.")
            sub = {"override_callback_uri": uri, "verify_token": params["verify_token"]}
        with self._lock:
            self.subscribed_apps[waba_id] = sub
        return _json_response({"success": True})

    def _unsubscribe(self, waba_id: str) -> Response:
        with self._lock:
            self.subscribed_apps.pop(waba_id, None)
        return _json_response({"success": True})

    def _subscribed_apps_get(self, waba_id: str) -> Response:
        with self._lock:
            sub = self.subscribed_apps.get(waba_id)
        if sub is None:
            return _json_response({"data": []})
        item: dict[str, Any] = {"whatsapp_business_api_data": {"id": "app", "name": "Adapter"}}
        if "override_callback_uri" in sub:
            item["override_callback_uri"] = sub["override_callback_uri"]
        return _json_response({"data": [item]})

    def _oauth_access_token(self) -> Response:
        args = request.args
        for key in ("client_id", "client_secret", "code"):
            if not args.get(key):
                raise GraphError(100, f"Missing {key} parameter.", message=f"Missing {key} parameter.")
        if args["client_secret"] != self.app_secret:
            raise GraphError(1, "Error validating client secret.", message="Error validating client secret.")
        code = args["code"]
        with self._lock:
            if code in self._used_codes:
                raise GraphError(
                    100,
                    "This authorization code has been used.",
                    message="This authorization code has been used.",
                    subcode=36009,
                    with_data=False,
                )
            token = self._signup_codes.get(code)
            if token is None:
                raise GraphError(
                    100,
                    "Invalid verification code format.",
                    message="Invalid verification code format.",
                    subcode=36008,
                    with_data=False,
                )
            self._used_codes.add(code)
        return _json_response({"access_token": token, "token_type": "bearer"})

    # --- /_sim control endpoints (standalone use) -------------------------------------------------

    def _sim_control(self, path: str) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            if path == "_sim/inbound" and request.method == "POST":
                pnid = str(body["phone_number_id"])
                number = self.phone_numbers[pnid]
                payload = mp.inbound(
                    pnid,
                    wa_id=str(body["wa_id"]),
                    name=str(body.get("name", "Customer")),
                    message=mp.text(str(body["text"])),
                    display_phone_number=number["display_phone_number"],
                    waba_id=self._numbers[pnid]["waba_id"],
                )
                resp = self.post_webhook(payload)
                wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
                return _json_response({"wamid": wamid, "webhook_status": resp.status_code})
            if path == "_sim/status" and request.method == "POST":
                resp = self.deliver_status(str(body["wamid"]), str(body["status"]))
                return _json_response({"webhook_status": resp.status_code})
            if path == "_sim/state" and request.method == "GET":
                with self._lock:
                    state = {
                        "sent_messages": list(self.sent_messages),
                        "read_receipts": list(self.read_receipts),
                        "uploads": {
                            k: {kk: vv for kk, vv in v.items() if kk != "content"}
                            | {"size": len(v["content"])}
                            for k, v in self.uploads.items()
                        },
                        "templates": list(self.templates.values()),
                    }
                return _json_response(state)
        except KeyError as exc:
            return _json_response({"error": f"unknown or missing {exc}"}, 400)
        except requests.RequestException as exc:
            return _json_response({"error": f"webhook delivery failed: {type(exc).__name__}"}, 502)
        return _json_response({"error": "unknown simulator endpoint"}, 404)


def main(argv: list[str] | None = None) -> None:
    """Serve forever (``python -m tests.simulators.graph --help``)."""
    parser = argparse.ArgumentParser(description="Meta Graph API (WhatsApp Cloud API) simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--webhook-url", default=None, help="the adapter's Meta webhook endpoint")
    parser.add_argument("--app-secret", default="app-secret", help="signs webhooks (X-Hub-Signature-256)")
    parser.add_argument("--version", default="v25.0")
    parser.add_argument("--phone-number-id", default="PNID1")
    parser.add_argument("--display-phone-number", default="15550001111")
    parser.add_argument("--waba-id", default="WABA1")
    parser.add_argument("--access-token", default="test-token")
    args = parser.parse_args(argv)

    sim = GraphSimulator(
        app_secret=args.app_secret, version=args.version, host=args.host, port=args.port, quiet=False
    )
    sim.webhook_url = args.webhook_url
    sim.add_phone_number(
        args.phone_number_id,
        display_phone_number=args.display_phone_number,
        waba_id=args.waba_id,
        access_token=args.access_token,
    )
    sim.start()
    print(f"Graph simulator listening on {sim.base_url} (Graph base {sim.graph_url})", flush=True)
    print(
        f"phone number {args.phone_number_id} ({args.display_phone_number}), WABA {args.waba_id}; "
        f"webhooks -> {args.webhook_url or '(none)'}",
        flush=True,
    )
    print(
        f"fake inbound text: curl -X POST {sim.base_url}/_sim/inbound -H 'Content-Type: application/json' "
        f'-d \'{{"phone_number_id":"{args.phone_number_id}","wa_id":"16505551234",'
        f'"name":"Sheena","text":"hello"}}\'',
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
