"""Job handlers: what a worker does for each kind of job. Each one is idempotent."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from adapter import messages
from adapter.bridge.inbound import deliver_inbound_message
from adapter.bridge.outbound import fail_message, send_agent_reply
from adapter.bridge.statuses import apply_status
from adapter.helpdesk.events import AgentReply
from adapter.helpdesk.ingest import CONVERSATION_JOB, REPLY_JOB
from adapter.meta import ingest
from adapter.meta.events import InboundMessage, MessageStatus
from adapter.queue.consumer import GiveUpHook, Handler
from adapter.queue.jobs import Job
from adapter.services import Services
from adapter.store.channels import Channel

logger = logging.getLogger(__name__)



def build_handlers(services: Services) -> Mapping[str, Handler]:
    ctx = services.bridge()

    def channel_for(job: Job) -> Channel | None:
        channel = services.channels.get(str(job.payload.get("phone_number_id")))
        if channel is None:
            logger.warning(messages.UNROUTED_PAYLOAD, job.payload.get("phone_number_id"), "the unrouted list")
            services.events.keep_unrouted(job.to_json())
        return channel

    def inbound_message(job: Job) -> None:
        channel = channel_for(job)
        if channel is None:
            return
        message = InboundMessage.from_item(
            job.payload["message"],
            phone_number_id=channel.phone_number_id,
            display_phone_number=job.payload.get("display_phone_number", ""),
            contacts=job.payload.get("contacts") or [],
        )
        services.events.record(
            "meta", {"phone_number_id": channel.phone_number_id, "wamid": message.wamid, "type": message.raw_type}
        )
        deliver_inbound_message(ctx, channel, message)

    def message_status(job: Job) -> None:
        channel = channel_for(job)
        if channel is None:
            return
        status = MessageStatus.from_item(job.payload["status"], phone_number_id=channel.phone_number_id)
        apply_status(ctx, channel, status)

    def value_errors(job: Job) -> None:
        logger.warning("Meta reported errors for %s: %s", job.payload.get("phone_number_id"), job.payload["errors"])
        services.events.record("meta_errors", job.payload)

    def other_event(job: Job) -> None:
        logger.info("Meta %s event for WABA %s recorded", job.payload.get("field"), job.payload.get("waba_id"))
        services.events.record("meta_events", job.payload)

    def agent_reply(job: Job) -> None:
        channel = channel_for(job)
        if channel is None:
            return
        send_agent_reply(ctx, channel, AgentReply.from_event(job.payload["message"]))

    def conversation_changed(job: Job) -> None:
        if job.payload.get("status") == "resolved":
            # The next message from this customer starts a new conversation, as agents expect.
            services.mappings.forget_conversation(
                str(job.payload["phone_number_id"]), str(job.payload["customer"]), int(job.payload["conversation_id"])
            )

    return {
        ingest.MESSAGE_JOB: inbound_message,
        ingest.STATUS_JOB: message_status,
        ingest.VALUE_ERRORS_JOB: value_errors,
        ingest.EVENT_JOB: other_event,
        REPLY_JOB: agent_reply,
        CONVERSATION_JOB: conversation_changed,
    }


def report_give_up(services: Services) -> GiveUpHook:
    """When a reply cannot be sent after every retry, the agent sees why on the message itself."""

    def give_up(job: Job, error: str) -> None:
        if job.kind != REPLY_JOB:
            return
        channel = services.channels.get(str(job.payload.get("phone_number_id")))
        if channel is None:
            return
        reply = AgentReply.from_event(job.payload["message"])
        fail_message(services.bridge(), channel, reply, f"Not sent after {job.attempt + 1} attempts: {error}")

    return give_up

