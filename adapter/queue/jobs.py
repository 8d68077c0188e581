"""A job: one unit of work (one inbound message, one status, one agent reply), stored as JSON."""

from __future__ import annotations

from typing import Any

import msgspec

from adapter import jsonfast
from adapter.ids import new_id


class Job(msgspec.Struct, frozen=True):
    """Immutable. A msgspec Struct rather than a frozen dataclass: a 50-message batch builds 50 of them on the
    webhook's path, and a frozen dataclass's __init__ cost twice as much."""

    kind: str  # e.g. "meta.message"; handlers are looked up by kind
    chat: str  # "<phone_number_id>:<customer>": jobs of one chat run in order
    payload: dict[str, Any]
    id: str = msgspec.field(default_factory=new_id)
    attempt: int = 0
    enqueued_at: float = 0.0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Every field, defaults included: the form the admin API shows (dead letters, unrouted payloads).
        A shallow dict (the payload is not copied)."""
        return {
            "kind": self.kind, "chat": self.chat, "payload": self.payload, "id": self.id, "attempt": self.attempt,
            "enqueued_at": self.enqueued_at, "last_error": self.last_error,
        }  # fmt: skip

    def to_json(self, *, enqueued_at: float | None = None, compact: bool = True) -> str:
        """The stored form; `enqueued_at` stamps it on the way (the enqueue's hot path makes no copy). Compact:
        without the fields still at their defaults, as every byte of a job passes through the enqueue script."""
        fields: dict[str, Any] = {
            "kind": self.kind, "chat": self.chat, "payload": self.payload, "id": self.id,
            "enqueued_at": self.enqueued_at if enqueued_at is None else enqueued_at,
        }  # fmt: skip
        if self.attempt or not compact:
            fields["attempt"] = self.attempt
        if self.last_error is not None or not compact:
            fields["last_error"] = self.last_error
        return jsonfast.dumps(fields)  # one job per message of a batch: the ingest's largest cost

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = jsonfast.loads(text)
        return cls(**data)

    def retried(self, error: str) -> Job:
        return msgspec.structs.replace(self, attempt=self.attempt + 1, last_error=error)

    def fresh(self, now: float) -> Job:
        """The same work as a new first attempt (dead-letter replay)."""
        return msgspec.structs.replace(self, attempt=0, last_error=None, enqueued_at=now)
