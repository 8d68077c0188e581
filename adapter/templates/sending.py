"""Turn the helpdesk's `template_params` into the Graph `template` object of a send.

The parameters are checked against the stored template *before* the Graph call: Meta's answer to a
mismatch is a bare 132000 ("number of parameters does not match"), while here the agent learns which
variable is missing or empty. Shape of `template_params`: chatwoot.md §3; of the send: whatsapp.md §3.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from adapter.templates.errors import TemplateNotSendable, TemplateParamsError
from adapter.templates.model import HEADER_MEDIA_FORMATS, PLACEHOLDER, Template, TemplateButton

COPY_CODE_MAX = 15
# Characters left as they are in a URL-button value: path and query separators, so "track/1?x=2" still works.
URL_SAFE = "/?&=:@!$'()*+,;~"


@dataclass(frozen=True)
class _Params:
    """processed_params, normalised: body by placeholder name, header as given, buttons in template order."""

    body: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    buttons: list[Any] = field(default_factory=list)


def _normalise(params: dict[str, Any] | None) -> _Params:
    processed = (params or {}).get("processed_params")
    if not processed:
        return _Params()
    if isinstance(processed, list):  # legacy: positional body values in order
        return _Params(body={str(i + 1): value for i, value in enumerate(processed)})
    if not isinstance(processed, dict):
        raise TemplateParamsError("template parameters (processed_params) must be an object or a list")
    if not {"body", "header", "buttons", "footer"} & processed.keys():  # legacy: a flat dict is the body
        return _Params(body={str(k): v for k, v in processed.items()})
    body, header, buttons = processed.get("body") or {}, processed.get("header") or {}, processed.get("buttons") or []
    if isinstance(body, list):
        body = {str(i + 1): value for i, value in enumerate(body)}
    if not isinstance(body, dict) or not isinstance(header, dict) or not isinstance(buttons, list):
        raise TemplateParamsError("template parameters: body and header must be objects, buttons a list")
    return _Params(body={str(k): v for k, v in body.items()}, header=header, buttons=buttons)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(template: Template, where: str, name: str, value: Any) -> str:
    if _is_empty(value):
        raise TemplateParamsError(f"template {template.name} {where} parameter {{{{{name}}}}} is empty")
    if isinstance(value, (dict, list)):
        raise TemplateParamsError(f"template {template.name} {where} parameter {{{{{name}}}}} must be text")
    return str(value)


def _text_parameter(template: Template, where: str, name: str, value: Any) -> dict[str, Any]:
    parameter: dict[str, Any] = {"type": "text", "text": _text(template, where, name, value)}
    if template.is_named:
        parameter["parameter_name"] = name
    return parameter


def _check_names(template: Template, where: str, expected: list[str], given: dict[str, Any]) -> None:
    missing = [name for name in expected if name not in given]
    # Named templates and the (single-variable) header: the missing name says more than a count.
    if missing and (template.is_named or where == "header"):
        prefix = "header " if where == "header" else ""
        raise TemplateParamsError(f"template {template.name} {prefix}parameter {{{{{missing[0]}}}}} is missing")
    if len(given) != len(expected):
        plural = "" if len(expected) == 1 else "s"
        raise TemplateParamsError(
            f"template {template.name} expects {len(expected)} {where} parameter{plural}, got {len(given)}"
        )
    if missing:
        raise TemplateParamsError(f"template {template.name} parameter {{{{{missing[0]}}}}} is missing")


def _body_component(template: Template, params: _Params) -> list[dict[str, Any]]:
    expected = template.body_parameters
    _check_names(template, "body", expected, params.body)
    if not expected:
        return []
    parameters = [_text_parameter(template, "body", name, params.body[name]) for name in expected]
    return [{"type": "body", "parameters": parameters}]


def _header_component(template: Template, params: _Params) -> list[dict[str, Any]]:
    fmt, given = template.header_format, {k: v for k, v in params.header.items() if not _is_empty(v)}
    if fmt is None:
        if given:
            raise TemplateParamsError(f"template {template.name} has no header, but a header parameter was given")
        return []
    if fmt == "TEXT":
        expected = template.header_parameters
        if not expected:
            if given:
                raise TemplateParamsError(
                    f"template {template.name} header has no variables, but a header parameter was given"
                )
            return []
        raw = {str(k): v for k, v in params.header.items()}  # empties kept: "is empty" beats "is missing"
        _check_names(template, "header", expected, raw)
        return [{"type": "header", "parameters": [_text_parameter(template, "header", n, raw[n]) for n in expected]}]
    if fmt in HEADER_MEDIA_FORMATS:
        return [{"type": "header", "parameters": [_media_parameter(template, fmt.lower(), given)]}]
    if fmt == "LOCATION":
        if _is_empty(given.get("latitude")) or _is_empty(given.get("longitude")):
            raise TemplateParamsError(f"template {template.name} needs a header location (latitude and longitude)")
        location = {k: str(given[k]) for k in ("latitude", "longitude", "name", "address") if k in given}
        return [{"type": "header", "parameters": [{"type": "location", "location": location}]}]
    raise TemplateParamsError(f"template {template.name} has a {fmt} header, which cannot be filled from the helpdesk")


def _media_parameter(template: Template, kind: str, header: dict[str, Any]) -> dict[str, Any]:
    url = header.get("media_url")
    if _is_empty(url):
        raise TemplateParamsError(f"template {template.name} needs a header {kind} (media_url)")
    given_type = str(header.get("media_type") or kind).lower()
    if given_type != kind:
        raise TemplateParamsError(f"template {template.name} needs a header {kind}, but a {given_type} was given")
    media: dict[str, Any] = {"link": str(url)}
    if kind == "document" and not _is_empty(header.get("media_name")):
        media["filename"] = str(header["media_name"])  # without it WhatsApp shows "Untitled"
    return {"type": kind, kind: media}


def _button_parameter(template: Template, button: TemplateButton, given: Any) -> dict[str, Any] | None:
    """The send-time parameter of one template button, or None when the button takes none."""
    value = given.get("parameter") if isinstance(given, dict) else None
    where = f"template {template.name} button {button.index} ({button.type})"
    if button.has_url_variable:
        if _is_empty(value):
            raise TemplateParamsError(f"{where} url parameter {{{{1}}}} is missing")
        encoded = urllib.parse.quote(urllib.parse.unquote(str(value)), safe=URL_SAFE)
        return {"sub_type": "url", "parameters": [{"type": "text", "text": encoded}]}
    if button.type == "COPY_CODE":
        if _is_empty(value):
            raise TemplateParamsError(f"template {template.name} copy code (button {button.index}) is missing")
        code = str(value).strip()
        if len(code) > COPY_CODE_MAX:
            raise TemplateParamsError(
                f"template {template.name} copy code is {len(code)} characters; the limit is {COPY_CODE_MAX}"
            )
        return {"sub_type": "copy_code", "parameters": [{"type": "coupon_code", "coupon_code": code}]}
    if button.type == "QUICK_REPLY" and not _is_empty(value):
        # An optional payload, echoed back in the webhook when the customer taps the button.
        return {"sub_type": "quick_reply", "parameters": [{"type": "payload", "payload": str(value)}]}
    if not _is_empty(value):
        raise TemplateParamsError(f"{where} takes no parameter, but one was given")
    return None


def _takes_parameter(button: TemplateButton) -> bool:
    return button.has_url_variable or button.type in ("COPY_CODE", "QUICK_REPLY")  # a quick reply's payload: optional


def _given_per_button(template: Template, given: list[Any]) -> dict[int, Any]:
    """The helpdesk's button parameters matched to the template's buttons by type, in order.

    Rails drops the nulls of a JSON array, so Chatwoot's list arrives without the gaps of the buttons that
    take nothing: each entry goes to the next button of its type that takes a parameter.
    """
    entries = [entry for entry in given if not _is_empty(entry)]
    if entries and not template.buttons:
        count = len(entries)
        raise TemplateParamsError(f"template {template.name} has 0 buttons, but parameters for {count} were given")
    matched: dict[int, Any] = {}
    for button in template.buttons:
        if not entries or not _takes_parameter(button):
            continue
        kind = str(entries[0].get("type") or "").lower() if isinstance(entries[0], dict) else ""
        if kind in ("", button.type.lower()):
            matched[button.index] = entries.pop(0)
    if entries:
        kind = str(entries[0].get("type") or "") if isinstance(entries[0], dict) else ""
        raise TemplateParamsError(f"template {template.name} got more {kind} button parameters than it has "
                                  f"{kind} buttons that take one".replace("  ", " "))  # fmt: skip
    return matched


def _button_components(template: Template, params: _Params) -> list[dict[str, Any]]:
    matched = _given_per_button(template, params.buttons)
    components: list[dict[str, Any]] = []
    for button in template.buttons:
        built = _button_parameter(template, button, matched.get(button.index))
        if built is not None:
            components.append({"type": "button", "sub_type": built["sub_type"], "index": str(button.index),
                               "parameters": built["parameters"]})
    return components


def build_template_message(template: Template, params: dict[str, Any] | None) -> dict[str, Any]:
    """The Graph `template` object for `template` filled from the helpdesk's `template_params`.

    Raises TemplateNotSendable when the template is not APPROVED, TemplateParamsError when the values do
    not fit it.
    """
    if not template.is_sendable:
        raise TemplateNotSendable(template.blocked_reason() or f"template {template.name} cannot be sent")
    normalised = _normalise(params)
    components = _header_component(template, normalised)
    components += _body_component(template, normalised)
    components += _button_components(template, normalised)
    return {"name": template.name, "language": {"code": template.language}, "components": components}


def render_text(template: Template, params: dict[str, Any] | None) -> str:
    """The body with the given values filled in (for notes and fallbacks); unknown variables stay as {{x}}."""
    try:
        body = _normalise(params).body
    except TemplateParamsError:
        body = {}

    def fill(match: Any) -> str:
        value = body.get(match.group(1))
        return match.group(0) if _is_empty(value) or isinstance(value, (dict, list)) else str(value)

    return PLACEHOLDER.sub(fill, template.body_text)
