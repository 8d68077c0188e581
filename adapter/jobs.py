"""The kinds of follow-up work the adapter schedules itself (besides webhook items), and their payloads."""

from __future__ import annotations

from adapter.queue.jobs import Job

TEMPLATES_SYNC_JOB = "templates.sync"
INBOX_SETTINGS_JOB = "channel.inbox_settings"
WINDOW_WARNING_JOB = "window.warning"


def templates_sync(waba_id: str) -> Job:
    """Fetch the WABA's templates from Meta, then refresh every one of its inboxes' template pickers."""
    return Job(TEMPLATES_SYNC_JOB, f"waba:{waba_id}", {"waba_id": waba_id})


def inbox_settings(phone_number_id: str) -> Job:
    return Job(INBOX_SETTINGS_JOB, f"{phone_number_id}:inbox", {"phone_number_id": phone_number_id})


def window_warning(phone_number_id: str, customer: str, closes_at: int) -> Job:
    payload = {"phone_number_id": phone_number_id, "customer": customer, "closes_at": closes_at}
    return Job(WINDOW_WARNING_JOB, f"{phone_number_id}:{customer}", payload)
