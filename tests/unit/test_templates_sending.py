"""build_template_message: helpdesk template_params (chatwoot.md §3) -> Graph `template` (whatsapp.md §3)."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.errors import AdapterError, PermanentJobError
from adapter.templates.errors import TemplateNotSendable, TemplateParamsError
from adapter.templates.model import Template
from adapter.templates.sending import build_template_message, render_text


def template(components: list[dict[str, Any]], *, name: str = "order_update", named: bool = False,
             status: str = "APPROVED") -> Template:
    return Template.from_graph({
        "id": "1", "name": name, "language": "pt_BR", "status": status, "category": "UTILITY",
        "parameter_format": "NAMED" if named else "POSITIONAL", "components": components,
    })


BODY2 = {"type": "BODY", "text": "Hi {{1}}, your order {{2}} shipped."}
NAMED_BODY = {"type": "BODY", "text": "Hi {{first_name}}, order {{order_id}} shipped."}
POSITIONAL = template([BODY2])
NAMED = template([NAMED_BODY], name="welcome", named=True)
WITH_BUTTONS = template([BODY2, {"type": "BUTTONS", "buttons": [
    {"type": "QUICK_REPLY", "text": "Stop"},
    {"type": "URL", "text": "Track", "url": "https://x.test/{{1}}"},
    {"type": "COPY_CODE", "example": "SAVE10"},
    {"type": "URL", "text": "Site", "url": "https://x.test/"},
]}])


def media(fmt: str) -> Template:
    return template([{"type": "HEADER", "format": fmt}, BODY2], name="invoice")


def params(**processed: Any) -> dict[str, Any]:
    return {"name": "order_update", "category": "UTILITY", "language": "pt_BR", "namespace": None,
            "processed_params": processed}


BODY_VALUES = {"1": "João", "2": "123"}
POSITIONAL_BODY = {"type": "body", "parameters": [{"type": "text", "text": "João"}, {"type": "text", "text": "123"}]}


def test_positional_body_in_number_order() -> None:
    built = build_template_message(POSITIONAL, params(body={"2": "123", "1": "João"}))
    assert built == {"name": "order_update", "language": {"code": "pt_BR"}, "components": [POSITIONAL_BODY]}


def test_named_body_carries_parameter_names() -> None:
    built = build_template_message(NAMED, params(body={"order_id": "A-1", "first_name": "Ann"}))
    assert built["components"] == [{"type": "body", "parameters": [
        {"type": "text", "text": "Ann", "parameter_name": "first_name"},
        {"type": "text", "text": "A-1", "parameter_name": "order_id"},
    ]}]


def test_template_without_variables_needs_no_params() -> None:
    built = build_template_message(template([{"type": "BODY", "text": "Hello there."}]), None)
    assert built == {"name": "order_update", "language": {"code": "pt_BR"}, "components": []}


@pytest.mark.parametrize(
    ("fmt", "header", "expected"),
    [
        ("IMAGE", {"media_url": "https://x.test/a.jpg", "media_type": "image"},
         {"type": "image", "image": {"link": "https://x.test/a.jpg"}}),
        ("VIDEO", {"media_url": "https://x.test/a.mp4"}, {"type": "video", "video": {"link": "https://x.test/a.mp4"}}),
        ("DOCUMENT", {"media_url": "https://x.test/i.pdf", "media_type": "document", "media_name": "invoice.pdf"},
         {"type": "document", "document": {"link": "https://x.test/i.pdf", "filename": "invoice.pdf"}}),
    ],
)
def test_media_header(fmt: str, header: dict[str, Any], expected: dict[str, Any]) -> None:
    built = build_template_message(media(fmt), params(body=BODY_VALUES, header=header))
    assert built["components"] == [{"type": "header", "parameters": [expected]}, POSITIONAL_BODY]


def test_text_header_parameter() -> None:
    t = template([{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, BODY2])
    built = build_template_message(t, params(body=BODY_VALUES, header={"1": "A-1"}))
    assert built["components"][0] == {"type": "header", "parameters": [{"type": "text", "text": "A-1"}]}


def test_url_and_copy_code_buttons_with_string_index_and_percent_encoding() -> None:
    buttons = [None, {"type": "url", "parameter": "track/São Paulo"}, {"type": "copy_code", "parameter": "SAVE10"}]
    built = build_template_message(WITH_BUTTONS, params(body=BODY_VALUES, buttons=buttons))
    assert built["components"][1:] == [
        {"type": "button", "sub_type": "url", "index": "1",
         "parameters": [{"type": "text", "text": "track/S%C3%A3o%20Paulo"}]},
        {"type": "button", "sub_type": "copy_code", "index": "2",
         "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}]},
    ]


def test_buttons_arrive_without_the_gaps_rails_strips_and_match_by_type_in_order() -> None:
    """Rails drops the nulls of `[null, {url}, {copy_code}]`: what arrives is matched by type, in order."""
    compact = [{"type": "url", "parameter": "t/1"}, {"type": "copy_code", "parameter": "SAVE10"}]
    sparse = [None, *compact]
    built = [build_template_message(WITH_BUTTONS, params(body=BODY_VALUES, buttons=b)) for b in (compact, sparse)]
    assert built[0] == built[1]
    buttons = [c for c in built[0]["components"] if c["type"] == "button"]
    assert [(b["index"], b["sub_type"]) for b in buttons] == [("1", "url"), ("2", "copy_code")]
    assert buttons[0]["parameters"] == [{"type": "text", "text": "t/1"}]


def test_already_encoded_url_value_is_not_encoded_twice() -> None:
    buttons = [None, {"type": "url", "parameter": "a%20b"}, {"type": "copy_code", "parameter": "X"}]
    built = build_template_message(WITH_BUTTONS, params(body=BODY_VALUES, buttons=buttons))
    assert built["components"][1]["parameters"][0]["text"] == "a%20b"


@pytest.mark.parametrize(
    "legacy",
    [["João", "123"], {"1": "João", "2": "123"}, {"body": ["João", "123"]}],
    ids=["list", "flat_dict", "body_list"],
)
def test_legacy_processed_params(legacy: Any) -> None:
    built = build_template_message(POSITIONAL, {"name": "order_update", "processed_params": legacy})
    assert built["components"] == [POSITIONAL_BODY]


def test_legacy_flat_dict_for_named_template() -> None:
    built = build_template_message(NAMED, {"name": "welcome", "processed_params": {"first_name": "A", "order_id": "B"}})
    assert [p["parameter_name"] for p in built["components"][0]["parameters"]] == ["first_name", "order_id"]


MISMATCHES: list[tuple[str, Template, dict[str, Any] | None, str]] = [
    ("too_few", POSITIONAL, params(body={"1": "João"}), "template order_update expects 2 body parameters, got 1"),
    ("too_many", POSITIONAL, params(body={"1": "a", "2": "b", "3": "c"}),
     "template order_update expects 2 body parameters, got 3"),
    ("none_given", POSITIONAL, None, "template order_update expects 2 body parameters, got 0"),
    ("wrong_positional_key", POSITIONAL, params(body={"1": "a", "3": "c"}),
     "template order_update parameter {{2}} is missing"),
    ("empty_value", POSITIONAL, params(body={"1": "João", "2": "  "}),
     "template order_update body parameter {{2}} is empty"),
    ("null_value", POSITIONAL, params(body={"1": None, "2": "x"}),
     "template order_update body parameter {{1}} is empty"),
    ("object_value", POSITIONAL, params(body={"1": {"a": 1}, "2": "x"}),
     "template order_update body parameter {{1}} must be text"),
    ("named_missing", NAMED, params(body={"order_id": "A-1"}), "template welcome parameter {{first_name}} is missing"),
    ("named_extra", NAMED, params(body={"first_name": "a", "order_id": "b", "city": "c"}),
     "template welcome expects 2 body parameters, got 3"),
    ("header_on_headerless", POSITIONAL, params(body=BODY_VALUES, header={"media_url": "https://x.test/a.jpg"}),
     "template order_update has no header, but a header parameter was given"),
    ("image_missing", media("IMAGE"), params(body=BODY_VALUES), "template invoice needs a header image (media_url)"),
    ("document_missing", media("DOCUMENT"), params(body=BODY_VALUES, header={"media_name": "a.pdf"}),
     "template invoice needs a header document (media_url)"),
    ("wrong_media_type", media("DOCUMENT"), params(body=BODY_VALUES, header={"media_url": "u", "media_type": "image"}),
     "template invoice needs a header document, but a image was given"),
    ("text_header_missing", template([{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, BODY2]),
     params(body=BODY_VALUES), "template order_update header parameter {{1}} is missing"),
    ("text_header_extra", template([{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, BODY2]),
     params(body=BODY_VALUES, header={"1": "a", "2": "b"}), "template order_update expects 1 header parameter, got 2"),
    ("text_header_empty", template([{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, BODY2]),
     params(body=BODY_VALUES, header={"1": " "}), "template order_update header parameter {{1}} is empty"),
    ("static_text_header_given", template([{"type": "HEADER", "format": "TEXT", "text": "Order"}, BODY2]),
     params(body=BODY_VALUES, header={"1": "x"}),
     "template order_update header has no variables, but a header parameter was given"),
    ("url_missing", WITH_BUTTONS,
     params(body=BODY_VALUES, buttons=[None, None, {"type": "copy_code", "parameter": "X"}]),
     "template order_update button 1 (URL) url parameter {{1}} is missing"),
    ("copy_code_missing", WITH_BUTTONS, params(body=BODY_VALUES, buttons=[None, {"type": "url", "parameter": "x"}]),
     "template order_update copy code (button 2) is missing"),
    ("copy_code_too_long", WITH_BUTTONS,
     params(body=BODY_VALUES,
            buttons=[None, {"type": "url", "parameter": "x"}, {"type": "copy_code", "parameter": "C" * 16}]),
     "template order_update copy code is 16 characters; the limit is 15"),
    ("copy_code_before_url", WITH_BUTTONS,
     params(body=BODY_VALUES, buttons=[{"type": "copy_code", "parameter": "X"}, {"type": "url", "parameter": "x"}]),
     "template order_update got more url button parameters than it has url buttons that take one"),
    ("static_button_given_value", WITH_BUTTONS,
     params(body=BODY_VALUES, buttons=[None, {"type": "url", "parameter": "x"}, {"type": "copy_code", "parameter": "X"},
                                       {"type": "url", "parameter": "y"}]),
     "template order_update got more url button parameters than it has url buttons that take one"),
    ("more_buttons_than_template", POSITIONAL, params(body=BODY_VALUES, buttons=[{"type": "url", "parameter": "x"}]),
     "template order_update has 0 buttons, but parameters for 1 were given"),
]


@pytest.mark.parametrize(("tpl", "given", "message"), [c[1:] for c in MISMATCHES], ids=[c[0] for c in MISMATCHES])
def test_mismatch_is_refused_with_a_precise_message(tpl: Template, given: dict[str, Any] | None, message: str) -> None:
    with pytest.raises(TemplateParamsError) as raised:
        build_template_message(tpl, given)
    assert str(raised.value) == message


@pytest.mark.parametrize("status", ["PAUSED", "DISABLED", "PENDING", "REJECTED"])
def test_template_that_is_not_approved_is_blocked(status: str) -> None:
    blocked = template([BODY2], status=status)
    with pytest.raises(TemplateNotSendable) as raised:
        build_template_message(blocked, params(body=BODY_VALUES))
    assert str(raised.value) == blocked.blocked_reason()


def test_paused_message_tells_the_agent_what_to_do() -> None:
    with pytest.raises(TemplateNotSendable, match="paused by Meta for low quality.*edit it or use another template"):
        build_template_message(template([BODY2], status="PAUSED"), params(body=BODY_VALUES))


def test_template_errors_are_permanent_adapter_errors() -> None:
    # Retrying cannot fix wrong parameters or a paused template: the queue must dead-letter at once.
    for cls in (TemplateParamsError, TemplateNotSendable):
        assert issubclass(cls, AdapterError)
        assert issubclass(cls, PermanentJobError)


def test_render_text_fills_known_values_and_keeps_the_rest() -> None:
    assert render_text(POSITIONAL, params(body=BODY_VALUES)) == "Hi João, your order 123 shipped."
    assert render_text(POSITIONAL, params(body={"1": "Ann"})) == "Hi Ann, your order {{2}} shipped."
    named = {"processed_params": {"first_name": "Ann", "order_id": "9"}}
    assert render_text(NAMED, named) == "Hi Ann, order 9 shipped."
    assert render_text(POSITIONAL, None) == BODY2["text"]


def test_a_text_header_variable_keeps_a_template_out_of_the_helpdesk_picker_and_the_console_says_why() -> None:
    from adapter.web.console.templates import PICKER_CANNOT_FILL, _explanation

    header = template([{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, BODY2])
    plain = template([{"type": "HEADER", "format": "TEXT", "text": "Your order"}, BODY2])
    assert not header.picker_can_fill and plain.picker_can_fill
    assert _explanation(header) == PICKER_CANNOT_FILL and "WhatsApp panel" in PICKER_CANNOT_FILL
    assert _explanation(plain) == ""
