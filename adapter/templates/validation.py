"""Meta's template review rules, checked locally before a create or edit reaches Graph.

A rejection costs a review cycle (up to 24 hours) and counts against the 100-creations-per-hour limit, so
every rule Meta documents (whatsapp.md §5) is checked here first, each with a message that says what to fix.
"""

from __future__ import annotations

import re
from typing import Any

from adapter.templates import rejections
from adapter.templates.variables import (
    VARIABLE,
    check_named_examples,
    check_positional_examples,
    check_variables,
    too_many_for_the_length,
)

NAME = re.compile(r"^[a-z0-9_]{1,512}$")
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")  # GIF headers exist only off the Cloud API
URL_IN_TEXT = re.compile(r"https?://|www\.", re.IGNORECASE)
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")

BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
BUTTON_TEXT_MAX = 25
BUTTONS_MAX = 10
URL_BUTTONS_MAX = 2
URL_MAX = 2000
PHONE_MAX = 20
COPY_CODE_MAX = 15

explain_rejection = rejections.explain_rejection


def validate_definition(definition: dict[str, Any]) -> list[str]:
    """Every problem of a create-template body ({name, category, language, parameter_format, components})."""
    if not isinstance(definition, dict):
        return ["the template definition must be a JSON object"]
    errors: list[str] = []
    name = definition.get("name")
    if not name:
        errors.append("name is required")
    elif not isinstance(name, str) or not NAME.match(name):
        errors.append(f"name {name!r} may only use lowercase letters, digits and underscores (1 to 512 characters)")
    category = _category(definition.get("category"), errors, required=True)
    language = definition.get("language")
    if not language or not isinstance(language, str):
        errors.append("language is required, e.g. en_US")
    parameter_format = _parameter_format(definition.get("parameter_format"), errors)
    errors += validate_components(definition.get("components"), category=category, parameter_format=parameter_format)
    return errors


def validate_edit(definition: dict[str, Any]) -> list[str]:
    """Problems of an edit body: only category, components and message_send_ttl_seconds can change."""
    if not isinstance(definition, dict):
        return ["the template definition must be a JSON object"]
    errors: list[str] = []
    if not {"category", "components", "message_send_ttl_seconds"} & definition.keys():
        errors.append("nothing to edit: give components, category or message_send_ttl_seconds")
    category = _category(definition.get("category"), errors, required=False)
    parameter_format = _parameter_format(definition.get("parameter_format"), errors)
    if "components" in definition:
        errors += validate_components(definition["components"], category=category, parameter_format=parameter_format)
    return errors


def _category(value: Any, errors: list[str], *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            errors.append("category is required: UTILITY, MARKETING or AUTHENTICATION")
        return None
    category = str(value).upper()
    if category not in CATEGORIES:
        errors.append(f"category {value!r} must be UTILITY, MARKETING or AUTHENTICATION")
        return None
    return category


def _parameter_format(value: Any, errors: list[str]) -> str:
    fmt = str(value or "POSITIONAL").upper()
    if fmt not in PARAMETER_FORMATS:
        errors.append(f"parameter_format {value!r} must be POSITIONAL or NAMED")
        return "POSITIONAL"
    return fmt


def validate_components(components: Any, *, category: str | None, parameter_format: str) -> list[str]:
    """The component rules: one BODY, header/footer limits, buttons, variables and their examples."""
    if not isinstance(components, list) or not components:
        return ["components must be a non-empty list with at least a BODY"]
    errors: list[str] = []
    by_type: dict[str, list[dict[str, Any]]] = {}
    for i, comp in enumerate(components):
        kind = str(comp.get("type", "")).upper() if isinstance(comp, dict) else ""
        if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            errors.append(f"components[{i}] has type {kind or 'none'!r}; use HEADER, BODY, FOOTER or BUTTONS")
            continue
        by_type.setdefault(kind, []).append(comp)
    for kind, found in by_type.items():
        if len(found) > 1:
            errors.append(f"only one {kind} component is allowed, found {len(found)}")
    bodies = by_type.get("BODY", [])
    if not bodies:
        errors.append("a BODY component is required")
    authentication = category == "AUTHENTICATION"
    named = parameter_format == "NAMED"
    if bodies:
        errors += _check_body(bodies[0], named=named, authentication=authentication)
    if "HEADER" in by_type:
        errors += _check_header(by_type["HEADER"][0], named=named, authentication=authentication)
    if "FOOTER" in by_type:
        errors += _check_footer(by_type["FOOTER"][0], authentication=authentication)
    if "BUTTONS" in by_type:
        errors += _check_buttons(by_type["BUTTONS"][0])
    return errors


# --- components --------------------------------------------------------------------------------


def _check_body(body: dict[str, Any], *, named: bool, authentication: bool) -> list[str]:
    errors: list[str] = []
    text = body.get("text")
    if authentication and not text:
        return errors  # Meta writes the body of authentication templates itself (add_security_recommendation)
    if not isinstance(text, str) or not text.strip():
        return ["BODY text is required"]
    if len(text) > BODY_MAX:
        errors.append(f"BODY text is {len(text)} characters; the limit is {BODY_MAX}")
    names = check_variables(text, "BODY", named=named, errors=errors)
    stripped = text.strip()
    first, last = VARIABLE.match(stripped), re.search(r"\{\{([^{}]*)\}\}$", stripped)
    if first:
        errors.append(f"BODY cannot start with a variable ({first.group(0)}); put some words before it")
    if last:
        errors.append(f"BODY cannot end with a variable ({last.group(0)}); put some words or a full stop after it")
    crowded = too_many_for_the_length(text)
    if crowded:
        variables, words = crowded
        other = f"{words} other word{'' if words == 1 else 's'}"
        errors.append(f"BODY has {variables} variables and only {other}; Meta refuses templates with "
                      f"too many variables for their length: write at least {2 * variables + 1} words besides "
                      "the variables")  # fmt: skip
    for match in re.finditer(r"(\{\{[^{}]*\}\})\s*(?=(\{\{[^{}]*\}\}))", text):
        errors.append(
            f"BODY variables {match.group(1)} and {match.group(2)} are next to each other; put words between them"
        )
    if names:
        example = body.get("example")
        if named:
            check_named_examples(example, "body_text_named_params", "BODY", names, errors)
        else:
            check_positional_examples(example, names, errors)
    if authentication:
        if URL_IN_TEXT.search(text):
            errors.append("AUTHENTICATION templates cannot contain URLs in the BODY")
        if EMOJI.search(text):
            errors.append("AUTHENTICATION templates cannot contain emoji in the BODY")
    return errors


def _check_header(header: dict[str, Any], *, named: bool, authentication: bool) -> list[str]:
    fmt = str(header.get("format") or "").upper()
    if fmt == "GIF":
        return ["HEADER GIF is not available on the WhatsApp Cloud API; use a VIDEO header with an MP4 instead"]
    if fmt not in HEADER_FORMATS:
        return ["HEADER needs a format: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION"]
    if authentication:
        return [] if fmt == "TEXT" else [f"AUTHENTICATION templates cannot have a {fmt} header"]
    if fmt in ("LOCATION",):
        return []
    example = header.get("example")
    if fmt != "TEXT":
        handles = example.get("header_handle") if isinstance(example, dict) else None
        if not handles:
            return [f"HEADER {fmt} needs a sample file in example.header_handle (a Resumable Upload handle)"]
        return []
    errors: list[str] = []
    text = header.get("text")
    if not isinstance(text, str) or not text.strip():
        return ["HEADER text is required for a TEXT header"]
    if len(text) > HEADER_TEXT_MAX:
        errors.append(f"HEADER text is {len(text)} characters; the limit is {HEADER_TEXT_MAX}")
    names = check_variables(text, "HEADER", named=named, errors=errors)
    if len(names) > 1:
        errors.append(f"HEADER text may have at most one variable, found {len(names)}")
    elif names and named:
        check_named_examples(example, "header_text_named_params", "HEADER", names, errors)
    elif names:
        values = example.get("header_text") if isinstance(example, dict) else None
        if not (isinstance(values, list) and len(values) == 1 and str(values[0] or "").strip()):
            errors.append(f'HEADER variable {{{{{names[0]}}}}} needs an example in example.header_text, e.g. ["…"]')
    return errors


def _check_footer(footer: dict[str, Any], *, authentication: bool) -> list[str]:
    text = footer.get("text")
    if authentication and not text:
        return []  # authentication footers carry code_expiration_minutes instead of text
    if not isinstance(text, str) or not text.strip():
        return ["FOOTER text is required"]
    errors: list[str] = []
    if len(text) > FOOTER_MAX:
        errors.append(f"FOOTER text is {len(text)} characters; the limit is {FOOTER_MAX}")
    if "{{" in text or "}}" in text:
        errors.append("FOOTER cannot contain variables")
    return errors


def _check_buttons(component: dict[str, Any]) -> list[str]:
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        return ["BUTTONS needs a non-empty buttons list"]
    errors: list[str] = []
    if len(buttons) > BUTTONS_MAX:
        errors.append(f"a template can have at most {BUTTONS_MAX} buttons, found {len(buttons)}")
    types = [str(b.get("type", "")).upper() if isinstance(b, dict) else "" for b in buttons]
    for kind, most in (("URL", URL_BUTTONS_MAX), ("PHONE_NUMBER", 1), ("COPY_CODE", 1)):
        if types.count(kind) > most:
            errors.append(f"a template can have at most {most} {kind} button{'s' if most > 1 else ''}, "
                          f"found {types.count(kind)}")
    quick = [i for i, kind in enumerate(types) if kind == "QUICK_REPLY"]
    if quick and quick[-1] - quick[0] + 1 != len(quick):
        errors.append("QUICK_REPLY buttons must be next to each other, not split by other buttons")
    for i, (button, kind) in enumerate(zip(buttons, types, strict=True)):
        errors += _check_button(button if isinstance(button, dict) else {}, kind, f"button {i + 1} ({kind or '?'})")
    return errors


def _check_button(button: dict[str, Any], kind: str, where: str) -> list[str]:
    errors: list[str] = []
    if kind in ("QUICK_REPLY", "URL", "PHONE_NUMBER"):
        text = str(button.get("text") or "")
        if not text.strip():
            errors.append(f"{where} needs a text")
        elif len(text) > BUTTON_TEXT_MAX:
            errors.append(f"{where} text is {len(text)} characters; the limit is {BUTTON_TEXT_MAX}")
    if kind == "URL":
        errors += _check_url_button(button, where)
    elif kind == "PHONE_NUMBER":
        phone = str(button.get("phone_number") or "")
        if not phone:
            errors.append(f"{where} needs a phone_number")
        elif len(phone) > PHONE_MAX:
            errors.append(f"{where} phone_number is {len(phone)} characters; the limit is {PHONE_MAX}")
    elif kind == "COPY_CODE":
        example = str(button.get("example") or "")
        if not example:
            errors.append(f"{where} needs an example code of at most {COPY_CODE_MAX} characters")
        elif len(example) > COPY_CODE_MAX:
            errors.append(f"{where} example is {len(example)} characters; the limit is {COPY_CODE_MAX}")
    elif kind not in ("QUICK_REPLY", "OTP", "FLOW", "VOICE_CALL", "MPM", "SPM", "CATALOG", "REQUEST_CONTACT_INFO"):
        errors.append(f"{where} has an unknown type; use QUICK_REPLY, URL, PHONE_NUMBER or COPY_CODE")
    return errors


def _check_url_button(button: dict[str, Any], where: str) -> list[str]:
    url = str(button.get("url") or "")
    if not url:
        return [f"{where} needs a url"]
    errors: list[str] = []
    if len(url) > URL_MAX:
        errors.append(f"{where} url is {len(url)} characters; the limit is {URL_MAX}")
    variables = VARIABLE.findall(url)
    if variables and (variables != ["1"] or not url.endswith("{{1}}")):
        errors.append(f"{where} url may have only one variable, {{{{1}}}}, at its very end")
    elif variables:
        example = button.get("example")
        values = example if isinstance(example, list) else [example] if isinstance(example, str) else []
        if not values or not str(values[0] or "").strip():
            errors.append(
                f'{where} url has a variable, so it needs a full example url in example, e.g. ["{url[:-5]}summer"]'
            )
    return errors
