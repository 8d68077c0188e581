"""Embedded Signup ("Sign in with Meta"): join the code and the session info, which arrive separately.

The browser posts the code from FB.login's callback and the WA_EMBEDDED_SIGNUP message in whatever
order they come. The code is exchanged for the business token at once (it lives 30 seconds); whichever
half arrives second finds both in Redis and connects the number, then registers it with the Cloud API
(POST /{phone-number-id}/register) with the PIN the admin chose or one generated and shown once: until
it is registered, Meta refuses every send (133010), so only then is it "connected". FINISH_ONLY_WABA has
no number yet: the admin then enters one (verification.add_number) and verifies it on its page.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from adapter.console import verification
from adapter.console.connect import connect_number
from adapter.console.installation import Installation, seal, unseal
from adapter.console.onboarding_errors import OnboardingFailed, explain
from adapter.errors import BadRequest, ExternalApiError, NotFound, RequestError
from adapter.services import Services
from adapter.store import keys
from adapter.store.channels import Channel
from adapter.store.replies import hash_fields, text_hash

logger = logging.getLogger(__name__)

PENDING_SECONDS = 15 * 60
FINISHED = ("FINISH", "FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING")
ONLY_WABA = "FINISH_ONLY_WABA"
_ID = re.compile(r"^\d{1,32}$")


@dataclass(frozen=True)
class SignupState:
    """waiting | connected | needs_registration | needs_number | failed | cancelled, with what the admin should
    read."""

    state: str
    message: str = ""
    phone_number_id: str = ""
    waba_id: str = ""

    def as_json(self) -> dict[str, str]:
        return {"state": self.state, "message": self.message, "phone_number_id": self.phone_number_id,
                "waba_id": self.waba_id}  # fmt: skip


def start(services: Services, owner: str) -> str:
    """A new signup for the session `owner`; returns its id (put in the page, sent back with each half)."""
    signup_id = secrets.token_urlsafe(18)
    key = keys.signup(signup_id)
    pipe = services.store.pipeline(transaction=True)
    pipe.hset(key, mapping={"owner": owner, "state": "waiting", "created_at": repr(services.clock.now())})
    pipe.expire(key, PENDING_SECONDS)
    pipe.execute()
    return signup_id


def _load(services: Services, signup_id: str, owner: str) -> dict[str, str]:
    data = text_hash(services.store.hgetall(keys.signup(signup_id))) if signup_id else {}
    if not data or data.get("owner") != owner:
        raise NotFound("this sign-in with Meta has expired or belongs to another session; start it again")
    return data


def _state(data: dict[str, str]) -> SignupState:
    return SignupState(data.get("state", "waiting"), data.get("message", ""), data.get("phone_number_id", ""),
                       data.get("waba_id", ""))  # fmt: skip


def status(services: Services, signup_id: str, owner: str) -> SignupState:
    return _state(_load(services, signup_id, owner))


def _store_half(services: Services, signup_id: str, values: dict[str, str]) -> dict[str, str]:
    """Write one half and read the whole record in one step, so exactly one request sees both halves."""
    pipe = services.store.pipeline(transaction=True)
    pipe.hset(keys.signup(signup_id), mapping=hash_fields(values))
    pipe.hgetall(keys.signup(signup_id))
    return dict(pipe.execute()[1])


def _finish(services: Services, signup_id: str, values: dict[str, str]) -> None:
    services.store.hset(keys.signup(signup_id), mapping=hash_fields(values))


def exchange_code(services: Services, code: str) -> str:
    """GET /oauth/access_token?client_id&client_secret&code: the business integration system-user token."""
    settings = services.settings
    if not (settings.meta_app_id and settings.meta_app_secret):
        raise BadRequest("set META_APP_ID and META_APP_SECRET to use Sign in with Meta")
    app_token = f"{settings.meta_app_id}|{settings.meta_app_secret}"
    params = {"client_id": settings.meta_app_id, "client_secret": settings.meta_app_secret, "code": code}
    answer = services.graph.get("/oauth/access_token", app_token, params)
    token = str(answer.get("access_token") or "")
    if not token:
        raise BadRequest("Meta answered the code exchange without an access token; start Sign in with Meta again")
    return token


def record_code(services: Services, installation: Installation, signup_id: str, owner: str, code: str) -> SignupState:
    data = _load(services, signup_id, owner)
    if data.get("state") != "waiting" or data.get("token"):
        return _state(data)
    if not code.strip():
        raise BadRequest("Meta's sign-in returned no code")
    try:
        token = exchange_code(services, code.strip())
    except ExternalApiError as exc:
        message = explain(exc, "signup").text
        _finish(services, signup_id, {"state": "failed", "message": message})
        return SignupState("failed", message)
    half = _store_half(services, signup_id, {"token": seal(services, token)})
    return _try_to_connect(services, installation, signup_id, half)


def record_session(
    services: Services,
    installation: Installation,
    signup_id: str,
    owner: str,
    event: Any,
    agent_bot_id: int | None,
    pin: str = "",
) -> SignupState:
    """The WA_EMBEDDED_SIGNUP message's parsed JSON (type, event, data); `pin` is the two-step verification
    PIN the admin chose for registering the number, empty to have one generated."""
    data = _load(services, signup_id, owner)
    if data.get("state") != "waiting":
        return _state(data)
    pin = pin.strip()
    if pin and not verification.SIX_DIGITS.match(pin):
        raise BadRequest("The PIN has exactly 6 digits (or leave it empty to have one generated)")
    if not isinstance(event, dict) or event.get("type") != "WA_EMBEDDED_SIGNUP":
        raise BadRequest("not a WA_EMBEDDED_SIGNUP message")
    name = str(event.get("event") or "")
    details: dict[str, Any] = event["data"] if isinstance(event.get("data"), dict) else {}
    if name == "CANCEL":
        where = details.get("error_message") or details.get("current_step") or "before the end"
        message = f"Sign in with Meta was closed ({where}); nothing was connected. Start it again when ready."
        _finish(services, signup_id, {"state": "cancelled", "message": message})
        return SignupState("cancelled", message)
    if name not in (*FINISHED, ONLY_WABA):
        raise BadRequest(f"unknown Embedded Signup event {name!r}")
    waba_id, pnid = str(details.get("waba_id") or ""), str(details.get("phone_number_id") or "")
    if not _ID.match(waba_id) or (name != ONLY_WABA and not _ID.match(pnid)):
        raise BadRequest("the signup message lacks a numeric waba_id and phone_number_id")
    half = {"event": name, "waba_id": waba_id, "phone_number_id": pnid if name != ONLY_WABA else "",
            "agent_bot_id": "" if agent_bot_id is None else str(agent_bot_id),
            "pin": seal(services, pin) if pin else ""}  # fmt: skip
    return _try_to_connect(services, installation, signup_id, _store_half(services, signup_id, half))


def _try_to_connect(
    services: Services, installation: Installation, signup_id: str, data: dict[str, str]
) -> SignupState:
    if not (data.get("token") and data.get("event")):
        return _state(data)
    if not services.store.hsetnx(keys.signup(signup_id), "claimed", "1"):
        return _state(data)  # the other half's request is connecting it
    if data["event"] == ONLY_WABA:
        message = "Your WhatsApp Business Account is ready. Enter the phone number to use and verify it."
        _finish(services, signup_id, {"state": "needs_number", "message": message})
        return SignupState("needs_number", message, waba_id=data["waba_id"])
    bot = int(data["agent_bot_id"]) if data.get("agent_bot_id") else None
    try:
        channel = connect_number(services, installation, waba_id=data["waba_id"], agent_bot_id=bot,
                                 phone_number_id=data["phone_number_id"], token=unseal(services, data["token"]))
    except OnboardingFailed as exc:
        message = exc.problem.text
    except RequestError as exc:
        message = exc.message
    except ExternalApiError as exc:
        message = explain(exc, "connect").text
    else:
        return _register(services, signup_id, channel, unseal(services, data["pin"]) if data.get("pin") else "")
    logger.warning("Embedded Signup %s could not connect the number: %s", signup_id, message)
    _finish(services, signup_id, {"state": "failed", "message": message, "token": ""})
    return SignupState("failed", message, data.get("phone_number_id", ""), data.get("waba_id", ""))


def _register(services: Services, signup_id: str, channel: Channel, chosen_pin: str) -> SignupState:
    pin = chosen_pin or f"{secrets.randbelow(1_000_000):06d}"
    try:
        verification.register(services, channel, pin)
    except OnboardingFailed as exc:
        message = (f"The number is connected to the helpdesk, but WhatsApp did not register it: {exc.problem.text} "
                   "Register it on this page; until then WhatsApp refuses to send from it.")  # fmt: skip
        logger.warning("Embedded Signup %s connected %s but could not register it: %s", signup_id,
                       channel.phone_number_id, exc.problem.text)  # fmt: skip
        _finish(services, signup_id, {"state": "needs_registration", "message": message, "token": "", "pin": "",
                                      "phone_number_id": channel.phone_number_id})  # fmt: skip
        return SignupState("needs_registration", message, channel.phone_number_id, channel.waba_id)
    # A generated PIN is kept, sealed, only until the admin's browser has been shown it once (take_pin).
    _finish(services, signup_id, {"state": "connected", "token": "", "pin": "",
                                  "generated_pin": "" if chosen_pin else seal(services, pin)})  # fmt: skip
    return SignupState("connected", phone_number_id=channel.phone_number_id, waba_id=channel.waba_id)


def first_news_of_registration(services: Services, signup_id: str) -> tuple[bool, str]:
    """(whether this caller is the first to hear the number is registered, the generated PIN or ""): the
    first caller gets the PIN and it is gone from Redis, so the browser shows it once."""
    pipe = services.store.pipeline(transaction=True)
    pipe.hsetnx(keys.signup(signup_id), "announced", "1")
    pipe.hget(keys.signup(signup_id), "generated_pin")
    pipe.hdel(keys.signup(signup_id), "generated_pin")
    first, sealed, _deleted = pipe.execute()
    return bool(first), unseal(services, sealed) if first and sealed else ""


def waba_in_progress(services: Services, signup_id: str, owner: str) -> tuple[str, str, int | None]:
    """For FINISH_ONLY_WABA: the WABA id, its token and the chosen default agent, while the admin adds a number."""
    data = _load(services, signup_id, owner)
    if data.get("state") != "needs_number" or not data.get("token"):
        raise NotFound("no WhatsApp Business Account is waiting for a number in this session")
    bot = data.get("agent_bot_id") or ""
    return data["waba_id"], unseal(services, data["token"]), int(bot) if bot else None


def done_with_number(services: Services, signup_id: str, phone_number_id: str) -> None:
    _finish(services, signup_id, {"state": "connected", "phone_number_id": phone_number_id, "token": "", "message": ""})


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def extra_message_origins(sdk_url: str, page_origin: str) -> list[str]:
    """Origins besides *.facebook.com whose WA_EMBEDDED_SIGNUP messages the page accepts.

    None in production. When META_SDK_URL is served from loopback (a stand-in SDK in tests and local
    development) the stand-in posts from the page itself, so the page's own origin is accepted too.
    """
    parsed = urlparse(sdk_url)
    if parsed.hostname not in LOOPBACK_HOSTS:
        return []
    return [page_origin, f"{parsed.scheme}://{parsed.netloc}"]
