"""Template.from_graph: fields, derived placeholders/header/buttons, sendability and the helpdesk shape."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.templates.model import Template, TemplateButton

# Shape of a GET /{waba}/message_templates item (whatsapp.md §5).
ORDER_UPDATE: dict[str, Any] = {
    "id": "1689556908129835",
    "name": "order_update",
    "language": "en_US",
    "status": "approved",
    "category": "UTILITY",
    "components": [
        {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["4::aW"]}},
        {"type": "BODY", "text": "Hi {{1}}, order {{2}} is on its way. Total {{3}}.",
         "example": {"body_text": [["Ann", "A-1", "$5"]]}},
        {"type": "FOOTER", "text": "Acme"},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "Stop"},
            {"type": "URL", "text": "Track", "url": "https://x.test/t/{{1}}", "example": ["https://x.test/t/1"]},
            {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001111"},
            {"type": "COPY_CODE", "example": "SAVE10"},
        ]},
    ],
    "rejected_reason": "NONE",
    "quality_score": {"score": "GREEN", "date": 1751247548},
}

NAMED: dict[str, Any] = {
    "id": "77",
    "name": "welcome",
    "language": "pt_BR",
    "status": "APPROVED",
    "category": "MARKETING",
    "parameter_format": "NAMED",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Hello {{first_name}}"},
        {"type": "BODY", "text": "Dear {{first_name}}, use {{code}} at {{store_name}} today."},
    ],
}


def test_from_graph_reads_fields_and_upper_cases_enums() -> None:
    t = Template.from_graph(ORDER_UPDATE)
    assert (t.id, t.name, t.language, t.status, t.category) == (
        "1689556908129835", "order_update", "en_US", "APPROVED", "UTILITY",
    )
    assert t.parameter_format == "POSITIONAL"  # Meta's default when absent
    assert t.quality_score == "GREEN"
    assert t.rejected_reason == "NONE"
    assert len(t.components) == 4


def test_positional_derived_values() -> None:
    t = Template.from_graph(ORDER_UPDATE)
    assert t.body_text.startswith("Hi {{1}}")
    assert t.body_parameters == ["1", "2", "3"]
    assert t.header_format == "DOCUMENT"
    assert t.header_parameters == []
    assert t.buttons == [
        TemplateButton("QUICK_REPLY", "Stop", None, 0),
        TemplateButton("URL", "Track", "https://x.test/t/{{1}}", 1),
        TemplateButton("PHONE_NUMBER", "Call", None, 2, phone_number="+15550001111"),
        TemplateButton("COPY_CODE", "", None, 3),
    ]
    assert t.buttons[1].has_url_variable
    assert not t.buttons[0].has_url_variable


def test_named_derived_values_keep_text_order() -> None:
    t = Template.from_graph(NAMED)
    assert t.is_named
    assert t.body_parameters == ["first_name", "code", "store_name"]
    assert t.header_format == "TEXT"
    assert t.header_parameters == ["first_name"]
    assert t.buttons == []


def test_positional_parameters_come_in_number_order_even_if_text_differs() -> None:
    components = [{"type": "BODY", "text": "a {{2}} b {{1}} c"}]
    t = Template.from_graph({**NAMED, "parameter_format": None, "components": components})
    assert t.body_parameters == ["1", "2"]


def test_no_header_and_location_header() -> None:
    assert Template.from_graph({**NAMED, "components": [{"type": "BODY", "text": "x"}]}).header_format is None
    located = Template.from_graph({**NAMED, "components": [{"type": "HEADER", "format": "location"}]})
    assert located.header_format == "LOCATION"


def test_from_graph_needs_name_and_language() -> None:
    with pytest.raises(ValueError):
        Template.from_graph({"id": "1", "language": "en_US"})


def test_to_graph_round_trips_including_webhook_extras() -> None:
    t = Template.from_graph({**ORDER_UPDATE, "status": "REJECTED", "rejected_reason": "INVALID_FORMAT",
                             "rejection_info": {"reason": "Adjacent params.", "recommendation": "Add text."},
                             "correct_category": "MARKETING"})
    assert Template.from_graph(t.to_graph()) == t


def test_to_helpdesk_is_the_meta_shape_the_picker_reads() -> None:
    t = Template.from_graph(NAMED)
    assert t.to_helpdesk() == {
        "id": "77",
        "name": "welcome",
        "language": "pt_BR",
        "status": "APPROVED",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "components": NAMED["components"],
    }
    t.to_helpdesk()["components"][0]["text"] = "changed"
    assert t.header_text == "Hello {{first_name}}"  # the template's own components are not shared


def status(value: str, **extra: Any) -> Template:
    return Template.from_graph({**NAMED, "status": value, **extra})


def test_only_approved_is_sendable() -> None:
    assert status("APPROVED").is_sendable
    assert status("APPROVED").blocked_reason() is None
    for value in ("PAUSED", "DISABLED", "PENDING", "REJECTED", "IN_APPEAL", "FLAGGED", "DELETED", "SOMETHING_NEW"):
        assert not status(value).is_sendable
        assert status(value).blocked_reason()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PAUSED", "template welcome (pt_BR) is paused by Meta for low quality (customers blocked or reported it); "
                   "edit it or use another template"),
        ("DISABLED", "template welcome (pt_BR) was disabled by Meta after repeated low quality and can never be "
                     "sent again; create a new template"),
        ("PENDING", "template welcome (pt_BR) is still in review by Meta (up to 24 hours); wait for approval or use "
                    "another template"),
        ("SOMETHING_NEW", "template welcome (pt_BR) has status SOMETHING_NEW; only APPROVED templates can be sent"),
    ],
)
def test_blocked_reason_in_plain_words(value: str, expected: str) -> None:
    assert status(value).blocked_reason() == expected


def test_rejected_reason_explains_meta_reason_and_recommendation() -> None:
    info = {"reason": "Looks like an offer.", "recommendation": "Use MARKETING."}
    reason = status("REJECTED", rejected_reason="PROMOTIONAL", rejection_info=info).blocked_reason()
    assert reason is not None
    assert reason.startswith("template welcome (pt_BR) was rejected by Meta. Meta judged the content promotional.")
    assert "Meta says: Looks like an offer." in reason
    assert reason.endswith("Meta recommends: Use MARKETING.")
