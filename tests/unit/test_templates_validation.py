"""Local template review rules (whatsapp.md §5): one case per rule, each with its exact message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from adapter.templates.validation import explain_rejection, validate_definition, validate_edit


def valid() -> dict[str, Any]:
    return {
        "name": "order_update",
        "category": "utility",
        "language": "en_US",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} has shipped.",
                "example": {"body_text": [["Ann", "A-1"]]},
            },
            {"type": "FOOTER", "text": "Acme Inc."},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Stop updates"},
                    {"type": "QUICK_REPLY", "text": "Talk to us"},
                    {"type": "URL", "text": "Track", "url": "https://x.test/t/{{1}}", "example": ["https://x.test/t/1"]},
                    {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001111"},
                    {"type": "COPY_CODE", "example": "SAVE10"},
                ],
            },
        ],
    }


def named() -> dict[str, Any]:
    return {
        "name": "welcome",
        "category": "MARKETING",
        "language": "pt_BR",
        "parameter_format": "NAMED",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{first_name}}, your code is {{code}} for today.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "first_name", "example": "João"},
                        {"param_name": "code", "example": "X1"},
                    ]
                },
            }
        ],
    }


def comp(definition: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in definition["components"] if c["type"] == kind)


def body(text: str, *values: str) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        comp(d, "BODY")["text"] = text
        comp(d, "BODY")["example"] = {"body_text": [list(values)]}

    return apply


def buttons(*items: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        comp(d, "BUTTONS")["buttons"] = list(items)

    return apply


def setter(kind: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        comp(d, kind).update(values)

    return apply


def top(**values: Any) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        for key, value in values.items():
            if value is None:
                d.pop(key, None)
            else:
                d[key] = value

    return apply


QR = {"type": "QUICK_REPLY", "text": "Ok"}
URL = {"type": "URL", "text": "Open", "url": "https://x.test/a"}

CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("name_missing", top(name=None), "name is required"),
    ("name_uppercase", top(name="Order Update"),
     "name 'Order Update' may only use lowercase letters, digits and underscores (1 to 512 characters)"),
    ("name_too_long", top(name="a" * 513),
     f"name {'a' * 513!r} may only use lowercase letters, digits and underscores (1 to 512 characters)"),
    ("category_missing", top(category=None), "category is required: UTILITY, MARKETING or AUTHENTICATION"),
    ("category_unknown", top(category="promo"), "category 'promo' must be UTILITY, MARKETING or AUTHENTICATION"),
    ("language_missing", top(language=None), "language is required, e.g. en_US"),
    ("parameter_format_unknown", top(parameter_format="numbers"),
     "parameter_format 'numbers' must be POSITIONAL or NAMED"),
    ("no_body", lambda d: d["components"].remove(comp(d, "BODY")), "a BODY component is required"),
    ("two_bodies", lambda d: d["components"].append(copy.deepcopy(comp(d, "BODY"))),
     "only one BODY component is allowed, found 2"),
    ("unknown_component", lambda d: d["components"].append({"type": "CAROUSEL"}),
     "components[4] has type 'CAROUSEL'; use HEADER, BODY, FOOTER or BUTTONS"),
    ("body_too_long", body("Hi " + "x" * 1030 + "."), "BODY text is 1034 characters; the limit is 1024"),
    ("positional_gap", body("Hi {{1}}, your order {{3}} is ready now.", "a", "b"),
     "BODY variables must be numbered from {{1}} without gaps; found {{1}}, {{3}}"),
    ("positional_out_of_order", body("Hi {{2}}, your order {{1}} is ready now.", "a", "b"),
     "BODY variables must appear in order {{1}}, {{2}}…; found {{2}}, {{1}}"),
    ("positional_duplicate", body("Hi {{1}}, hello again {{1}}, all is ok.", "a"),
     "BODY uses {{1}} more than once; each variable may appear only once"),
    ("mixed_variables", body("Hi {{1}}, your order {{order_id}} is ready now.", "a", "b"),
     "BODY mixes numbered ({{1}}) and named ({{order_id}}) variables; use one kind"),
    ("named_without_named_format", body("Hi {{first_name}}, all ok.", "a"),
     "BODY uses named variables like {{first_name}}, so parameter_format must be NAMED"),
    ("malformed_variable", body("Hi {{ First }}, all ok."),
     "BODY variable {{ First }} is not valid: use {{1}}, {{2}}… or a name of lowercase letters and "
     "underscores like {{first_name}}, with no spaces or digits"),
    ("unmatched_braces", body("Hi {{1} ok."),
     "BODY has unmatched braces: every variable must be written like {{1}} or {{name}}"),
    ("starts_with_variable", body("{{1}}, your order has shipped.", "a"),
     "BODY cannot start with a variable ({{1}}); put some words before it"),
    ("ends_with_variable", body("Your order has shipped, {{1}}", "a"),
     "BODY cannot end with a variable ({{1}}); put some words or a full stop after it"),
    ("too_many_variables_for_the_length", body("Hi {{1}}, gate {{2}}. Thanks.", "a", "b"),
     "BODY has 2 variables and only 3 other words; Meta refuses templates with too many variables for their "
     "length: write at least 5 words besides the variables"),
    ("gif_header", lambda d: comp(d, "HEADER").update(format="GIF"),
     "HEADER GIF is not available on the WhatsApp Cloud API; use a VIDEO header with an MP4 instead"),
    ("adjacent_variables", body("Hi {{1}} {{2}}, your order shipped today.", "a", "b"),
     "BODY variables {{1}} and {{2}} are next to each other; put words between them"),
    ("example_missing", setter("BODY", example=None),
     'BODY has 2 variables, so it needs example.body_text with 2 values, e.g. [["…", "…"]]'),
    ("example_not_nested", setter("BODY", example={"body_text": ["Ann", "A-1"]}),
     'example.body_text must be a list holding one list of values, e.g. [["João", "123"]]'),
    ("example_count", setter("BODY", example={"body_text": [["Ann"]]}),
     "example.body_text has 1 values, but BODY has 2 variables"),
    ("example_empty", setter("BODY", example={"body_text": [["Ann", " "]]}),
     "example.body_text value for {{2}} is empty"),
    ("header_format_missing", setter("HEADER", format=None),
     "HEADER needs a format: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION"),
    ("header_too_long", setter("HEADER", text="x" * 61, example=None), "HEADER text is 61 characters; the limit is 60"),
    ("header_two_variables", setter("HEADER", text="{{1}} and {{2}}"),
     "HEADER text may have at most one variable, found 2"),
    ("header_example_missing", setter("HEADER", example={}),
     'HEADER variable {{1}} needs an example in example.header_text, e.g. ["…"]'),
    ("header_media_without_handle", lambda d: comp(d, "HEADER").update(format="IMAGE", text=None, example={}),
     "HEADER IMAGE needs a sample file in example.header_handle (a Resumable Upload handle)"),
    ("footer_too_long", setter("FOOTER", text="x" * 61), "FOOTER text is 61 characters; the limit is 60"),
    ("footer_variable", setter("FOOTER", text="Bye {{1}}"), "FOOTER cannot contain variables"),
    ("too_many_buttons", buttons(*[QR] * 11), "a template can have at most 10 buttons, found 11"),
    ("quick_reply_text_too_long", buttons({"type": "QUICK_REPLY", "text": "x" * 26}),
     "button 1 (QUICK_REPLY) text is 26 characters; the limit is 25"),
    ("three_url_buttons", buttons(URL, URL, URL), "a template can have at most 2 URL buttons, found 3"),
    ("url_too_long", buttons({**URL, "url": "https://x.test/" + "a" * 1990}),
     "button 1 (URL) url is 2005 characters; the limit is 2000"),
    ("url_variable_not_trailing", buttons({**URL, "url": "https://x.test/{{1}}/track", "example": ["x"]}),
     "button 1 (URL) url may have only one variable, {{1}}, at its very end"),
    ("url_two_variables", buttons({**URL, "url": "https://x.test/{{1}}/{{2}}", "example": ["x"]}),
     "button 1 (URL) url may have only one variable, {{1}}, at its very end"),
    ("url_variable_without_example", buttons({**URL, "url": "https://x.test/t/{{1}}"}),
     'button 1 (URL) url has a variable, so it needs a full example url in example, e.g. ["https://x.test/t/summer"]'),
    ("two_phone_buttons", buttons(*[{"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+1555"}] * 2),
     "a template can have at most 1 PHONE_NUMBER button, found 2"),
    ("phone_too_long", buttons({"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+" + "1" * 20}),
     "button 1 (PHONE_NUMBER) phone_number is 21 characters; the limit is 20"),
    ("two_copy_code_buttons", buttons({"type": "COPY_CODE", "example": "A"}, {"type": "COPY_CODE", "example": "B"}),
     "a template can have at most 1 COPY_CODE button, found 2"),
    ("copy_code_too_long", buttons({"type": "COPY_CODE", "example": "X" * 16}),
     "button 1 (COPY_CODE) example is 16 characters; the limit is 15"),
    ("quick_replies_split", buttons(QR, URL, QR),
     "QUICK_REPLY buttons must be next to each other, not split by other buttons"),
    ("unknown_button", buttons({"type": "TELEPORT", "text": "Go"}),
     "button 1 (TELEPORT) has an unknown type; use QUICK_REPLY, URL, PHONE_NUMBER or COPY_CODE"),
]


@pytest.mark.parametrize(("mutate", "message"), [(m, msg) for _, m, msg in CASES], ids=[c[0] for c in CASES])
def test_each_rule_reports_exactly_its_own_message(mutate: Callable[[dict[str, Any]], None], message: str) -> None:
    definition = valid()
    mutate(definition)
    assert validate_definition(definition) == [message]


def test_a_valid_definition_has_no_errors() -> None:
    assert validate_definition(valid()) == []
    assert validate_definition(named()) == []


NAMED_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("numbered_in_named", body("Hi {{1}}, all ok."),
     "BODY uses numbered variables like {{1}}, but parameter_format is NAMED; "
     "use names like {{first_name}}"),
    ("named_duplicate", lambda d: comp(d, "BODY").update(text="Hi {{first_name}}, yes {{first_name}} and {{code}}."),
     "BODY uses {{first_name}} more than once; each variable may appear only once"),
    ("named_example_missing",
     setter("BODY", example={"body_text_named_params": [{"param_name": "code", "example": "1"}]}),
     'BODY variable {{first_name}} needs an example in example.body_text_named_params, '
     'e.g. [{"param_name": "first_name", "example": "…"}]'),
    ("named_example_unknown", lambda d: comp(d, "BODY")["example"]["body_text_named_params"].append(
        {"param_name": "city", "example": "Rio"}),
     "example.body_text_named_params has {{city}}, which is not in the BODY text"),
    ("named_with_a_digit", lambda d: comp(d, "BODY").update(text="Hi {{name2}}, all ok."),
     "BODY variable {{name2}} is not valid: use {{1}}, {{2}}… or a name of lowercase letters and underscores "
     "like {{first_name}}, with no spaces or digits"),
    ("named_uppercase", lambda d: comp(d, "BODY").update(text="Hi {{First}}, all ok."),
     "BODY variable {{First}} is not valid: use {{1}}, {{2}}… or a name of lowercase letters and underscores "
     "like {{first_name}}, with no spaces or digits"),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [(m, msg) for _, m, msg in NAMED_CASES], ids=[c[0] for c in NAMED_CASES]
)
def test_named_variable_rules(mutate: Callable[[dict[str, Any]], None], message: str) -> None:
    definition = named()
    mutate(definition)
    assert message in validate_definition(definition)
    assert len(validate_definition(definition)) <= 2  # the rule's message, at most one consequence


def authentication(body_text: str | None, header: dict[str, Any] | None = None) -> dict[str, Any]:
    body_comp: dict[str, Any] = {"type": "BODY", "add_security_recommendation": True}
    if body_text is not None:
        body_comp["text"] = body_text
    components: list[dict[str, Any]] = [
        body_comp,
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ]
    if header:
        components.insert(0, header)
    return {"name": "login_code", "category": "AUTHENTICATION", "language": "en_US", "components": components}


def test_authentication_template_with_meta_written_body_is_valid() -> None:
    assert validate_definition(authentication(None)) == []


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            authentication("Your code: see https://x.test now."),
            "AUTHENTICATION templates cannot contain URLs in the BODY",
        ),
        (authentication("Your code is ready 🔐 now."), "AUTHENTICATION templates cannot contain emoji in the BODY"),
        (
            authentication(None, {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["h"]}}),
            "AUTHENTICATION templates cannot have a IMAGE header",
        ),
    ],
    ids=["url", "emoji", "media_header"],
)
def test_authentication_rules(definition: dict[str, Any], message: str) -> None:
    assert message in validate_definition(definition)


def test_not_an_object_is_one_clear_error() -> None:
    assert validate_definition([]) == ["the template definition must be a JSON object"]  # type: ignore[arg-type]


def test_edit_checks_only_what_changes() -> None:
    assert validate_edit({"category": "marketing"}) == []
    assert validate_edit({"name": "x"}) == ["nothing to edit: give components, category or message_send_ttl_seconds"]
    starts_badly = {"type": "BODY", "text": "{{1}} hi there, welcome", "example": {"body_text": [["a"]]}}
    assert validate_edit({"components": [starts_badly]}) == [
        "BODY cannot start with a variable ({{1}}); put some words before it"
    ]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("ABUSIVE_CONTENT", "Business or Commerce Policy"),
        ("INCORRECT_CATEGORY", "usually promotional content in a UTILITY template"),
        ("INVALID_FORMAT", "a variable at the start or end of the body"),
        ("PROMOTIONAL", "Usually promotional content in a utility template, or missing opt-in"),
        ("SCAM", "could be used to deceive customers"),
        ("TAG_CONTENT_MISMATCH", "does not match what the template says"),
        ("NONE", "Meta gave no specific reason"),
        (None, "Meta gave no specific reason"),
        ("promotional", "Usually promotional content in a utility template"),
        ("SOMETHING_NEW", "Meta rejected it with reason SOMETHING_NEW."),
    ],
)
def test_explain_rejection_says_cause_and_fix(reason: str | None, expected: str) -> None:
    assert expected in explain_rejection(reason, None)


def test_explain_rejection_adds_metas_recommendation() -> None:
    text = explain_rejection("INVALID_FORMAT", "Separate parameters with descriptive text.")
    assert text.endswith("Meta recommends: Separate parameters with descriptive text.")
