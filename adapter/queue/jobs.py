"""A job: one unit of work (one inbound message, one status, one agent reply), stored as JSON."""

from __future__ import annotations

import dataclasses
from typing import Any

from adapter import jsonfast
from adapter.ids import new_id


@dataclasses.dataclass(frozen=True)
class Job:
    kind: str  # e.g. "meta.message"; handlers are looked up by kind
    chat: str  # "<phone_number_id>:<customer>": jobs of one chat run in order
    payload: dict[str, Any]
    id: str = dataclasses.field(default_factory=new_id)
    attempt: int = 0
    enqueued_at: float = 0.0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Every field, defaults included: the form the admin API shows (dead letters, unrouted payloads).
        A shallow dict: dataclasses.asdict would deep-copy the payload first."""
        return {
            "kind": self.kind, "chat": self.chat, "payload": self.payload, "id": self.id, "attempt": self.attempt,
            "enqueued_at": self.enqueued_at, "last_error": self.last_error,
        }  # fmt: skip

    def to_json(self, *, enqueued_at: float | None = None, compact: bool = True) -> str:
        """The stored form; `enqueued_at` stamps it on the way (the enqueue's hot path makes no copy). Compact:
        without the fields still at their defaults, as every byte of a job passes through the enqueue script."""
        fields = self.as_dict()
        if enqueued_at is not None:
            fields["enqueued_at"] = enqueued_at
        if compact and not self.attempt:
            del fields["attempt"]
        if compact and self.last_error is None:
            del fields["last_error"]
        return jsonfast.dumps(fields)  # one job per message of a batch: the ingest's largest cost

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = jsonfast.loads(text)
        return cls(**data)

    def retried(self, error: str) -> Job:
        return dataclasses.replace(self, attempt=self.attempt + 1, last_error=error)

    def fresh(self, now: float) -> Job:
        """The same work as a new first attempt (dead-letter replay)."""
        return dataclasses.replace(self, attempt=0, last_error=None, enqueued_at=now)
