"""Template variables ({{1}} or {{first_name}}) and their examples: the part of review most often failed.

Meta rejects numbering that skips or goes backwards, named and numbered variables mixed, and any variable
without an example value (whatsapp.md §5); each check here names the variable to fix.
"""

from __future__ import annotations

import re
from typing import Any

# Every `{{…}}`; what is inside is judged separately so a bad variable gets its own message.
VARIABLE = re.compile(r"\{\{(.*?)\}\}")
POSITIONAL_NAME = re.compile(r"^[0-9]+$")
# Named parameters: lowercase letters and underscores only, as Meta's create rules say.
NAMED_NAME = re.compile(r"^[a-z_]+$")


def too_many_for_the_length(text: str) -> tuple[int, int] | None:
    """(variables, other words) when `text` has too many variables for its length, else None.

    Meta refuses such a body at creation (error 2388293) without publishing the rule; the threshold
    observed and written down by integrators is at least 2 × variables + 1 words that are not variables.
    """
    variables = len(VARIABLE.findall(text))
    words = sum(1 for token in VARIABLE.sub(" ", text).split() if re.search(r"\w", token))  # not lone punctuation
    return (variables, words) if variables and words < 2 * variables + 1 else None


def check_variables(text: str, where: str, *, named: bool, errors: list[str]) -> list[str]:
    """The variable names of `text` in order of appearance; adds an error for each malformed one."""
    names: list[str] = []
    for raw in VARIABLE.findall(text):
        if POSITIONAL_NAME.match(raw) or NAMED_NAME.match(raw):
            names.append(raw)
        else:
            errors.append(
                f"{where} variable {{{{{raw}}}}} is not valid: use {{{{1}}}}, {{{{2}}}}… "
                "or a name of lowercase letters and underscores like {{first_name}}, with no spaces or digits"
            )
    leftover = VARIABLE.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        errors.append(f"{where} has unmatched braces: every variable must be written like {{{{1}}}} or {{{{name}}}}")
    positional = [n for n in names if POSITIONAL_NAME.match(n)]
    named_found = [n for n in names if not POSITIONAL_NAME.match(n)]
    if positional and named_found:
        errors.append(
            f"{where} mixes numbered ({{{{{positional[0]}}}}}) and named ({{{{{named_found[0]}}}}}) variables; "
            "use one kind"
        )
    elif named_found and not named:
        errors.append(
            f"{where} uses named variables like {{{{{named_found[0]}}}}}, so parameter_format must be NAMED"
        )
    elif positional and named:
        errors.append(
            f"{where} uses numbered variables like {{{{{positional[0]}}}}}, but parameter_format is NAMED; "
            "use names like {{first_name}}"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            errors.append(f"{where} uses {{{{{name}}}}} more than once; each variable may appear only once")
        seen.add(name)
    if positional and not named_found:
        numbers = [int(n) for n in dict.fromkeys(positional)]
        expected = list(range(1, len(numbers) + 1))
        if sorted(numbers) != expected:
            shown = ", ".join(f"{{{{{n}}}}}" for n in numbers)
            errors.append(f"{where} variables must be numbered from {{{{1}}}} without gaps; found {shown}")
        elif numbers != expected:
            shown = ", ".join(f"{{{{{n}}}}}" for n in numbers)
            errors.append(f"{where} variables must appear in order {{{{1}}}}, {{{{2}}}}…; found {shown}")
    return list(dict.fromkeys(names))


def check_named_examples(example: Any, key: str, where: str, names: list[str], errors: list[str]) -> None:
    items = example.get(key) if isinstance(example, dict) else None
    given: dict[str, Any] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and item.get("param_name"):
                given[str(item["param_name"])] = item.get("example")
    for name in names:
        if name not in given:
            errors.append(
                f'{where} variable {{{{{name}}}}} needs an example in example.{key}, '
                f'e.g. [{{"param_name": "{name}", "example": "…"}}]'
            )
        elif not str(given[name] or "").strip():
            errors.append(f"{where} variable {{{{{name}}}}} has an empty example in example.{key}")
    for name in given:
        if name not in names:
            errors.append(f"example.{key} has {{{{{name}}}}}, which is not in the {where} text")


def check_positional_examples(example: Any, names: list[str], errors: list[str]) -> None:
    values = example.get("body_text") if isinstance(example, dict) else None
    wanted = len(names)
    if values is None:
        sample = ", ".join('"…"' for _ in names)
        errors.append(
            f"BODY has {wanted} variables, so it needs example.body_text with {wanted} values, e.g. [[{sample}]]"
        )
        return
    if not (isinstance(values, list) and len(values) == 1 and isinstance(values[0], list)):
        errors.append('example.body_text must be a list holding one list of values, e.g. [["João", "123"]]')
        return
    row = values[0]
    if len(row) != wanted:
        errors.append(f"example.body_text has {len(row)} values, but BODY has {wanted} variables")
        return
    for name, value in zip(names, row, strict=True):
        if not str(value or "").strip():
            errors.append(f"example.body_text value for {{{{{name}}}}} is empty")
