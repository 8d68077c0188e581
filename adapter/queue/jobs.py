"""A job: one unit of work (one inbound message, one status, one agent reply), stored as JSON."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from adapter import jsonfast


@dataclasses.dataclass(frozen=True)
class Job:
    kind: str  # e.g. "meta.message"; handlers are looked up by kind
    chat: str  # "<phone_number_id>:<customer>": jobs of one chat run in order
    payload: dict[str, Any]
    id: str = dataclasses.field(default_factory=lambda: os.urandom(16).hex())  # as random as uuid4, cheaper
    attempt: int = 0
    enqueued_at: float = 0.0
    last_error: str | None = None

    def to_json(self, *, enqueued_at: float | None = None) -> str:
        """The stored form; `enqueued_at` stamps it on the way (the enqueue's hot path makes no copy)."""
        # A shallow dict (dataclasses.asdict would deep-copy the payload first), without the fields still at
        # their defaults: every byte of a job passes through the enqueue script.
        fields: dict[str, Any] = {
            "kind": self.kind, "chat": self.chat, "payload": self.payload, "id": self.id,
            "enqueued_at": self.enqueued_at if enqueued_at is None else enqueued_at,
        }  # fmt: skip
        if self.attempt:
            fields["attempt"] = self.attempt
        if self.last_error is not None:
            fields["last_error"] = self.last_error
        return jsonfast.dumps(fields)  # one job per message of a batch: the ingest's largest cost

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        return cls(**data)

    def retried(self, error: str) -> Job:
        return dataclasses.replace(self, attempt=self.attempt + 1, last_error=error)

    def fresh(self, now: float) -> Job:
        """The same work as a new first attempt (dead-letter replay)."""
        return dataclasses.replace(self, attempt=0, last_error=None, enqueued_at=now)
