"""Logging setup: JSON lines (or text) on stderr, one logger per module."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

# What a line is about (job id and kind, chat, request id): added to every line logged inside it.
_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("log_context", default=None)


def _current() -> dict[str, str]:
    return _context.get() or {}


_make_record = logging.getLogRecordFactory()


def _record_with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Stamp the context on each record when it is made, so it survives being formatted later."""
    record = _make_record(*args, **kwargs)
    record.context = _current()
    return record


logging.setLogRecordFactory(_record_with_context)


def _context_of(record: logging.LogRecord) -> dict[str, str]:
    return dict(getattr(record, "context", None) or {})


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    token = _context.set({**_current(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context_of(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{k}={v}" for k, v in _context_of(record).items())
        return super().format(record) + (f" [{context}]" if context else "")


def bind(**fields: str) -> contextvars.Token[dict[str, str] | None]:
    """Like log_context, for code that cannot wrap a block (a web request's before/teardown hooks)."""
    return _context.set({**_current(), **fields})


def unbind(token: contextvars.Token[dict[str, str] | None]) -> None:
    _context.reset(token)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
