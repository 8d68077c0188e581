"""Meta payloads -> jobs -> events -> helpdesk text, table-driven over tests/contracts samples."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.bridge.rendering import render
from adapter.errors import PermanentJobError
from adapter.meta.events import InboundMessage, MessageStatus, MessageType, StatusKind
from adapter.meta.ingest import jobs_from_webhook
from adapter.work.kinds import JobKind
from tests import contracts

MESSAGES = contracts.load("meta_messages")
STATUSES = contracts.load("meta_statuses")
OTHERS = contracts.load("meta_other_fields")


def message_events(payload: dict[str, Any]) -> list[InboundMessage]:
    events = []
    for _, job in jobs_from_webhook(payload):
        assert job.kind == JobKind.INBOUND_MESSAGE
        events.append(
            InboundMessage.from_item(
                job.payload["message"],
                phone_number_id=job.payload["phone_number_id"],
                display_phone_number=job.payload["display_phone_number"],
                contacts=job.payload["contacts"],
            )
        )
    return events


EXPECTED_TYPES = {
    "text": MessageType.TEXT,
    "image": MessageType.IMAGE,
    "voice": MessageType.AUDIO,
    "document": MessageType.DOCUMENT,
    "static_sticker": MessageType.STICKER,
    "chosen_location": MessageType.LOCATION,
    "contacts": MessageType.CONTACTS,
    "button": MessageType.BUTTON,
    "interactive_list_reply": MessageType.INTERACTIVE,
    "order": MessageType.ORDER,
    "reaction": MessageType.REACTION,
    "unsupported": MessageType.UNSUPPORTED,
    "unknown_legacy": MessageType.UNKNOWN,
    "system_user_changed_number": MessageType.SYSTEM,
}


@pytest.mark.parametrize("variant", sorted(MESSAGES))
def test_every_message_variant_becomes_events_with_visible_text(variant: str) -> None:
    events = message_events(MESSAGES[variant])
    assert events, "no message job"
    for event in events:
        assert event.wamid and event.customer.key != "unknown"
        rendered = render(event)
        if event.media is None:
            assert rendered.content, "nothing visible in the helpdesk"


@pytest.mark.parametrize(("variant", "expected"), sorted(EXPECTED_TYPES.items()))
def test_message_types_are_recognised(variant: str, expected: MessageType) -> None:
    assert message_events(MESSAGES[variant])[0].type is expected


def test_document_keeps_its_file_name_and_voice_is_flagged() -> None:
    document = message_events(MESSAGES["document"])[0]
    assert document.media is not None and document.media.filename
    voice = message_events(MESSAGES["voice"])[0]
    assert voice.media is not None and voice.media.voice


def test_reply_context_forwarded_and_referral_are_kept() -> None:
    reply = message_events(MESSAGES["reply"])[0]
    assert reply.reply_to and reply.reply_to.startswith("wamid.")
    assert message_events(MESSAGES["forwarded"])[0].forwarded
    referred = message_events(MESSAGES["text_with_referral"])[0]
    assert render(referred).content_attributes["referral"] == referred.referral


def test_reaction_and_its_removal_read_as_such() -> None:
    assert render(message_events(MESSAGES["reaction"])[0]).content.startswith("Reacted ")
    assert render(message_events(MESSAGES["unreaction_empty"])[0]).content == "Removed a reaction"
    assert render(message_events(MESSAGES["unreaction_no_emoji"])[0]).content == "Removed a reaction"


def test_unsupported_and_unknown_types_leave_a_placeholder() -> None:
    for variant in ("unsupported", "unknown_legacy"):
        rendered = render(message_events(MESSAGES[variant])[0])
        assert rendered.content_attributes["is_unsupported"] is True
        assert "does not pass on" in rendered.content


def test_username_users_are_keyed_by_their_business_scoped_id() -> None:
    event = message_events(MESSAGES["bsuid_only"])[0]
    assert event.customer.wa_id is None and event.customer.key == event.customer.user_id


def test_a_batch_yields_one_job_per_message_and_entry() -> None:
    assert len(jobs_from_webhook(MESSAGES["batch_two_messages"])) == 2
    jobs = jobs_from_webhook(MESSAGES["batch_two_entries"])
    assert len(jobs) == 2 and len({job.payload["phone_number_id"] for _, job in jobs}) == 2


@pytest.mark.parametrize("variant", sorted(STATUSES))
def test_status_variants_parse(variant: str) -> None:
    jobs = jobs_from_webhook(STATUSES[variant])
    assert jobs and all(job.kind == JobKind.MESSAGE_STATUS for _, job in jobs)
    for _, job in jobs:
        status = MessageStatus.from_item(job.payload["status"], phone_number_id=job.payload["phone_number_id"])
        expected = StatusKind.UNKNOWN if variant == "unknown_status" else StatusKind(status.raw_status)
        assert status.status is expected


def test_failed_status_carries_the_meta_code_and_callback_data() -> None:
    (_, job), = jobs_from_webhook(STATUSES["failed_131047"])
    status = MessageStatus.from_item(job.payload["status"], phone_number_id="x")
    assert status.errors[0].code == 131047
    (_, job), = jobs_from_webhook(STATUSES["with_callback_data"])
    assert MessageStatus.from_item(job.payload["status"], phone_number_id="x").callback_data


def test_status_dedupe_keys_differ_by_status_but_not_by_delivery() -> None:
    keys_once = [key for key, _ in jobs_from_webhook(STATUSES["batch_mixed"])]
    keys_again = [key for key, _ in jobs_from_webhook(STATUSES["batch_mixed"])]
    assert len(set(keys_once)) == len(keys_once) == 3 and keys_once == keys_again


@pytest.mark.parametrize("variant", sorted(OTHERS))
def test_other_fields_are_kept_as_events(variant: str) -> None:
    jobs = jobs_from_webhook(OTHERS[variant])
    assert jobs
    kinds = {job.kind for _, job in jobs}
    assert kinds <= {JobKind.ACCOUNT_EVENT, JobKind.VALUE_ERRORS}


def test_a_malformed_message_item_is_a_permanent_error_not_a_crash() -> None:
    with pytest.raises(PermanentJobError):
        InboundMessage.from_item(
            {"id": "wamid.x", "type": "text"}, phone_number_id="1", display_phone_number="", contacts=[]
        )
