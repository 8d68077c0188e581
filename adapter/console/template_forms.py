"""The template form (Settings → WhatsApp templates → New template) to and from Meta's template definition.

A form has a name, a category, a language, an optional text header, the body with {{1}}, {{2}}…
(or {{name}}) variables, one example value per variable (one per line, in order), an optional footer and
optional quick-reply buttons (one per line). adapter/templates validates and submits the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapter.templates.model import Template, placeholders

CATEGORIES = (("UTILITY", "Utility"), ("MARKETING", "Marketing"), ("AUTHENTICATION", "Authentication"))


@dataclass(frozen=True)
class TemplateForm:
    name: str = ""
    category: str = "UTILITY"
    language: str = "en_US"
    header: str = ""
    body: str = ""
    examples: str = ""
    footer: str = ""
    buttons: str = ""

    @classmethod
    def from_mapping(cls, form: Any) -> TemplateForm:
        def text(name: str) -> str:
            return str(form.get(name, "") or "").replace("\r\n", "\n").strip()

        return cls(text("name"), text("category").upper() or "UTILITY", text("language") or "en_US", text("header"),
                   text("body"), text("examples"), text("footer"), text("buttons"))  # fmt: skip

    @classmethod
    def from_template(cls, template: Template) -> TemplateForm:
        body = template.component("BODY") or {}
        example: dict[str, Any] = body["example"] if isinstance(body.get("example"), dict) else {}
        values: list[str] = []
        if isinstance(example.get("body_text"), list) and example["body_text"]:
            values = [str(v) for v in example["body_text"][0]]
        elif isinstance(example.get("body_text_named_params"), list):
            values = [str(p.get("example", "")) for p in example["body_text_named_params"] if isinstance(p, dict)]
        header = template.component("HEADER") or {}
        header_example: dict[str, Any] = header["example"] if isinstance(header.get("example"), dict) else {}
        header_values = header_example.get("header_text") or [
            p.get("example") for p in header_example.get("header_text_named_params") or [] if isinstance(p, dict)
        ]
        if template.header_parameters and header_values:
            values = [str(header_values[0]), *values]
        footer = template.component("FOOTER") or {}
        replies = [b.text for b in template.buttons if b.type == "QUICK_REPLY"]
        return cls(template.name, template.category, template.language, template.header_text, template.body_text,
                   "\n".join(values), str(footer.get("text") or ""), "\n".join(replies))  # fmt: skip

    @property
    def named(self) -> bool:
        return any(not name.isdigit() for name in placeholders(f"{self.header} {self.body}"))

    def components(self) -> list[dict[str, Any]]:
        """Meta's components: the header's variable takes the first example line, the body's the rest."""
        values = [line.strip() for line in self.examples.split("\n") if line.strip()]
        components: list[dict[str, Any]] = []
        header_names = placeholders(self.header)
        if self.header:
            header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": self.header}
            if header_names:
                value = values.pop(0) if values else ""
                header["example"] = (
                    {"header_text_named_params": [{"param_name": header_names[0], "example": value}]}
                    if self.named else {"header_text": [value]}
                )  # fmt: skip
            components.append(header)
        body: dict[str, Any] = {"type": "BODY", "text": self.body}
        names = placeholders(self.body)
        if names:
            padded = values + [""] * (len(names) - len(values))
            if self.named:
                body["example"] = {"body_text_named_params": [
                    {"param_name": name, "example": value} for name, value in zip(names, padded, strict=False)]}
            else:
                body["example"] = {"body_text": [padded[: len(names)]]}
        components.append(body)
        if self.footer:
            components.append({"type": "FOOTER", "text": self.footer})
        replies = [line.strip() for line in self.buttons.split("\n") if line.strip()]
        if replies:
            components.append({"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": r} for r in replies]})
        return components

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "language": self.language,
            "parameter_format": "NAMED" if self.named else "POSITIONAL",
            "components": self.components(),
        }

    def edit(self) -> dict[str, Any]:
        """What an edit may change: category and components (name and language stay)."""
        definition = self.definition()
        return {k: definition[k] for k in ("category", "components", "parameter_format")}
