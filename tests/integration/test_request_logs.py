"""Every line logged while a request is handled carries the request's id and path, and only that request's."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from adapter.logs import JsonFormatter


def test_lines_logged_in_a_request_carry_its_id_and_path_and_later_lines_do_not(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("adapter.test_request_logs")

    @app.get("/test-only/log-a-line")
    def log_a_line() -> str:
        logger.warning("inside the request")
        return "ok"

    caplog.set_level(logging.INFO, logger="adapter")
    client = app.test_client()
    assert client.get("/test-only/log-a-line").status_code == 200
    assert client.get("/test-only/log-a-line").status_code == 200
    logger.warning("outside any request")

    inside = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.getMessage() == "inside the request"]
    assert [line["path"] for line in inside] == ["/test-only/log-a-line"] * 2
    assert all(len(line["request_id"]) == 12 for line in inside)
    assert inside[0]["request_id"] != inside[1]["request_id"]
    outside = next(r for r in caplog.records if r.getMessage() == "outside any request")
    assert "request_id" not in json.loads(JsonFormatter().format(outside))
