"""One method per kind of job: what a worker does with it. Each is idempotent, and reads its payload once,
into the typed event of its side (meta/events.py, helpdesk/events.py, work/kinds.py)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from adapter import messages
from adapter.bridge.cost_attributes import count_message_cost
from adapter.bridge.inbound import deliver_inbound_message
from adapter.bridge.inbox_settings import push_inbox_settings
from adapter.bridge.meta_events import TEMPLATE_FIELDS, apply_template_event, apply_user_preferences
from adapter.bridge.outbound import fail_message, post_private_note, send_agent_reply
from adapter.bridge.statuses import apply_status
from adapter.bridge.typing import show_typing
from adapter.bridge.window_policy import utc
from adapter.helpdesk.events import AgentReply
from adapter.meta.events import InboundMessage, MessageStatus
from adapter.monitoring.number_health import apply_account_event
from adapter.queue.consumer import Handler
from adapter.queue.jobs import Job
from adapter.services import Services
from adapter.store.channels import Channel
from adapter.templates.sync import sync_waba
from adapter.work import kinds
from adapter.work.kinds import AccountEvent, ConversationChanged, JobKind, Typing, ValueErrors, WindowWarning

logger = logging.getLogger(__name__)

# Number and account events: they change what the console shows and whether a number may send.
ACCOUNT_FIELDS = frozenset({"phone_number_name_update", "phone_number_quality_update", "account_update"})


class JobHandlers:
    """The worker's handlers, by kind (`by_kind`), and what happens to a job that failed for good (`give_up`)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.ctx = services.bridge()

    def by_kind(self) -> Mapping[str, Handler]:
        return {
            JobKind.INBOUND_MESSAGE: self.inbound_message,
            JobKind.MESSAGE_STATUS: self.message_status,
            JobKind.VALUE_ERRORS: self.value_errors,
            JobKind.ACCOUNT_EVENT: self.account_event,
            JobKind.AGENT_REPLY: self.agent_reply,
            JobKind.RETRY_REQUESTED: self.retry_requested,
            JobKind.CONVERSATION_CHANGED: self.conversation_changed,
            JobKind.TEMPLATES_SYNC: self.templates_sync,
            JobKind.INBOX_SETTINGS: self.inbox_settings,
            JobKind.WINDOW_WARNING: self.window_warning,
            JobKind.TYPING: self.typing,
        }

    def _channel_for(self, job: Job) -> Channel | None:
        """The job's channel; a job for a number no channel has is kept in the unrouted list."""
        channel = self.services.channels.get(str(job.payload.get("phone_number_id")))
        if channel is None:
            logger.warning(messages.UNROUTED_PAYLOAD, job.payload.get("phone_number_id"), "the unrouted list")
            self.services.events.keep_unrouted(job)
        return channel

    def inbound_message(self, job: Job) -> None:
        channel = self._channel_for(job)
        if channel is None:
            return
        message = InboundMessage.from_item(
            job.payload["message"],
            phone_number_id=channel.phone_number_id,
            display_phone_number=job.payload.get("display_phone_number", ""),
            contacts=job.payload.get("contacts") or [],
        )
        deliver_inbound_message(self.ctx, channel, message)

    def message_status(self, job: Job) -> None:
        channel = self._channel_for(job)
        if channel is None:
            return
        status = MessageStatus.from_item(job.payload["status"], phone_number_id=channel.phone_number_id)
        apply_status(self.ctx, channel, status)
        count_message_cost(self.ctx, channel, status)  # after the tick: a failure here never holds the tick up

    def value_errors(self, job: Job) -> None:
        event = ValueErrors.from_payload(job.payload)
        logger.warning("Meta reported errors for %s: %s", event.phone_number_id, event.errors)
        self.services.events.record("meta_errors", job.payload)

    def account_event(self, job: Job) -> None:
        event, services = AccountEvent.from_payload(job.payload), self.services
        services.events.record("meta_events", job.payload)
        if event.field in TEMPLATE_FIELDS:
            if apply_template_event(services.templates, event.waba_id, event.field, event.value):
                for channel in services.channels.of_waba(event.waba_id):
                    services.queue.enqueue(kinds.inbox_settings(channel.phone_number_id))
        elif event.field == "user_preferences":
            apply_user_preferences(services.optouts, services.channels, event.waba_id, event.value)
        elif event.field in ACCOUNT_FIELDS:
            apply_account_event(
                services.store, services.channels, services.clock.now(), event.waba_id, event.field, event.value
            )
        else:
            logger.info("Meta %s event for WABA %s recorded", event.field, event.waba_id)

    def agent_reply(self, job: Job) -> None:
        channel = self._channel_for(job)
        if channel is None:
            return
        send_agent_reply(self.ctx, channel, AgentReply.from_event(job.payload["message"]))

    def retry_requested(self, job: Job) -> None:
        channel = self._channel_for(job)
        reply = AgentReply.from_event(job.payload["message"])
        mappings = self.services.mappings
        quote = mappings.claim_retry(channel.phone_number_id, reply.customer, reply.message_id) if channel else None
        if channel is None or quote is None:
            return
        if reply.in_reply_to is None and reply.in_reply_to_external_id is None:  # wiped by the helpdesk's retry
            reply = dataclasses.replace(reply, in_reply_to=quote.in_reply_to,
                                        in_reply_to_external_id=quote.in_reply_to_external_id)  # fmt: skip
        mappings.reset_unsent_parts(channel.phone_number_id, reply.customer, reply.message_id)
        logger.info("helpdesk message %s: Retry pressed, sending again", reply.message_id)
        send_agent_reply(self.ctx, channel, reply)

    def conversation_changed(self, job: Job) -> None:
        event = ConversationChanged.from_payload(job.payload)
        if event.status == "resolved":
            # The next message from this customer starts a new conversation, as agents expect.
            self.services.mappings.forget_conversation(event.phone_number_id, event.customer, event.conversation_id)

    def templates_sync(self, job: Job) -> None:
        waba_id, services = str(job.payload["waba_id"]), self.services
        channels = services.channels.of_waba(waba_id)
        if not channels:
            return
        synced = sync_waba(services.graph, services.templates, channels[0].graph_access_token, waba_id)
        logger.info("WABA %s: %d templates synced", waba_id, len(synced))
        for channel in channels:
            services.queue.enqueue(kinds.inbox_settings(channel.phone_number_id))

    def inbox_settings(self, job: Job) -> None:
        channel = self.services.channels.get(str(job.payload["phone_number_id"]))
        if channel is not None:
            push_inbox_settings(self.ctx, self.services.templates, channel)

    def typing(self, job: Job) -> None:
        event = Typing.from_payload(job.payload)
        channel = self.services.channels.get(event.phone_number_id)
        if channel is not None:
            show_typing(self.ctx, channel, event.customer, event.conversation_id)

    def window_warning(self, job: Job) -> None:
        event = WindowWarning.from_payload(job.payload)
        channel = self.services.channels.get(event.phone_number_id)
        ref = self.services.mappings.conversation(event.phone_number_id, event.customer) if channel else None
        if channel is None or ref is None:
            return
        minutes = max(1, round((event.closes_at - self.services.clock.now()) / 60))
        post_private_note(
            self.ctx, channel, ref.conversation_id,
            f"⏳ The WhatsApp window for this conversation closes at {utc(event.closes_at)} (in about {minutes} min) "
            "and the customer is still waiting for an answer. Reply before then; afterwards only an approved "
            "template can reach them.",
        )  # fmt: skip

    def give_up(self, job: Job, error: str) -> None:
        """A job that failed for good is in the dead letters; agents also see it where they work: a reply that
        could not be sent is marked failed with the reason, and a customer message that could not be added
        leaves a private note in the customer's conversation (when the helpdesk can take one)."""
        channel = self.services.channels.get(str(job.payload.get("phone_number_id")))
        if channel is None:
            return
        if job.kind == JobKind.AGENT_REPLY:
            reply = AgentReply.from_event(job.payload["message"])
            fail_message(self.ctx, channel, reply, f"Not sent after {job.attempt + 1} attempts: {error}")
        elif job.kind == JobKind.INBOUND_MESSAGE:
            item = job.payload.get("message") or {}
            customer = str(item.get("from") or item.get("from_user_id") or "")
            ref = self.services.mappings.conversation(channel.phone_number_id, customer)
            if ref is not None:
                post_private_note(
                    self.ctx, channel, ref.conversation_id,
                    f"⚠️ A WhatsApp message from this customer ({item.get('type', 'unknown')} message "
                    f"{item.get('id', '')}) could not be added here: {error}. It is kept in the adapter's dead "
                    f"letters as job {job.id} and can be replayed by an admin.",
                )  # fmt: skip
