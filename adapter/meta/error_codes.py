"""Meta's WhatsApp Cloud API error codes, in one table (research whatsapp.md §7, Meta "Error codes").

Every code answers three questions: what Meta calls it (`title`), whether sending again can
work (`retry`: "retry" = transient, back off and retry; "wait" = retry only after a longer,
code-specific wait; "never" = permanent, fix configuration or content, or change strategy)
and what a helpdesk agent should read (`explanation`: one plain sentence saying what happened
and what to do). The same codes arrive synchronously (Graph error answers) and asynchronously
(`statuses[].errors`, `value.errors`, `messages[].errors`): look them up here on both paths.
Build logic on the code, never on the title or the HTTP status alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

Retry = Literal["retry", "wait", "never"]


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One Meta error code: its title, retry class and an explanation for agents."""

    code: int
    title: str
    retry: Retry
    explanation: str


_RESEND_LATER = "Nothing needs to change; the adapter sends the message again automatically."
_FIX_TEMPLATE = "An admin must fix the template in WhatsApp Manager and sync templates again."

_CODES: Final[tuple[ErrorCode, ...]] = (
    # --- authorization, permissions, Graph API level --------------------------------------
    ErrorCode(
        0,
        "AuthException",
        "never",
        "The WhatsApp access token has expired or was revoked, so an admin must reconnect the number "
        "before messages can be sent.",
    ),
    ErrorCode(
        1,
        "API Unknown",
        "retry",
        "WhatsApp could not process the request because of a temporary problem or an invalid request; "
        "the adapter retries a few times and an admin should check the logs if it persists.",
    ),
    ErrorCode(
        2,
        "API Service",
        "retry",
        f"WhatsApp is temporarily down or overloaded. {_RESEND_LATER}",
    ),
    ErrorCode(
        3,
        "API Method",
        "never",
        "The WhatsApp app is missing a capability or permission for this action, so an admin must check "
        "the app's permissions.",
    ),
    ErrorCode(
        4,
        "API Too Many Calls",
        "retry",
        f"The WhatsApp app made too many API calls in a short time. {_RESEND_LATER}",
    ),
    ErrorCode(
        10,
        "Permission Denied",
        "never",
        "The WhatsApp app does not have the permission it needs, so an admin must grant it again "
        "or reconnect the number.",
    ),
    ErrorCode(
        33,
        "Parameter value is not valid",
        "never",
        "The business phone number configured for this inbox no longer exists in WhatsApp, so an admin "
        "must check the phone number settings.",
    ),
    ErrorCode(
        100,
        "Invalid parameter",
        "never",
        "WhatsApp rejected the message because part of it is invalid, unsupported or too long; "
        "change the message and send it again.",
    ),
    ErrorCode(
        190,
        "Access token has expired",
        "never",
        "The WhatsApp access token has expired, so an admin must reconnect the number before messages can be sent.",
    ),
    ErrorCode(
        200,
        "API Permission",
        "never",
        "The WhatsApp permission this action needs was not granted or was removed, so an admin must grant it again.",
    ),
    ErrorCode(
        368,
        "Temporarily blocked for policies violations",
        "never",
        "WhatsApp has temporarily blocked this number for a policy violation, so an admin must review "
        "the policy notice in WhatsApp Manager.",
    ),
    ErrorCode(
        80007,
        "Rate limit issues",
        "retry",
        f"The WhatsApp Business Account reached its API rate limit. {_RESEND_LATER}",
    ),
    # --- throughput, delivery and policy -------------------------------------------------------
    ErrorCode(
        130429,
        "Rate limit hit",
        "retry",
        f"The number is sending faster than WhatsApp allows. {_RESEND_LATER}",
    ),
    ErrorCode(
        130472,
        "User's number is part of an experiment",
        "never",
        "WhatsApp did not deliver this marketing message because the customer is part of a Meta "
        "experiment; do not resend it.",
    ),
    ErrorCode(
        130497,
        "Business account is restricted from messaging users in this country",
        "never",
        "This business is not allowed to message customers in the customer's country, so the message "
        "cannot be delivered.",
    ),
    ErrorCode(
        131000,
        "Something went wrong",
        "retry",
        "WhatsApp had an unexpected error; the adapter retries, and an admin should contact Meta support "
        "if it keeps happening.",
    ),
    ErrorCode(
        131005,
        "Access denied",
        "never",
        "WhatsApp denied access for this number, so an admin must check the app's permissions.",
    ),
    ErrorCode(
        131008,
        "Required parameter is missing",
        "never",
        "WhatsApp rejected the message because required information is missing; change the message and send it again.",
    ),
    ErrorCode(
        131009,
        "Parameter value is not valid",
        "never",
        "WhatsApp rejected a value in the message (or the number is not on this business account); "
        "change the message and send it again.",
    ),
    ErrorCode(
        131016,
        "Service unavailable",
        "retry",
        f"WhatsApp is temporarily unavailable. {_RESEND_LATER}",
    ),
    ErrorCode(
        131021,
        "Recipient cannot be sender",
        "never",
        "The message was addressed to the business's own number, which WhatsApp does not allow.",
    ),
    ErrorCode(
        131026,
        "Message undeliverable",
        "never",
        "The customer cannot receive WhatsApp messages from you (the number may not be on WhatsApp, "
        "may use an outdated app or may not have accepted WhatsApp's terms); reach them another way.",
    ),
    ErrorCode(
        131030,
        "Recipient phone number not in allowed list",
        "never",
        "This test number may only message numbers on its allowed list, so an admin must add the "
        "customer's number in the Meta App Dashboard.",
    ),
    ErrorCode(
        131031,
        "Account has been locked",
        "never",
        "The WhatsApp Business Account is locked (for a policy violation or a wrong two-step PIN), so an "
        "admin must check the account status in WhatsApp Manager.",
    ),
    ErrorCode(
        131037,
        "WhatsApp provided number needs display name approval",
        "never",
        "The number's display name is not approved yet, so an admin must get the display name approved "
        "before messages can be sent.",
    ),
    ErrorCode(
        131042,
        "Business eligibility payment issue",
        "never",
        "WhatsApp refused the message because of a billing problem, so an admin must fix the payment "
        "method of the WhatsApp Business Account.",
    ),
    ErrorCode(
        131045,
        "Incorrect certificate",
        "never",
        "The phone number's registration is broken, so an admin must register the number again.",
    ),
    ErrorCode(
        131047,
        "Re-engagement message",
        "never",
        "More than 24 hours have passed since the customer last wrote, so WhatsApp only allows an "
        "approved template. Send a template message.",
    ),
    ErrorCode(
        131048,
        "Spam rate limit hit",
        "never",  # resending into a spam limit lowers the number's quality further
        "WhatsApp is limiting this number because many customers blocked or reported its messages, so the "
        "message was not resent: check the number's quality rating in the console and send fewer, "
        "more expected messages until it recovers.",
    ),
    ErrorCode(
        131049,
        "Meta chose not to deliver",
        "wait",
        "WhatsApp chose not to deliver this marketing message to protect the customer's experience; "
        "do not resend it for at least 24 hours.",
    ),
    ErrorCode(
        131050,
        "User has stopped marketing messages",
        "never",
        "The customer has opted out of marketing messages from this business, so do not send them marketing templates.",
    ),
    ErrorCode(
        131051,
        "Unsupported message type",
        "never",
        "WhatsApp does not support this kind of message, so send it in another form.",
    ),
    ErrorCode(
        131052,
        "Media download error",
        "never",
        "The file the customer sent could not be downloaded from WhatsApp (it may be over 100 MB); ask "
        "the customer to send it another way.",
    ),
    ErrorCode(
        131053,
        "Media upload error",
        "never",
        "WhatsApp could not accept the attached file (unsupported type or too large); send a different file.",
    ),
    ErrorCode(
        131055,
        "Method not allowed",
        "never",
        "This number does not allow this kind of request, so an admin must check the number's setup.",
    ),
    ErrorCode(
        131056,
        "Pair rate limit hit",
        "wait",
        "Too many messages were sent to this customer in a short time; the adapter waits a little and "
        "sends the message again.",
    ),
    ErrorCode(
        131057,
        "Account in maintenance mode",
        "retry",
        f"The WhatsApp Business Account is briefly in maintenance. {_RESEND_LATER}",
    ),
    # --- templates and flows -------------------------------------------------------------------
    ErrorCode(
        132000,
        "Number of parameters does not match the expected number of params",
        "never",
        "The template was sent with the wrong number of variables; fill in every variable the template "
        "needs and send it again.",
    ),
    ErrorCode(
        132001,
        "Template does not exist",
        "never",
        "This template does not exist in this language or is not approved; choose another template, "
        "and an admin should sync templates.",
    ),
    ErrorCode(
        132005,
        "Translated text too long",
        "never",
        "The template text is too long once the variables are filled in; use shorter values.",
    ),
    ErrorCode(
        132007,
        "Template format character policy violated",
        "never",
        f"The template content breaks WhatsApp's formatting rules. {_FIX_TEMPLATE}",
    ),
    ErrorCode(
        132008,
        "Template parameter value is not valid",
        "never",
        "A template variable has a value WhatsApp does not accept; correct the value and send again.",
    ),
    ErrorCode(
        132012,
        "Template parameter format mismatch",
        "never",
        "A template variable is not in the format the template expects; correct the value and send again.",
    ),
    ErrorCode(
        132015,
        "Template is paused",
        "never",
        "WhatsApp paused this template because of low quality; use another template, and an admin "
        "should edit this one.",
    ),
    ErrorCode(
        132016,
        "Template is disabled",
        "never",
        "WhatsApp permanently disabled this template; use another template, and an admin should create a new one.",
    ),
    ErrorCode(
        132068,
        "Flow is blocked",
        "never",
        "The WhatsApp Flow in this message is blocked, so an admin must fix the flow.",
    ),
    ErrorCode(
        132069,
        "Flow is throttled",
        "wait",
        "The WhatsApp Flow in this message was sent too often this hour; the adapter waits before "
        "resending, and an admin should check the flow.",
    ),
    # --- phone number registration -------------------------------------------------------------
    ErrorCode(
        133000,
        "Incomplete deregistration",
        "never",
        "A previous deregistration of the number did not finish, so an admin must deregister and "
        "register the number again.",
    ),
    ErrorCode(
        133004,
        "Server temporarily unavailable",
        "retry",
        f"WhatsApp's server is temporarily unavailable. {_RESEND_LATER}",
    ),
    ErrorCode(
        133005,
        "Two step verification PIN mismatch",
        "never",
        "The two-step verification PIN is wrong, so an admin must enter the correct PIN or reset it.",
    ),
    ErrorCode(
        133006,
        "Phone number re-verification needed",
        "never",
        "The phone number must be verified again, so an admin must request and enter a new "
        "verification code before registering it.",
    ),
    ErrorCode(
        133008,
        "Too many two step verification PIN guesses",
        "wait",
        "Too many wrong PINs were tried for this number, so an admin must wait before trying again.",
    ),
    ErrorCode(
        133009,
        "Two step verification PIN guessed too fast",
        "wait",
        "The PIN was entered too quickly, so an admin must wait before trying again.",
    ),
    ErrorCode(
        133010,
        "Phone number not registered",
        "never",
        "The phone number is not registered with the WhatsApp Cloud API, so an admin must register it.",
    ),
    ErrorCode(
        133015,
        "Please wait a few minutes before attempting to register this phone number",
        "wait",
        "The number was deleted recently, so an admin must wait about 5 minutes before registering it.",
    ),
    ErrorCode(
        133016,
        "Account register deregister rate limit exceeded",
        "wait",
        "The number was registered or deregistered too many times, so an admin must wait 72 hours before trying again.",
    ),
    # --- other ---------------------------------------------------------------------------------
    ErrorCode(
        134011,
        "WhatsApp Payments terms of service not accepted",
        "never",
        "The WhatsApp Payments terms of service have not been accepted for this business, so an admin "
        "must accept them.",
    ),
    ErrorCode(
        135000,
        "Generic user error",
        "never",
        "WhatsApp rejected the request as invalid; change the message, and an admin should contact "
        "Meta support if it keeps happening.",
    ),
    ErrorCode(
        137000,
        "Identity key hash mismatch",
        "never",
        "The customer's WhatsApp identity changed since it was last checked, so confirm who they are "
        "another way before sending.",
    ),
    ErrorCode(
        2494100,
        "Phone number in maintenance mode",
        "retry",
        f"The phone number is briefly in maintenance (for example during a migration). {_RESEND_LATER}",
    ),
)

TABLE: Final[dict[int, ErrorCode]] = {entry.code: entry for entry in _CODES}
"""Every code of whatsapp.md §7, by number. Codes 201–299 resolve through `lookup` to code 200."""

PERMISSION_RANGE: Final = range(200, 300)
"""Meta documents 200–299 as one row: "API permission not granted or removed"."""

TRANSIENT_FAMILIES: Final[tuple[range, ...]] = (range(80000, 80100),)
"""Unknown codes in these ranges are treated as transient: the Graph business rate-limit family of
80007. Any other unknown code is permanent (an unknown refusal retried forever only wastes quota)."""

WAIT_FALLBACK_SECONDS: Final = 900.0
"""Wait for a "wait" code whose delay Meta does not quantify (our choice, not Meta's)."""

_FIXED_WAIT_SECONDS: Final[dict[int, float]] = {
    131049: 24 * 3600.0,  # "wait >= 24 h before resending; retrying sooner fails again"
    132069: 3600.0,  # flows: 10 sends per hour
    133015: 300.0,  # "retry after 5 min"
    133016: 72 * 3600.0,  # register/deregister: 10 per 72 h
}

_PAIR_RATE_CAP_SECONDS: Final = 24 * 3600.0
_THROUGHPUT_CAP_SECONDS: Final = 60.0
_MAX_EXPONENT: Final = 32


def lookup(code: int) -> ErrorCode:
    """The table entry for `code`; an unknown code gets a generic entry (see TRANSIENT_FAMILIES)."""
    entry = TABLE.get(code)
    if entry is not None:
        return entry
    if code in PERMISSION_RANGE:
        return replace(TABLE[200], code=code)
    transient = any(code in family for family in TRANSIENT_FAMILIES)
    return ErrorCode(
        code=code,
        title="Unknown error",
        retry="retry" if transient else "never",
        explanation=f"WhatsApp refused the message (error {code})",
    )


def _is_known(code: int) -> bool:
    return code in TABLE or code in PERMISSION_RANGE


def is_retryable(code: int | None, http_status: int | None = None, is_transient: bool | None = None) -> bool:
    """Whether sending again can succeed ("wait" codes count, with a longer wait).

    A known code decides on its own: a permanent code stays permanent even when Meta answered 5xx
    (131045, 133000 and 3 come with HTTP 500). For a code the table does not know, the error's own
    `is_transient` flag decides when Meta sent one; without it, HTTP 429 and 5xx are transient.
    Pass `code=None` when the answer carried no Graph error body (a proxy's 502, say).
    """
    if code is not None and _is_known(code):
        return lookup(code).retry != "never"
    if is_transient is not None:
        return is_transient
    if http_status is not None and (http_status == 429 or http_status >= 500):
        return True
    return code is not None and lookup(code).retry != "never"


def retry_after_seconds(code: int, attempt: int) -> float | None:
    """Seconds to wait before retry number `attempt` (0 for the first retry), or None for the default backoff.

    131056 (pair rate limit): 4**attempt seconds, as Meta documents (1, 4, 16, 64 …), capped at 24 h.
    130429 (throughput): exponential backoff starting at 1 s (1, 2, 4 …), capped at 60 s.
    131049: 24 h. Other "wait" codes: their documented delay, else WAIT_FALLBACK_SECONDS.
    """
    exponent = min(max(attempt, 0), _MAX_EXPONENT)
    if code == 131056:
        return min(4.0**exponent, _PAIR_RATE_CAP_SECONDS)
    if code == 130429:
        return min(2.0**exponent, _THROUGHPUT_CAP_SECONDS)
    if code in _FIXED_WAIT_SECONDS:
        return _FIXED_WAIT_SECONDS[code]
    if lookup(code).retry == "wait":
        return WAIT_FALLBACK_SECONDS
    return None
