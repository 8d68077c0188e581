"""Template: one WhatsApp message template, built once from Meta's Graph dict at the edge.

The Graph shape is kept (components as given) because the helpdesk's template picker reads exactly that
shape; everything the adapter needs to decide (placeholders, header format, buttons) is derived from it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from adapter.templates.rejections import explain_rejection

# Meta's placeholders: {{1}} … {{n}} (positional) or {{first_name}} (named). Whitespace inside the braces
# is tolerated when *reading* approved templates; validation.py is strict for new ones.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")

HEADER_MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")


def placeholders(text: str) -> list[str]:
    """Distinct placeholder names in order of first appearance."""
    found: list[str] = []
    for name in PLACEHOLDER.findall(text):
        if name not in found:
            found.append(name)
    return found


def _positional_order(names: list[str]) -> list[str]:
    # Positional values are sent in number order, whatever order the text mentions them in.
    if names and all(name.isdigit() for name in names):
        return sorted(names, key=int)
    return names


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _score(value: Any) -> str | None:
    # The Template API gives quality_score as {"score": "GREEN", "date": …}; webhooks give the bare string.
    if isinstance(value, dict):
        return _optional_str(value.get("score"))
    return _optional_str(value)


@dataclass(frozen=True)
class TemplateButton:
    type: str  # QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, FLOW…
    text: str
    url: str | None
    index: int  # position in the BUTTONS component: the `index` of a button parameter at send time
    phone_number: str | None = None

    @property
    def has_url_variable(self) -> bool:
        return self.type == "URL" and bool(self.url) and PLACEHOLDER.search(self.url or "") is not None


_BLOCKED = {
    "PAUSED": "is paused by Meta for low quality (customers blocked or reported it); edit it or use another template",
    "DISABLED": "was disabled by Meta after repeated low quality and can never be sent again; create a new template",
    "PENDING": "is still in review by Meta (up to 24 hours); wait for approval or use another template",
    "IN_APPEAL": "is rejected and its appeal is still in review; wait for the decision or use another template",
    "FLAGGED": "is flagged by Meta for low quality and may be paused; an admin should review it in WhatsApp Manager",
    "PENDING_DELETION": "is being deleted; use another template",
    "DELETED": "was deleted; use another template",
    "ARCHIVED": "was archived after 12 months without use; unarchive it in WhatsApp Manager or use another template",
    "LIMIT_EXCEEDED": "is over the account's template limit; delete unused templates or use another template",
    "LOCKED": "is locked by Meta and cannot be sent; use another template",
}


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    language: str
    status: str  # upper case, as Meta gives it
    category: str
    parameter_format: str = "POSITIONAL"  # POSITIONAL | NAMED
    components: tuple[dict[str, Any], ...] = ()
    rejected_reason: str | None = None  # Meta's enum: INVALID_FORMAT, PROMOTIONAL…
    quality_score: str | None = None  # GREEN | YELLOW | RED | UNKNOWN
    sub_category: str | None = None
    correct_category: str | None = None  # set while Meta has announced a category change
    rejection_detail: str | None = field(default=None)  # webhook rejection_info.reason (free text)
    rejection_recommendation: str | None = field(default=None)  # webhook rejection_info.recommendation

    @classmethod
    def from_graph(cls, data: dict[str, Any]) -> Template:
        """A Graph template object (GET /{waba}/message_templates item) -> Template. Needs name and language."""
        name = str(data.get("name") or "")
        language = str(data.get("language") or "")
        if not name or not language:
            raise ValueError("a template needs a name and a language")
        components = data.get("components") or []
        info = data.get("rejection_info")
        rejection: dict[str, Any] = info if isinstance(info, dict) else {}
        return cls(
            id=str(data.get("id") or ""),
            name=name,
            language=language,
            status=str(data.get("status") or "").upper(),
            category=str(data.get("category") or "").upper(),
            parameter_format=str(data.get("parameter_format") or "POSITIONAL").upper(),
            components=tuple(copy.deepcopy(c) for c in components if isinstance(c, dict)),
            rejected_reason=_optional_str(data.get("rejected_reason")),
            quality_score=_score(data.get("quality_score")),
            sub_category=_optional_str(data.get("sub_category")),
            correct_category=_optional_str(data.get("correct_category")),
            rejection_detail=_optional_str(rejection.get("reason")),
            rejection_recommendation=_optional_str(rejection.get("recommendation")),
        )

    def to_graph(self) -> dict[str, Any]:
        """The Graph shape again (what the repository stores); from_graph(to_graph()) == self."""
        data = self.to_helpdesk()
        optional: dict[str, Any] = {
            "rejected_reason": self.rejected_reason,
            "quality_score": {"score": self.quality_score} if self.quality_score else None,
            "sub_category": self.sub_category,
            "correct_category": self.correct_category,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        if self.rejection_detail or self.rejection_recommendation:
            data["rejection_info"] = {"reason": self.rejection_detail, "recommendation": self.rejection_recommendation}
        return data

    def to_helpdesk(self) -> dict[str, Any]:
        """The Meta-format object the helpdesk's template picker reads from message_templates."""
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": [copy.deepcopy(c) for c in self.components],
        }

    # --- derived -------------------------------------------------------------------------------

    def component(self, kind: str) -> dict[str, Any] | None:
        for comp in self.components:
            if str(comp.get("type", "")).upper() == kind:
                return comp
        return None

    @property
    def is_named(self) -> bool:
        return self.parameter_format == "NAMED"

    @property
    def body_text(self) -> str:
        body = self.component("BODY")
        return str(body.get("text") or "") if body else ""

    @property
    def body_parameters(self) -> list[str]:
        """Placeholder names of the body: "1", "2"… in number order, or the names in text order."""
        return _positional_order(placeholders(self.body_text))

    @property
    def header_format(self) -> str | None:
        """TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION (or what Meta adds later); None without a header."""
        header = self.component("HEADER")
        if header is None:
            return None
        return str(header.get("format") or "TEXT").upper()

    @property
    def header_text(self) -> str:
        header = self.component("HEADER")
        if header is None or self.header_format != "TEXT":
            return ""
        return str(header.get("text") or "")

    @property
    def header_parameters(self) -> list[str]:
        return _positional_order(placeholders(self.header_text))

    @property
    def picker_can_fill(self) -> bool:
        """Whether the helpdesk's own template picker can send it: Chatwoot's picker has no field for a
        variable in a TEXT header, so such a template sent from there would always be refused."""
        return not self.header_parameters

    @property
    def buttons(self) -> list[TemplateButton]:
        comp = self.component("BUTTONS")
        raw = comp.get("buttons") if comp else None
        if not isinstance(raw, list):
            return []
        return [
            TemplateButton(
                type=str(b.get("type") or "").upper(),
                text=str(b.get("text") or ""),
                url=_optional_str(b.get("url")),
                index=i,
                phone_number=_optional_str(b.get("phone_number")),
            )
            for i, b in enumerate(raw)
            if isinstance(b, dict)
        ]

    @property
    def is_sendable(self) -> bool:
        return self.status == "APPROVED"

    def blocked_reason(self) -> str | None:
        """Why this template cannot be sent, in plain words; None when it can."""
        if self.is_sendable:
            return None
        subject = f"template {self.name} ({self.language})"
        if self.status == "REJECTED":
            explanation = explain_rejection(
                self.rejected_reason, self.rejection_recommendation, detail=self.rejection_detail
            )
            return f"{subject} was rejected by Meta. {explanation}"
        if self.status in _BLOCKED:
            return f"{subject} {_BLOCKED[self.status]}"
        return f"{subject} has status {self.status or 'UNKNOWN'}; only APPROVED templates can be sent"
