"""Templates against the real loopback Graph simulator: paged sync, create/edit/delete, and sends Meta accepts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from adapter.errors import BadRequest, GraphApiError
from adapter.meta.client import GraphClient
from adapter.templates.management import create_template, delete_template, edit_template
from adapter.templates.repository import TemplateRepository
from adapter.templates.sending import build_template_message
from adapter.templates.sync import fetch_all_templates, sync_waba
from tests.simulators.graph import GraphSimulator

PNID = "106540352242922"
WABA = "102290129340398"
TOKEN = "graph-token-1"


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    simulator = GraphSimulator().start()
    simulator.add_phone_number(PNID, display_phone_number="15550783881", waba_id=WABA, access_token=TOKEN)
    yield simulator
    simulator.stop()


@pytest.fixture
def graph(sim: GraphSimulator) -> GraphClient:
    return GraphClient(sim.graph_url, timeout=5, media_max_bytes=1024)


def body_template(name: str, language: str = "en_US", **extra: Any) -> dict[str, Any]:
    return {"name": name, "language": language, "category": "UTILITY",
            "components": [{"type": "BODY", "text": f"Hi {{{{1}}}}, this is {name}."}], **extra}


def template_gets(sim: GraphSimulator) -> list[dict[str, Any]]:
    return [r for r in sim.requests_log if r["method"] == "GET" and r["path"].endswith("/message_templates")]


def test_sync_follows_paging_next_and_returns_all_250(sim: GraphSimulator, graph: GraphClient,
                                                       store: redis.Redis) -> None:
    ids = [sim.add_template(WABA, body_template(f"t_{i:03d}")) for i in range(250)]
    repo = TemplateRepository(store)
    synced = sync_waba(graph, repo, TOKEN, WABA)
    assert sorted(t.id for t in synced) == sorted(ids)
    assert len(template_gets(sim)) == 3  # 100 + 100 + 50
    assert len(repo.list(WABA)) == 250
    assert repo.get(WABA, "t_249", "en-us") is not None


def test_fetch_with_small_pages_and_an_exact_multiple(sim: GraphSimulator, graph: GraphClient) -> None:
    for i in range(250):
        sim.add_template(WABA, body_template(f"t_{i:03d}"))
    assert len({t.name for t in fetch_all_templates(graph, TOKEN, WABA, page_size=25)}) == 250
    assert len(template_gets(sim)) == 10
    sim.requests_log.clear()
    assert len(fetch_all_templates(graph, TOKEN, WABA, page_size=50)) == 250
    assert len(template_gets(sim)) == 5  # no extra request after the last full page


def test_sync_reads_status_rejection_and_quality_fields(sim: GraphSimulator, graph: GraphClient) -> None:
    rejected = sim.add_template(WABA, body_template("bad_one", status="REJECTED", rejected_reason="PROMOTIONAL",
                                                    quality_score={"score": "RED", "date": 1}))
    (template,) = fetch_all_templates(graph, TOKEN, WABA)
    assert (template.id, template.status, template.rejected_reason, template.quality_score) == (
        rejected, "REJECTED", "PROMOTIONAL", "RED",
    )


def test_sync_of_an_empty_waba_clears_the_store(sim: GraphSimulator, graph: GraphClient, store: redis.Redis) -> None:
    repo = TemplateRepository(store)
    tid = sim.add_template(WABA, body_template("soon_gone"))
    assert len(sync_waba(graph, repo, TOKEN, WABA)) == 1
    delete_template(graph, TOKEN, WABA, "soon_gone", tid)
    assert sync_waba(graph, repo, TOKEN, WABA) == []
    assert repo.list(WABA) == []


def test_sync_with_a_foreign_token_is_a_graph_auth_error(sim: GraphSimulator, graph: GraphClient) -> None:
    with pytest.raises(GraphApiError) as raised:
        fetch_all_templates(graph, "not-a-token", WABA)
    assert raised.value.code == 190


DEFINITION: dict[str, Any] = {
    "name": "order_update",
    "category": "utility",
    "language": "en_US",
    "components": [
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.", "example": {"body_text": [["Ann", "A-1"]]}},
        {"type": "FOOTER", "text": "Acme"},
    ],
}


def test_create_validates_then_posts(sim: GraphSimulator, graph: GraphClient) -> None:
    answer = create_template(graph, TOKEN, WABA, DEFINITION)
    assert answer["status"] == "PENDING" and answer["category"] == "UTILITY"
    stored = sim.templates[answer["id"]]
    assert (stored["name"], stored["language"], stored["category"]) == ("order_update", "en_US", "UTILITY")


def test_create_with_local_errors_never_reaches_meta(sim: GraphSimulator, graph: GraphClient) -> None:
    broken = {**DEFINITION, "components": [{"type": "BODY", "text": "{{1}} shipped {{2}}"}]}
    with pytest.raises(BadRequest) as raised:
        create_template(graph, TOKEN, WABA, broken)
    assert raised.value.message == "invalid template"
    assert raised.value.details == [
        "BODY cannot start with a variable ({{1}}); put some words before it",
        "BODY cannot end with a variable ({{2}}); put some words or a full stop after it",
        "BODY has 2 variables and only 1 other word; Meta refuses templates with too many variables for their "
        "length: write at least 5 words besides the variables",
        'BODY has 2 variables, so it needs example.body_text with 2 values, e.g. [["…", "…"]]',
    ]
    assert sim.requests_log == []


def test_create_duplicate_language_is_metas_error(sim: GraphSimulator, graph: GraphClient) -> None:
    create_template(graph, TOKEN, WABA, DEFINITION)
    with pytest.raises(GraphApiError) as raised:
        create_template(graph, TOKEN, WABA, DEFINITION)
    assert raised.value.code == 100
    assert "already exists" in raised.value.details


def test_edit_sends_components_back_to_review(sim: GraphSimulator, graph: GraphClient) -> None:
    tid = sim.add_template(WABA, body_template("welcome"))
    components = [{"type": "BODY", "text": "Hello {{1}}, welcome back.", "example": {"body_text": [["Ann"]]}}]
    assert edit_template(graph, TOKEN, tid, {"components": components}) == {"success": True}
    assert sim.templates[tid]["components"] == components
    assert sim.templates[tid]["status"] == "PENDING"


def test_edit_with_local_errors_is_refused(sim: GraphSimulator, graph: GraphClient) -> None:
    tid = sim.add_template(WABA, body_template("welcome"))
    with pytest.raises(BadRequest) as raised:
        edit_template(graph, TOKEN, tid, {"components": [{"type": "FOOTER", "text": "x"}]})
    assert raised.value.details == ["a BODY component is required"]
    assert sim.templates[tid]["status"] == "APPROVED"


def test_delete_one_language_by_id_then_every_language_by_name(sim: GraphSimulator, graph: GraphClient) -> None:
    en = sim.add_template(WABA, body_template("promo", "en_US"))
    pt = sim.add_template(WABA, body_template("promo", "pt_BR"))
    es = sim.add_template(WABA, body_template("promo", "es"))
    assert delete_template(graph, TOKEN, WABA, "promo", pt) == {"success": True}
    assert set(sim.templates) == {en, es}
    delete_template(graph, TOKEN, WABA, "promo")
    assert sim.templates == {}
    with pytest.raises(GraphApiError):
        delete_template(graph, TOKEN, WABA, "promo")


@pytest.mark.parametrize(
    ("template", "params"),
    [
        (
            {"name": "order_update", "language": "pt_BR", "category": "UTILITY", "components": [
                {"type": "HEADER", "format": "DOCUMENT"},
                {"type": "BODY", "text": "Oi {{1}}, pedido {{2}} enviado."},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Rastrear", "url": "https://x.test/{{1}}"},
                    {"type": "COPY_CODE", "example": "SAVE10"}]},
            ]},
            {"name": "order_update", "language": "pt_BR", "processed_params": {
                "body": {"1": "João", "2": "123"},
                "header": {"media_url": "https://x.test/i.pdf", "media_type": "document", "media_name": "i.pdf"},
                "buttons": [{"type": "url", "parameter": "track/123"}, {"type": "copy_code", "parameter": "SAVE10"}]}},
        ),
        (
            {"name": "welcome", "language": "en_US", "category": "MARKETING", "parameter_format": "NAMED",
             "components": [{"type": "HEADER", "format": "TEXT", "text": "Hi {{first_name}}"},
                            {"type": "BODY", "text": "Dear {{first_name}}, use {{code}} today."}]},
            {"name": "welcome", "language": "en_US",
             "processed_params": {"body": {"code": "X1", "first_name": "Ann"}, "header": {"first_name": "Ann"}}},
        ),
    ],
    ids=["positional_media_buttons", "named_text_header"],
)
def test_built_messages_are_accepted_by_metas_template_checks(
    sim: GraphSimulator, graph: GraphClient, store: redis.Redis, template: dict[str, Any], params: dict[str, Any]
) -> None:
    sim.add_template(WABA, template)
    repo = TemplateRepository(store)
    sync_waba(graph, repo, TOKEN, WABA)
    stored = repo.get(WABA, params["name"], params["language"])
    assert stored is not None
    body = {"messaging_product": "whatsapp", "to": "+5511999990000", "type": "template",
            "template": build_template_message(stored, params)}
    assert graph.send_message(PNID, TOKEN, body).startswith("wamid.")
    assert sim.sent_messages[-1]["body"]["template"] == body["template"]
