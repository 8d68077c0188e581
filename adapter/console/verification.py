"""Verifying and registering a number: add it to the WABA, request a code by SMS or voice, check it,
register with a 6-digit PIN (whatsapp.md §6.3). Each refusal becomes plain words (onboarding_errors)."""

from __future__ import annotations

import logging
import re
from typing import Any

import phonenumbers

from adapter.console.connect import waba_numbers
from adapter.console.health import fields_to_health, read_number
from adapter.console.onboarding_errors import SMS_NOT_ARRIVING, failed
from adapter.errors import BadRequest, ExternalApiError
from adapter.monitoring.number_health import digits, save_health
from adapter.services import Services
from adapter.store.channels import Channel

logger = logging.getLogger(__name__)

CODE_METHODS = ("SMS", "VOICE")
SIX_DIGITS = re.compile(r"^\d{6}$")
HINT_AFTER_SMS = SMS_NOT_ARRIVING


def parse_number(text: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(text.strip(), None)
    except phonenumbers.NumberParseException:
        raise BadRequest("Enter the number with its country code, e.g. +1 555 078 3881") from None
    if not phonenumbers.is_possible_number(number):
        raise BadRequest(f"{text.strip()} is not a possible phone number; check the country code and the digits")
    return number


def add_number(services: Services, waba_id: str, token: str, phone: str, display_name: str) -> str:
    """The phone number id of `phone` in the WABA: found among its numbers, or added with the display name
    (POST /{waba-id}/phone_numbers {cc, phone_number, verified_name}); Meta reviews that name."""
    number = parse_number(phone)
    wanted = f"{number.country_code}{number.national_number}"
    try:
        for item in waba_numbers(services, waba_id, token):
            if digits(str(item.get("display_phone_number") or "")) == wanted:
                return str(item["id"])
        if not display_name.strip():
            raise BadRequest("Pick a display name for the number (e.g. “Acme Support”); Meta reviews it")
        body = {"cc": str(number.country_code), "phone_number": str(number.national_number),
                "verified_name": display_name.strip()}  # fmt: skip
        answer = services.graph.post(f"/{waba_id}/phone_numbers", token, body)
    except ExternalApiError as exc:
        raise failed(exc, "add_number") from None
    logger.info("added a number to WABA %s", waba_id)
    return str(answer["id"])


def request_code(services: Services, channel: Channel, method: str, language: str = "en_US") -> str:
    """POST /{id}/request_code (code_method SMS or VOICE). Returns what to tell the admin next."""
    method = method.upper()
    if method not in CODE_METHODS:
        raise BadRequest("choose SMS or a voice call")
    try:
        services.graph.post(f"/{channel.phone_number_id}/request_code", channel.graph_access_token,
                            {"code_method": method, "language": language})  # fmt: skip
    except ExternalApiError as exc:
        raise failed(exc, "request_code") from None
    logger.info("verification code requested by %s for %s", method, channel.phone_number_id)
    if method == "SMS":
        return f"A code is on its way by SMS. {HINT_AFTER_SMS}"
    return "WhatsApp is calling the number now to read out a 6-digit code."


def verify_code(services: Services, channel: Channel, code: str) -> str:
    """POST /{id}/verify_code."""
    code = re.sub(r"[\s-]", "", code)
    if not SIX_DIGITS.match(code):
        raise BadRequest("The verification code has 6 digits")
    try:
        services.graph.post(f"/{channel.phone_number_id}/verify_code", channel.graph_access_token, {"code": code})
    except ExternalApiError as exc:
        raise failed(exc, "verify_code") from None
    save_health(services.store, channel.phone_number_id, {"code_verification_status": "VERIFIED"})
    return "The number is verified. Now register it with a 6-digit PIN."


def register(services: Services, channel: Channel, pin: str) -> str:
    """POST /{id}/register {messaging_product, pin}; the PIN becomes the two-step verification PIN if none is set."""
    pin = pin.strip()
    if not SIX_DIGITS.match(pin):
        raise BadRequest("The PIN has exactly 6 digits")
    try:
        services.graph.post(f"/{channel.phone_number_id}/register", channel.graph_access_token,
                            {"messaging_product": "whatsapp", "pin": pin})  # fmt: skip
    except ExternalApiError as exc:
        raise failed(exc, "register") from None
    logger.info("registered %s with the Cloud API", channel.phone_number_id)
    try:
        data: dict[str, Any] = read_number(services.graph, channel.phone_number_id, channel.graph_access_token)
        changes = fields_to_health(data)
        changes.update(refreshed_at=services.clock.now(), name_updated_at=services.clock.now())
        save_health(services.store, channel.phone_number_id, changes)
    except ExternalApiError:
        save_health(services.store, channel.phone_number_id, {"status": "CONNECTED"})
    return "The number is registered: it can send and receive WhatsApp messages."
