"""The app the fuzz tests drive: a small body limit (so "too large" is cheap), Graph accepting template calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from adapter import create_app
from tests.conftest import make_settings
from tests.fuzz.strategies import MAX_BODY_BYTES, graph_accepting


@pytest.fixture
def fuzz_client(store: redis.Redis) -> Iterator[Any]:
    app = create_app(make_settings(MAX_BODY_BYTES=str(MAX_BODY_BYTES)), store=store)
    with graph_accepting():
        yield app.test_client()
