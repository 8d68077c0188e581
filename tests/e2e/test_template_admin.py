"""Creating, editing and deleting templates through the admin API, validated before Meta sees them."""

from __future__ import annotations

from typing import Any

from tests.conftest import ADMIN_TOKEN, PNID, wait_for
from tests.e2e.conftest import World

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def call(world: World, method: str, path: str, **kw: Any) -> Any:
    import requests

    return requests.request(method, f"{world.adapter.url}/admin/api/channels/{PNID}{path}", headers=AUTH,
                            timeout=10, **kw)


def test_invalid_templates_are_refused_locally_with_precise_messages(world: World) -> None:
    bad = {"name": "Order Update", "category": "utility", "language": "en_US",
           "components": [{"type": "BODY", "text": "{{1}} your order {{3}}"}]}
    response = call(world, "POST", "/templates", json=bad)
    assert response.status_code == 400
    details = response.json()["details"]
    assert any(d.startswith("name 'Order Update' may only use lowercase") for d in details)
    assert any("example.body_text" in d for d in details)
    assert not any(r["path"].endswith("/message_templates") and r["method"] == "POST"
                   for r in world.graph.requests_log)


def test_a_template_is_created_listed_and_deleted(world: World) -> None:
    good = {"name": "order_update", "category": "UTILITY", "language": "en_US",
            "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.",
                            "example": {"body_text": [["Ana", "A-1"]]}}]}
    created = call(world, "POST", "/templates", json=good)
    assert created.status_code == 201 and created.json()["status"] == "PENDING"
    listed = wait_for(lambda: call(world, "GET", "/templates").json()["templates"], message="synced list")
    assert listed[0]["name"] == "order_update" and listed[0]["status"] == "PENDING"
    assert "still in review by Meta" in listed[0]["why_not_sendable"]
    assert call(world, "DELETE", "/templates/order_update").status_code == 200
    wait_for(lambda: call(world, "GET", "/templates").json()["templates"] == [], message="deleted")
