"""The adapter's local template checks and the Graph simulator's reading of Meta's create rules agree.

The same definitions go to `validate_definition` and, over loopback, to the simulator's
POST /{waba}/message_templates: what the adapter refuses, Meta refuses too (so no review cycle is
wasted on it), and what it lets through, Meta takes for review.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from adapter.templates.validation import validate_definition
from tests.simulators.graph import GraphSimulator

TOKEN, WABA = "rules-token", "WABA-RULES"
QUICK = {"type": "QUICK_REPLY", "text": "OK"}
LINK = {"type": "URL", "text": "Open", "url": "https://acme.test/orders"}


def definition(text: str, *, header: dict[str, Any] | None = None, buttons: list[dict[str, Any]] | None = None,
               parameter_format: str = "POSITIONAL", example: Any = "auto") -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"type": "BODY", "text": text}
    if example == "auto":
        if parameter_format == "NAMED":
            names = [part.split("}}")[0] for part in text.split("{{")[1:]]
            body["example"] = {"body_text_named_params": [{"param_name": n, "example": "x"} for n in names]}
        else:
            body["example"] = {"body_text": [[f"v{n}" for n in range(text.count("{{"))]]}
    components = ([header] if header else []) + [body] + ([{"type": "BUTTONS", "buttons": buttons}] if buttons else [])
    return {"name": "agreed", "category": "UTILITY", "language": "en_US", "parameter_format": parameter_format,
            "components": components}  # fmt: skip


CASES = {
    "plain": definition("Your order has shipped today."),
    "two-variables": definition("Hi {{1}}, your order {{2}} has shipped."),
    "named": definition("Hi {{first_name}}, your order {{order_id}} has shipped.", parameter_format="NAMED"),
    "leading-variable": definition("{{1}}, your order has shipped today."),
    "trailing-variable": definition("Your order has shipped, {{1}}"),
    "too-many-variables": definition("Hi {{1}}, gate {{2}}. Thanks."),
    "just-enough-words": definition("Hi {{1}}, gate {{2}} now. Thanks."),
    "named-uppercase": definition("Hi {{First}}, your order has shipped.", parameter_format="NAMED"),
    "named-with-digit": definition("Hi {{name2}}, your order has shipped.", parameter_format="NAMED"),
    "no-example": definition("Hi {{1}}, your order has shipped.", example=None),
    "gif-header": definition("Your order has shipped today.", header={"type": "HEADER", "format": "GIF"}),
    "three-url-buttons": definition("Your order has shipped today.", buttons=[LINK, LINK, LINK]),
    "split-quick-replies": definition("Your order has shipped today.", buttons=[QUICK, LINK, QUICK]),
    "long-button": definition("Your order has shipped today.", buttons=[{**QUICK, "text": "x" * 26}]),
    "fine-buttons": definition("Your order has shipped today.", buttons=[QUICK, QUICK, LINK]),
}


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphSimulator]:
    simulator = GraphSimulator(app_secret="rules-secret").start()
    simulator.add_phone_number("5005", display_phone_number="15550005005", waba_id=WABA, access_token=TOKEN)
    yield simulator
    simulator.stop()


@pytest.mark.parametrize("case", list(CASES))
def test_the_adapter_refuses_exactly_what_meta_refuses(graph: GraphSimulator, case: str) -> None:
    graph.clear_templates()
    answer = requests.post(f"{graph.graph_url}/{WABA}/message_templates", json=CASES[case],
                           headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)  # fmt: skip
    local = validate_definition(CASES[case])
    assert (answer.status_code == 200) == (local == []), (answer.text, local)
