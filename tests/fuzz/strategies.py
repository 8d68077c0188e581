"""What the fuzz tests share: hypothesis settings, JSON and odd-Unicode strategies, contract-sample mutations,
and the checks every answer must pass (a precise JSON error or a success, never a 5xx or a traceback)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
import responses
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from adapter.services import Services
from adapter.store import keys
from tests.conftest import make_channel

MAX_BODY_BYTES = 20000  # the small limit the fuzzed apps run with, so "too large" is cheap to reach

# Every status a request error is answered with, and the code the error handler gives it (adapter/web/errors.py).
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "request_entity_too_large",
}
TRACEBACK_MARKERS = ("Traceback", 'File "', '.py"')


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible runs: derandomized, no example database, no deadline (Redis round trips vary)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # the fixtures are reset by hand before each example
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# --- strings and JSON ------------------------------------------------------------------------

ODD_STRINGS = (
    "",
    " ",
    "\x00",
    "nul\x00inside",
    "\u202eright-to-left override\u202c",
    "مرحبا، كيف حالك؟",
    "שלום עולם",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🇧🇷",
    "\ufeffbom",
    "\uffff\ufffe",
    "\U0010ffff",
    "e\u0301\u0301\u0301",
    "zero\u200bwidth",
    "line\nbreak\r\n\ttab",
    '"quoted" \\ back\\slash',
    "𝕳𝖊𝖑𝖑𝖔",
    "ｆｕｌｌｗｉｄｔｈ",
    "٣٤٥٦",
    "null",
    "1e999",
    "{{1}}",
    "%s%n%x",
    "<script>alert(1)</script>",
    "../../etc/passwd",
)

odd_text = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.text(max_size=30),
    st.text(alphabet=st.characters(min_codepoint=0x0590, max_codepoint=0x06FF), max_size=12),  # Hebrew, Arabic
    st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=6),  # emoji
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=6),  # control characters, NUL included
)


def json_values(*, allow_nan: bool = True) -> st.SearchStrategy[Any]:
    """Any JSON value Python's parser can produce (NaN and Infinity too, unless `allow_nan` is False)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=allow_nan, allow_infinity=allow_nan),
        odd_text,
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4),
        max_leaves=10,
    )


def encode(draw: st.DrawFn, payload: Any) -> bytes:
    """Serialize the way different senders do: ASCII-escaped (emoji as escaped surrogate pairs) or raw UTF-8."""
    ensure_ascii = draw(st.booleans())
    indent = draw(st.sampled_from([None, 2]))
    return json.dumps(payload, ensure_ascii=ensure_ascii, indent=indent).encode()


@st.composite
def malformed_bytes(draw: st.DrawFn, samples: list[Any]) -> bytes:
    """Bytes that are not a JSON document: random, truncated, invalid UTF-8, a BOM, trailing garbage."""
    valid = encode(draw, draw(st.sampled_from(samples)))
    kind = draw(st.sampled_from(["random", "truncated", "bad_utf8", "bom", "trailing", "empty", "nested_open"]))
    if kind == "random":
        return draw(st.binary(max_size=200))
    if kind == "truncated":
        return valid[: draw(st.integers(0, len(valid) - 1))]
    if kind == "bad_utf8":
        at = draw(st.integers(0, len(valid)))
        bad = [b"\xff", b"\xc3\x28", b"\xc0\xaf", b"\x80\x80", b"\xed\xa0\x80"]  # the last: an encoded surrogate
        return valid[:at] + draw(st.sampled_from(bad)) + valid[at:]
    if kind == "bom":
        return b"\xef\xbb\xbf" + valid
    if kind == "trailing":
        return valid + draw(st.sampled_from([b"}", b",", b" x", b"\x00", b"{}"]))
    if kind == "nested_open":
        return b"[" * draw(st.integers(1, 50))
    return b""


def oversized(payload: dict[str, Any], extra: int) -> bytes:
    """The payload with an unknown padding field, `extra` bytes over MAX_BODY_BYTES."""
    padded = {**payload, "padding": ""}
    size = len(json.dumps(padded).encode())
    padded["padding"] = "x" * (MAX_BODY_BYTES - size + extra)
    return json.dumps(padded).encode()


# --- mutations of real payloads --------------------------------------------------------------

Path = tuple[Any, ...]

UNKNOWN_TYPES = ("hologram", "brand_new_type", "UNSUPPORTED", "", "text ", "TEXT", "interactive_v2")


def _paths(node: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _parent(root: Any, path: Path) -> Any:
    node = root
    for step in path[:-1]:
        node = node[step]
    return node


@st.composite
def mutated(draw: st.DrawFn, samples: list[Any], values: st.SearchStrategy[Any], max_mutations: int = 3) -> Any:
    """A real payload with a few changes: fields dropped, retyped or replaced, unknown fields and message
    types added, strings made odd, list items duplicated."""
    payload = copy.deepcopy(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(0, max_mutations))):
        nodes = list(_paths(payload))
        op = draw(st.sampled_from(["drop", "replace", "unknown_field", "odd_string", "unknown_type", "duplicate"]))
        inner = [(p, n) for p, n in nodes if p]
        if op in ("drop", "replace") and inner:
            path, _ = draw(st.sampled_from(inner))
            parent = _parent(payload, path)
            if op == "drop":
                del parent[path[-1]]
            else:
                parent[path[-1]] = draw(values)
        elif op == "unknown_field":
            dicts = [n for _, n in nodes if isinstance(n, dict)]
            if dicts:
                draw(st.sampled_from(dicts))[draw(odd_text)] = draw(values)
        elif op == "odd_string":
            strings = [p for p, n in inner if isinstance(n, str)]
            if strings:
                path = draw(st.sampled_from(strings))
                _parent(payload, path)[path[-1]] = draw(odd_text)
        elif op == "unknown_type":
            typed = [n for _, n in nodes if isinstance(n, dict) and isinstance(n.get("type"), str)]
            if typed:
                message = draw(st.sampled_from(typed))
                new_type = draw(st.sampled_from(UNKNOWN_TYPES) | odd_text)
                message["type"] = new_type
                message[new_type] = draw(values)
        elif op == "duplicate":
            lists = [n for _, n in nodes if isinstance(n, list) and n]
            if lists:
                items = draw(st.sampled_from(lists))
                items.append(copy.deepcopy(draw(st.sampled_from(items))))
        if not isinstance(payload, (dict, list)):
            break  # the root itself was replaced; nothing left to walk
    return payload


# --- checks ----------------------------------------------------------------------------------


def assert_no_traceback(text: str) -> None:
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"traceback text {marker!r} in the answer: {text[:500]}"


def assert_json_error(response: Any, status: int | set[int]) -> dict[str, Any]:
    """A precise 4xx: the expected status, JSON {"error", "message", "details"?}, the code matching the status."""
    expected = {status} if isinstance(status, int) else status
    text = response.get_data(as_text=True)
    assert response.status_code in expected, f"expected {sorted(expected)}, got {response.status_code}: {text[:500]}"
    assert response.mimetype == "application/json", f"error answered as {response.mimetype}: {text[:300]}"
    body = response.get_json()
    assert isinstance(body, dict) and set(body) <= {"error", "message", "details"}, text[:500]
    assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str) and body["message"], text[:500]
    assert body["error"] == ERROR_CODES[response.status_code], text[:500]
    assert_no_traceback(text)
    return body


def assert_success_or_error(response: Any, success: set[int], errors: set[int]) -> Any:
    """Either one of the documented successes (JSON, no traceback) or a precise JSON error; never a 5xx."""
    text = response.get_data(as_text=True)
    assert response.status_code < 500, f"server error {response.status_code}: {text[:500]}"
    if response.status_code in success:
        assert response.mimetype == "application/json", text[:300]
        assert_no_traceback(text)
        return response.get_json()
    return assert_json_error(response, errors)


def services_of(client: Any) -> Services:
    return client.application.extensions["adapter"]  # type: ignore[no-any-return]


def reset(client: Any) -> None:
    """An empty store holding the one test channel (saved the app's way), before every example: fixtures run
    once per test, not once per example."""
    services = services_of(client)
    services.store.flushdb()
    services.channels.save(make_channel())


def canonical(value: Any) -> str:
    """A comparable form of a JSON value (NaN compares equal to itself here)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def queued_jobs(store: redis.Redis) -> list[dict[str, Any]]:
    """Every job waiting in the queue streams (`wa:jobs:*`)."""
    jobs: list[dict[str, Any]] = []
    for stream in sorted(store.scan_iter(keys.stream(0).rsplit(":", 1)[0] + ":*")):
        for _entry_id, fields in store.xrange(stream):
            jobs.append(json.loads(fields["job"]))
    return jobs


@contextmanager
def graph_accepting() -> Iterator[None]:
    """Graph (GRAPH_API_BASE_URL of tests.conftest.make_settings) accepting every template create, edit, delete."""
    graph = re.compile(r"http://127\.0\.0\.1:9/.*")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, graph, json={"id": "1689556908129835", "status": "PENDING", "category": "UTILITY"})
        mock.add(responses.DELETE, graph, json={"success": True})
        yield
