"""Meta's answers during onboarding (connect, verify, register) in plain words, each with its fix.

The one place that turns a Graph error code into what an admin reads while connecting a number; the
product guide's troubleshooting table is worded here. Codes the send path also meets keep their
wording in adapter/meta/error_codes.py and are reused from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapter.errors import BadRequest, ExternalApiError, GraphApiError, HelpdeskApiError, NetworkError
from adapter.meta import error_codes


@dataclass(frozen=True)
class OnboardingProblem:
    """What went wrong and what to do about it; `code` is Meta's, kept for support."""

    title: str
    fix: str
    code: int | None = None
    retry_after: str | None = None  # Meta's own words on when to try again, when it gives them

    @property
    def text(self) -> str:
        wait = f" Meta says: {self.retry_after}." if self.retry_after else ""
        code = f" (WhatsApp error {self.code})" if self.code is not None else ""
        return f"{self.title}{code}. {self.fix}{wait}"


ALREADY_REGISTERED = OnboardingProblem(
    "Phone number already registered",
    "The number is in use in the WhatsApp or WhatsApp Business app. On that phone open WhatsApp settings → "
    "Account → Delete account (confirm with the two-step verification PIN if it has one), wait a few "
    "minutes, then request a new code here.",
)
SMS_NOT_ARRIVING = (
    "No SMS after a minute? Some carriers block 6-digit SMS codes: choose “Call me instead” and WhatsApp "
    "reads the code out in a voice call."
)
WRONG_CODE = OnboardingProblem(
    "Wrong verification code",
    "The code does not match the last one WhatsApp sent. Check the six digits, or request a new code "
    "(only the newest code works).",
)
PIN_MISMATCH = OnboardingProblem(
    "PIN mismatch",
    "This number already has a two-step verification PIN and the one entered is different. Enter that PIN; "
    "if nobody knows it, reset it in WhatsApp Manager → Phone numbers → Settings → Two-step verification, "
    "then register again.",
    133005,
)
TOO_MANY_PIN_TRIES = OnboardingProblem(
    "Too many tries",
    "WhatsApp locked PIN attempts for this number for a while. Wait, then try once with the correct PIN.",
    133008,
)
TOO_FAST = OnboardingProblem(
    "Too many tries in a short time",
    "Wait a moment before trying again.",
    133009,
)
RECENTLY_DELETED = OnboardingProblem(
    "The number was deleted from WhatsApp moments ago",
    "WhatsApp needs about 5 minutes before the number can be registered again. Try again in 5 minutes.",
    133015,
)
REGISTER_LIMIT = OnboardingProblem(
    "Too many registrations",
    "A number can be registered or deregistered 10 times in 72 hours. Try again after 72 hours.",
    133016,
)
TOO_MANY_CODES = OnboardingProblem(
    "Too many codes requested",
    "WhatsApp limits how often a code can be sent to one number. Wait a few hours before requesting another, "
    "and enter the last code you received if it is still valid.",
)
TOKEN_INVALID = OnboardingProblem(
    "The access token is not valid",
    "It has expired, was revoked, or was copied incompletely. Create a new system-user token with the "
    "whatsapp_business_management and whatsapp_business_messaging permissions (Business settings → "
    "System users) and try again.",
)
NOT_VISIBLE = OnboardingProblem(
    "Meta does not know this id, or the token cannot see it",
    "Check the WhatsApp Business Account id and the phone number id in WhatsApp Manager, and that the "
    "system user has been given access to that account.",
)
PERMISSION = OnboardingProblem(
    "The token lacks a permission",
    "Give the system user the whatsapp_business_management and whatsapp_business_messaging permissions "
    "and assign it to the WhatsApp Business Account, then try again.",
)
CODE_EXPIRED = OnboardingProblem(
    "Meta's sign-in expired before it could be completed",
    "The code from “Sign in with Meta” is valid for 30 seconds and only once. Start “Sign in with Meta” "
    "again.",
)
UNREACHABLE = OnboardingProblem(
    "Meta could not be reached", "Check the adapter's network connection and try again in a minute."
)

# Codes whose onboarding wording differs from the send path's (error_codes.py) or that it lacks.
_BY_CODE: dict[int, OnboardingProblem] = {
    133005: PIN_MISMATCH,
    133008: TOO_MANY_PIN_TRIES,
    133009: TOO_FAST,
    133015: RECENTLY_DELETED,
    133016: REGISTER_LIMIT,
    136025: WRONG_CODE,  # older answers named the mismatch with a code of its own
    0: TOKEN_INVALID,
    190: TOKEN_INVALID,
    10: PERMISSION,
    200: PERMISSION,
}


def explain(exc: ExternalApiError, step: str = "") -> OnboardingProblem:
    """A failed Graph call during onboarding -> what happened and the fix, in plain words.

    `step` is the call that failed ("request_code", "verify_code", "register", …): Meta answers a code
    requested too often without a documented code of its own, so that case is read from its words.
    """
    if isinstance(exc, NetworkError):
        return UNREACHABLE
    if isinstance(exc, HelpdeskApiError):
        return OnboardingProblem("The helpdesk refused the request", exc.message)
    if not isinstance(exc, GraphApiError):
        return OnboardingProblem("WhatsApp refused the request", exc.message)
    words = f"{exc.title} {exc.details}".lower()
    if "already registered" in words or "already in use" in words:
        return ALREADY_REGISTERED
    if "authorization code" in words or "verification code format" in words:
        return CODE_EXPIRED
    if step == "request_code" and ("too many" in words or "rate limit" in words):
        return OnboardingProblem(TOO_MANY_CODES.title, TOO_MANY_CODES.fix, exc.code or None, exc.details or None)
    code = exc.code
    if code in range(201, 300):
        code = 200
    known = _BY_CODE.get(code)
    if known is not None:
        wait = exc.details if code in (133008, 133009) and exc.details else None
        return OnboardingProblem(known.title, known.fix, exc.code, retry_after=wait)
    if code == 100 and ("does not exist" in words or "unsupported" in words or "cannot be loaded" in words):
        return NOT_VISIBLE
    if code == 100 and step == "verify_code":  # Meta's answer to a wrong code: "Invalid parameter"
        return OnboardingProblem(WRONG_CODE.title, WRONG_CODE.fix, code)
    entry = error_codes.lookup(code) if code else None
    if entry is not None and code in error_codes.TABLE:
        return OnboardingProblem(entry.title, entry.explanation, code)
    detail = exc.details or exc.title
    return OnboardingProblem("WhatsApp refused the request", f"Meta says: {detail}", code or None)


class OnboardingFailed(BadRequest):
    """A step of connecting or verifying a number failed; `problem` says why and what to do."""

    code = "onboarding_failed"

    def __init__(self, problem: OnboardingProblem) -> None:
        super().__init__(problem.text)
        self.problem = problem


def failed(exc: ExternalApiError, step: str = "") -> OnboardingFailed:
    return OnboardingFailed(explain(exc, step))
