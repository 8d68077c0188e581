"""The OpenAPI description (GET /openapi.json) against the live app, with schemathesis: every operation, valid and
invalid inputs, signed and authorized the way real callers are; no 5xx, and every answer has a documented status,
content type and body. Also: the description names every route the app has, so it cannot silently fall behind."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis import Case, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from adapter import create_app
from adapter.queue.jobs import Job
from adapter.store import keys
from adapter.templates.model import Template
from tests.conftest import (
    ADMIN_TOKEN,
    PNID,
    VERIFY_TOKEN,
    WABA,
    make_settings,
    open_test_store,
    sign_helpdesk,
    sign_meta,
)
from tests.fuzz.strategies import MAX_BODY_BYTES, fuzz_settings, graph_accepting, reset, services_of

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
DOCUMENTED_PREFIXES = ("/webhooks", "/admin/api", "/healthz", "/readyz")

CONFIG = SchemathesisConfig.from_dict(
    {
        "cache": {"enabled": False},  # nothing written into the work tree
        "generation": {"deterministic": True, "database": "none", "mode": "all"},
        "phases": {"stateful": {"enabled": False}},
    }
)


def _live_app() -> Flask:
    """The app whose /openapi.json is tested. Built at import because schemathesis makes one pytest test per
    operation at collection time; its store is the test database, flushed before every call like the fixtures."""
    settings = make_settings(MAX_BODY_BYTES=str(MAX_BODY_BYTES))
    return create_app(settings, store=open_test_store())


LIVE_APP = _live_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", LIVE_APP, config=CONFIG)


@schema.hook
def flatmap_path_parameters(context: HookContext, path_parameters: dict[str, Any] | None) -> Any:
    """Most calls name the channel that exists, so the operations get past their 404."""
    if not path_parameters or "phone_number_id" not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([{**path_parameters, "phone_number_id": PNID}, path_parameters])


@schema.hook
def flatmap_query(context: HookContext, query: dict[str, Any] | None) -> Any:
    """Meta's handshake with our verify token too, so its 200 (a text/plain echo) is checked as well."""
    if context.operation is None or context.operation.path != "/webhooks/meta" or not isinstance(query, dict):
        return st.just(query)
    return st.sampled_from([{**query, "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}, query])


@pytest.fixture
def api_app(store: redis.Redis) -> Iterator[Flask]:
    """LIVE_APP, on the flushed test database, with Graph accepting every template call."""
    with graph_accepting():
        yield LIVE_APP


def signed_request(case: Case) -> dict[str, Any]:
    """The call's body bytes and the headers a real caller adds: the admin token, or a signature computed over
    exactly those bytes (schemathesis would otherwise serialize the body after any signing hook)."""
    headers: dict[str, str] = {}
    kwargs: dict[str, Any] = {"headers": headers}
    body = b""
    if not isinstance(case.body, NotSet):
        body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
        kwargs["data"] = body
        headers["Content-Type"] = "application/json"
    path, method = case.operation.path, case.method.upper()
    if path.startswith("/admin/api"):
        headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    elif path == "/webhooks/meta" and method == "POST":
        headers.update(sign_meta(body))
    elif path.startswith("/webhooks/helpdesk/"):
        headers.update(sign_helpdesk(body))
    return kwargs


def seed(app: Flask) -> None:
    """The test channel, and one of each kind of listed item, written by the adapter's own code, so the listing
    operations answer with items their schemas are checked against (not only empty lists)."""
    client = app.test_client()
    reset(client)
    services = services_of(client)
    job = Job("meta.message", f"{PNID}:16505551234", {"message": {"id": "wamid.A", "type": "text"}})
    services.queue.bury(keys.stream(0), "0-1", job, "(131026) Message undeliverable")
    services.events.keep_unrouted(job)
    services.events.record("meta", {"payload": {"object": "whatsapp_business_account", "entry": []}})
    rejected = {"id": "1", "name": "order_update", "language": "en_US", "status": "REJECTED", "category": "UTILITY",
                "rejected_reason": "INVALID_FORMAT", "components": [{"type": "BODY", "text": "Hi"}]}
    services.templates.replace_all(WABA, [Template.from_graph(rejected)])


@schema.parametrize()
@fuzz_settings(max_examples=25)
def test_every_operation_keeps_its_documented_contract(case: Case, api_app: Flask) -> None:
    seed(api_app)
    # /readyz documents its 503 (no worker runs here); elsewhere a documented 5xx is still a failure here.
    checks = CHECKS[1:] if case.operation.path == "/readyz" else CHECKS
    case.call_and_validate(checks=checks, **signed_request(case))


# --- the description keeps up with the app -------------------------------------------------------


def _shape(path: str) -> str:
    """`/a/<x>/b` and `/a/{y}/b` both become `/a/{}/b`: parameter names may differ, positions may not."""
    return re.sub(r"<[^>]*>|\{[^}]*\}", "{}", path)


def test_openapi_json_lists_every_route_of_the_app(api_app: Flask) -> None:
    served = api_app.test_client().get("/openapi.json")
    assert served.status_code == 200 and served.mimetype == "application/json"
    documented = {
        (_shape(path), method.upper())
        for path, item in served.get_json()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    routes = {
        (_shape(rule.rule), method)
        for rule in api_app.url_map.iter_rules()
        if rule.rule.startswith(DOCUMENTED_PREFIXES)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    }
    assert routes, "no route found: the prefixes are wrong"
    assert routes - documented == set(), f"routes missing from adapter/web/openapi.json: {sorted(routes - documented)}"
    assert documented - routes == set(), f"documented routes the app lacks: {sorted(documented - routes)}"


def test_openapi_json_is_the_file_beside_the_blueprint(api_app: Flask) -> None:
    from adapter.web import openapi

    served = api_app.test_client().get("/openapi.json").get_json()
    assert served == json.loads(openapi.SPEC_PATH.read_text(encoding="utf-8"))
    assert served["openapi"].startswith("3.")
