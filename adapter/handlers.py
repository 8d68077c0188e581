"""Job handlers: what a worker does for each kind of job. Each one is idempotent."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from adapter import jobs, messages
from adapter.bridge.inbound import deliver_inbound_message
from adapter.bridge.inbox_settings import push_inbox_settings
from adapter.bridge.meta_events import TEMPLATE_FIELDS, apply_template_event, apply_user_preferences
from adapter.bridge.outbound import fail_message, post_private_note, send_agent_reply
from adapter.bridge.statuses import apply_status
from adapter.bridge.window_policy import utc
from adapter.helpdesk.events import AgentReply
from adapter.helpdesk.ingest import CONVERSATION_JOB, REPLY_JOB, RETRY_JOB
from adapter.meta import ingest
from adapter.meta.events import InboundMessage, MessageStatus
from adapter.monitoring.number_health import apply_account_event
from adapter.queue.consumer import GiveUpHook, Handler
from adapter.queue.jobs import Job
from adapter.services import Services
from adapter.store.channels import Channel
from adapter.templates.sync import sync_waba

logger = logging.getLogger(__name__)

# Number and account events: they change what the console shows and whether a number may send.
ACCOUNT_FIELDS = frozenset({"phone_number_name_update", "phone_number_quality_update", "account_update"})


def build_handlers(services: Services) -> Mapping[str, Handler]:
    ctx = services.bridge()

    def channel_for(job: Job) -> Channel | None:
        channel = services.channels.get(str(job.payload.get("phone_number_id")))
        if channel is None:
            logger.warning(messages.UNROUTED_PAYLOAD, job.payload.get("phone_number_id"), "the unrouted list")
            services.events.keep_unrouted(job)
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

    def management_event(job: Job) -> None:
        waba_id, field = str(job.payload.get("waba_id")), str(job.payload.get("field"))
        value = job.payload.get("value") if isinstance(job.payload.get("value"), dict) else {}
        services.events.record("meta_events", job.payload)
        if field in TEMPLATE_FIELDS:
            if apply_template_event(services.templates, waba_id, field, value or {}):
                for channel in services.channels.of_waba(waba_id):
                    services.queue.enqueue(jobs.inbox_settings(channel.phone_number_id))
        elif field == "user_preferences":
            apply_user_preferences(services.optouts, services.channels, waba_id, value or {})
        elif field in ACCOUNT_FIELDS:
            apply_account_event(services.store, services.channels, services.clock.now(), waba_id, field, value or {})
        else:
            logger.info("Meta %s event for WABA %s recorded", field, waba_id)

    def agent_reply(job: Job) -> None:
        channel = channel_for(job)
        if channel is None:
            return
        send_agent_reply(ctx, channel, AgentReply.from_event(job.payload["message"]))

    def retry_requested(job: Job) -> None:
        channel = channel_for(job)
        reply = AgentReply.from_event(job.payload["message"])
        if channel is None or not services.mappings.claim_retry(channel.phone_number_id, reply.message_id):
            return
        services.mappings.reset_unsent_parts(channel.phone_number_id, reply.message_id)
        logger.info("helpdesk message %s: Retry pressed, sending again", reply.message_id)
        send_agent_reply(ctx, channel, reply)

    def conversation_changed(job: Job) -> None:
        if job.payload.get("status") == "resolved":
            # The next message from this customer starts a new conversation, as agents expect.
            services.mappings.forget_conversation(
                str(job.payload["phone_number_id"]), str(job.payload["customer"]), int(job.payload["conversation_id"])
            )

    def templates_sync(job: Job) -> None:
        waba_id = str(job.payload["waba_id"])
        channels = services.channels.of_waba(waba_id)
        if not channels:
            return
        synced = sync_waba(services.graph, services.templates, channels[0].graph_access_token, waba_id)
        logger.info("WABA %s: %d templates synced", waba_id, len(synced))
        for channel in channels:
            services.queue.enqueue(jobs.inbox_settings(channel.phone_number_id))

    def inbox_settings(job: Job) -> None:
        channel = services.channels.get(str(job.payload["phone_number_id"]))
        if channel is not None:
            push_inbox_settings(ctx, services.templates, channel)

    def window_warning(job: Job) -> None:
        channel = services.channels.get(str(job.payload["phone_number_id"]))
        customer = str(job.payload["customer"])
        ref = services.mappings.conversation(channel.phone_number_id, customer) if channel else None
        if channel is None or ref is None:
            return
        closes_at = int(job.payload["closes_at"])
        minutes = max(1, round((closes_at - services.clock.now()) / 60))
        post_private_note(
            ctx, channel, ref.conversation_id,
            f"⏳ The WhatsApp window for this conversation closes at {utc(closes_at)} (in about {minutes} min) "
            "and the customer is still waiting for an answer. Reply before then; afterwards only an approved "
            "template can reach them.",
        )

    return {
        ingest.MESSAGE_JOB: inbound_message,
        ingest.STATUS_JOB: message_status,
        ingest.VALUE_ERRORS_JOB: value_errors,
        ingest.EVENT_JOB: management_event,
        REPLY_JOB: agent_reply,
        RETRY_JOB: retry_requested,
        CONVERSATION_JOB: conversation_changed,
        jobs.TEMPLATES_SYNC_JOB: templates_sync,
        jobs.INBOX_SETTINGS_JOB: inbox_settings,
        jobs.WINDOW_WARNING_JOB: window_warning,
    }


def report_give_up(services: Services) -> GiveUpHook:
    """A job that failed for good is in the dead letters; agents also see it where they work: a reply that
    could not be sent is marked failed with the reason, and a customer message that could not be added
    leaves a private note in the customer's conversation (when the helpdesk can take one)."""

    def give_up(job: Job, error: str) -> None:
        channel = services.channels.get(str(job.payload.get("phone_number_id")))
        if channel is None:
            return
        if job.kind == REPLY_JOB:
            reply = AgentReply.from_event(job.payload["message"])
            fail_message(services.bridge(), channel, reply, f"Not sent after {job.attempt + 1} attempts: {error}")
        elif job.kind == ingest.MESSAGE_JOB:
            item = job.payload.get("message") or {}
            customer = str(item.get("from") or item.get("from_user_id") or "")
            ref = services.mappings.conversation(channel.phone_number_id, customer)
            if ref is not None:
                post_private_note(
                    services.bridge(), channel, ref.conversation_id,
                    f"⚠️ A WhatsApp message from this customer ({item.get('type', 'unknown')} message "
                    f"{item.get('id', '')}) could not be added here: {error}. It is kept in the adapter's dead "
                    f"letters as job {job.id} and can be replayed by an admin.",
                )

    return give_up


