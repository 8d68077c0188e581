"""Every kind of job, in one place, with the typed payload a handler reads and the jobs the adapter schedules
itself (follow-up work). Webhook items become jobs in meta/ingest.py and helpdesk/ingest.py."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from adapter.queue.jobs import Job


class JobKind(StrEnum):
    INBOUND_MESSAGE = "meta.message"
    MESSAGE_STATUS = "meta.status"
    VALUE_ERRORS = "meta.value_errors"
    ACCOUNT_EVENT = "meta.event"  # template, number, account and user-preference changes of a WABA
    AGENT_REPLY = "helpdesk.reply"
    RETRY_REQUESTED = "helpdesk.retry"
    CONVERSATION_CHANGED = "helpdesk.conversation"
    TEMPLATES_SYNC = "templates.sync"
    INBOX_SETTINGS = "channel.inbox_settings"
    WINDOW_WARNING = "window.warning"
    TYPING = "helpdesk.typing"


@dataclass(frozen=True)
class ValueErrors:
    phone_number_id: str
    errors: list[dict[str, Any]]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ValueErrors:
        return cls(str(payload["phone_number_id"]), list(payload.get("errors") or []))


@dataclass(frozen=True)
class AccountEvent:
    waba_id: str
    field: str
    value: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AccountEvent:
        value = payload.get("value")
        return cls(str(payload.get("waba_id")), str(payload.get("field")), value if isinstance(value, dict) else {})


@dataclass(frozen=True)
class ConversationChanged:
    phone_number_id: str
    customer: str
    conversation_id: int
    status: str

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ConversationChanged:
        return cls(
            str(payload["phone_number_id"]), str(payload["customer"]), int(payload["conversation_id"]),
            str(payload.get("status") or ""),
        )  # fmt: skip


@dataclass(frozen=True)
class Typing:
    phone_number_id: str
    customer: str
    conversation_id: int

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Typing:
        return cls(str(payload["phone_number_id"]), str(payload["customer"]), int(payload["conversation_id"]))


@dataclass(frozen=True)
class WindowWarning:
    phone_number_id: str
    customer: str
    closes_at: int

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> WindowWarning:
        return cls(str(payload["phone_number_id"]), str(payload["customer"]), int(payload["closes_at"]))


def templates_sync(waba_id: str) -> Job:
    """Fetch the WABA's templates from Meta, then refresh every one of its inboxes' template pickers."""
    return Job(JobKind.TEMPLATES_SYNC, f"waba:{waba_id}", {"waba_id": waba_id})


def inbox_settings(phone_number_id: str) -> Job:
    return Job(JobKind.INBOX_SETTINGS, f"{phone_number_id}:inbox", {"phone_number_id": phone_number_id})


def window_warning(phone_number_id: str, customer: str, closes_at: int) -> Job:
    payload = {"phone_number_id": phone_number_id, "customer": customer, "closes_at": closes_at}
    return Job(JobKind.WINDOW_WARNING, f"{phone_number_id}:{customer}", payload)
