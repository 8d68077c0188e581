"""A job: one unit of work (one inbound message, one status, one agent reply), stored as JSON."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any


@dataclasses.dataclass(frozen=True)
class Job:
    kind: str  # e.g. "meta.message"; handlers are looked up by kind
    chat: str  # "<phone_number_id>:<customer>": jobs of one chat run in order
    payload: dict[str, Any]
    id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    attempt: int = 0
    enqueued_at: float = 0.0
    last_error: str | None = None

    def to_json(self) -> str:
        # A shallow dict: dataclasses.asdict would deep-copy the payload first (the hot path of ingest).
        fields = {
            "kind": self.kind, "chat": self.chat, "payload": self.payload, "id": self.id,
            "attempt": self.attempt, "enqueued_at": self.enqueued_at, "last_error": self.last_error,
        }
        # ASCII-escaped: a lone surrogate (half an emoji) in a payload must not make the job unstorable.
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        return cls(**data)

    def retried(self, error: str) -> Job:
        return dataclasses.replace(self, attempt=self.attempt + 1, last_error=error)

    def fresh(self, now: float) -> Job:
        """The same work as a new first attempt (dead-letter replay)."""
        return dataclasses.replace(self, attempt=0, last_error=None, enqueued_at=now)
