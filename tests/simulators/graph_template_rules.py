"""Meta's create rules for message templates, as the Graph simulator enforces them.

Written from Meta's documentation and observed answers (research whatsapp.md §5), not from the adapter's
validation: the contract tests send the same definitions to both and expect the same verdict, so the
adapter's local checks are tested against an independent reading of the rules. Meta answers a broken
definition with code 100 ("Invalid parameter") and a subcode naming the rule, plus `error_user_title`
and `error_user_msg` for people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
NAMED_PARAMETER = re.compile(r"[a-z_]+")
CLOUD_HEADER_FORMATS = frozenset({"TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"})  # GIF: not on Cloud API
BUTTON_LIMITS = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
MAX_BUTTONS = 10
MAX_BUTTON_TEXT = 25
MAX_BODY = 1024


@dataclass(frozen=True)
class Refusal:
    subcode: int | None
    user_title: str
    user_msg: str
    code: int = 100
    title: str = "Invalid parameter"


def refusal_of(components: Any, parameter_format: str) -> Refusal | None:
    """The first rule the definition breaks, or None when Meta would take it for review."""
    if not isinstance(components, list) or not components:
        return Refusal(None, "Missing components", "The parameter components is required.")
    by_type = {str(c.get("type", "")).upper(): c for c in components if isinstance(c, dict)}
    body = by_type.get("BODY")
    text = body.get("text") if body else None
    if not isinstance(text, str) or not text:
        return Refusal(None, "Missing body", "Message template must have exactly one BODY component with text")
    if len(text) > MAX_BODY:
        return Refusal(None, "Message template character limit exceeded",
                       "The body can be at most 1024 characters", code=2388040,
                       title="Message template character limit exceeded")  # fmt: skip
    return (
        _header_refusal(by_type.get("HEADER"))
        or _body_refusal(text, body.get("example") if body else None, parameter_format)
        or _buttons_refusal(by_type.get("BUTTONS"))
    )


def _header_refusal(header: dict[str, Any] | None) -> Refusal | None:
    if header is None:
        return None
    if str(header.get("format", "")).upper() not in CLOUD_HEADER_FORMATS:
        return Refusal(2388047, "Message header format is incorrect",
                       f"Header format {header.get('format')!r} is not supported on the Cloud API.")  # fmt: skip
    return None


def _body_refusal(text: str, example: Any, parameter_format: str) -> Refusal | None:
    found = PLACEHOLDER.findall(text)
    if not found:
        return None
    named = parameter_format.upper() == "NAMED"
    for name in found:
        if (named and not NAMED_PARAMETER.fullmatch(name)) or (not named and not name.isdigit()):
            return Refusal(2388072, "Message body format is incorrect",
                           f"Parameter {{{{{name}}}}} is not valid in the {parameter_format.lower()} format.")  # noqa: E501
    stripped = text.strip()
    if stripped.startswith("{{") or stripped.endswith("}}"):
        return Refusal(2388299, "Variables can't be at the start or end of the template",
                       "Variables can't be at the start or end of the template.")  # fmt: skip
    words = [w for w in PLACEHOLDER.sub(" ", text).split() if any(ch.isalnum() for ch in w)]
    if len(words) < 2 * len(found) + 1:
        return Refusal(2388293, "Too many variables for the message length",
                       "This template contains too many variable parameters relative to the message length. "
                       "You need to decrease the number of variable parameters or increase the message length.")
    if not _has_examples(example, found, named):
        return Refusal(None, "Missing sample values",
                       "Every variable of the body needs a sample value in example.")  # fmt: skip
    return None


def _has_examples(example: Any, found: list[str], named: bool) -> bool:
    if not isinstance(example, dict):
        return False
    if named:
        given = {p.get("param_name") for p in example.get("body_text_named_params") or [] if isinstance(p, dict)}
        return set(found) <= given
    rows = example.get("body_text")
    return isinstance(rows, list) and bool(rows) and isinstance(rows[0], list) and len(rows[0]) >= len(set(found))


def _buttons_refusal(component: dict[str, Any] | None) -> Refusal | None:
    if component is None:
        return None
    buttons = [b for b in component.get("buttons") or [] if isinstance(b, dict)]
    kinds = [str(b.get("type", "")).upper() for b in buttons]
    if len(buttons) > MAX_BUTTONS or any(kinds.count(k) > most for k, most in BUTTON_LIMITS.items()):
        return Refusal(None, "Too many buttons",
                       "A template has at most 10 buttons: 2 URL, 1 phone number and 1 copy code among them.")
    replies = [i for i, kind in enumerate(kinds) if kind == "QUICK_REPLY"]
    if replies and replies != list(range(replies[0], replies[0] + len(replies))):
        return Refusal(None, "Buttons are not grouped", "Quick reply buttons must be grouped together.")
    if any(len(str(b.get("text") or "")) > MAX_BUTTON_TEXT for b in buttons):
        return Refusal(None, "Message template character limit exceeded",
                       "Button text can be at most 25 characters", code=2388040,
                       title="Message template character limit exceeded")  # fmt: skip
    return None
