"""The outbound gate that enforces the 24-hour window: send, reject with a note, or reroute to a template.

It applies to every reply alike: agents, the AI agent (agent bots) and automations. Template messages
the agent picked are checked against the stored template before Meta sees them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from adapter.bridge.optout import OptOuts
from adapter.bridge.window import GateDecision, WindowTracker
from adapter.clock import Clock
from adapter.helpdesk.events import AgentReply
from adapter.metrics import Metrics
from adapter.store.channels import Channel
from adapter.templates.errors import TemplateError
from adapter.templates.model import Template
from adapter.templates.repository import TemplateRepository
from adapter.templates.sending import build_template_message

REPLY_TEXT_LIMIT = 1024  # a body parameter cannot make the body exceed Meta's 1,024 characters


def utc(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when))


@dataclass(frozen=True)
class Closed:
    """Why free text cannot go out now, in words for agents."""

    last_inbound: int | None
    closed_at: int | None

    def reason(self) -> str:
        if self.closed_at is None:
            return "Not sent: the customer has not written to this number yet, so WhatsApp only allows a template."
        return f"Not sent: the 24-hour WhatsApp window closed at {utc(self.closed_at)}. Send an approved template."

    def note(self, extra: str = "") -> str:
        if self.closed_at is None:
            when = "The customer has not written to this WhatsApp number yet"
        else:
            when = (
                f"The customer last wrote at {utc(self.last_inbound or 0)}, so the 24-hour customer service window "
                f"closed at {utc(self.closed_at)}"
            )
        return (
            f"⏰ This reply was not sent to WhatsApp. {when}. Outside the window WhatsApp only delivers "
            "approved templates: pick one in the composer's template picker. The customer's next message "
            f"opens the window again.{extra}"
        )


class WindowGate:
    def __init__(
        self, window: WindowTracker, templates: TemplateRepository, optouts: OptOuts, clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self.window = window
        self.templates = templates
        self.optouts = optouts
        self.clock = clock
        self.metrics = metrics

    def check(self, channel: Channel, reply: AgentReply) -> GateDecision:
        decision = self._decide(channel, reply)
        if self.metrics is not None:
            kind = "template" if reply.template_params else "free_text"
            verdict = "rerouted" if decision.template and not reply.template_params else (
                "sent" if decision.send else "rejected")
            self.metrics.count("window_decisions", message=kind, decision=verdict)
        return decision

    def _decide(self, channel: Channel, reply: AgentReply) -> GateDecision:
        if reply.template_params:
            return self._agent_template(channel, reply)
        if self.window.is_open(channel.phone_number_id, reply.customer):
            return GateDecision(send=True)
        closed = Closed(
            self.window.last_inbound(channel.phone_number_id, reply.customer),
            self.window.closes_at(channel.phone_number_id, reply.customer),
        )
        return self.outside_window(channel, reply, closed)

    def outside_window(self, channel: Channel, reply: AgentReply, closed: Closed) -> GateDecision:
        """The channel's policy for a free-form reply that may not go out as written."""
        if channel.window_policy != "reroute":
            return GateDecision(send=False, reason=closed.reason(), note=closed.note())
        try:
            template = self._reroute_template(channel)
            body = self._reroute_parameters(channel, reply, template)
            params = {"name": template.name, "language": template.language, "processed_params": {"body": body}}
            self._check_marketing_consent(channel, reply, template)
            return GateDecision(send=True, template=build_template_message(template, params))
        except TemplateError as exc:
            extra = f" It could not be sent as the number's re-engagement template either: {exc.message}"
            return GateDecision(send=False, reason=closed.reason(), note=closed.note(extra))

    def _agent_template(self, channel: Channel, reply: AgentReply) -> GateDecision:
        params = reply.template_params or {}
        name, language = str(params.get("name") or ""), str(params.get("language") or "")
        template = self.templates.get(channel.waba_id, name, language)
        try:
            if template is None:
                raise TemplateError(
                    f"template {name} ({language or 'no language'}) is not among this number's templates; "
                    "sync the templates or pick another"
                )
            self._check_marketing_consent(channel, reply, template)
            return GateDecision(send=True, template=build_template_message(template, params))
        except TemplateError as exc:
            return GateDecision(send=False, reason=f"Not sent: {exc.message}")

    def _reroute_template(self, channel: Channel) -> Template:
        if not channel.reroute_template_name:
            raise TemplateError("no re-engagement template is chosen for this number")
        template = self.templates.get(channel.waba_id, channel.reroute_template_name, channel.reroute_template_language)
        if template is None:
            raise TemplateError(f"template {channel.reroute_template_name} is not among this number's templates")
        return template

    def _reroute_parameters(self, channel: Channel, reply: AgentReply, template: Template) -> dict[str, str]:
        names = template.body_parameters
        sources = list(channel.reroute_parameters)
        if len(sources) != len(names):
            raise TemplateError(
                f"template {template.name} expects {len(names)} body parameters, "
                f"but {len(sources)} sources are configured"
            )
        values: dict[str, str] = {}
        for name, source in zip(names, sources, strict=True):
            values[name] = self._fill(source, reply, template)
        return values

    def _fill(self, source: str, reply: AgentReply, template: Template) -> str:
        if source == "contact_name":
            return reply.contact_name or "there"
        if source == "agent_name":
            return reply.sender_name or "our team"
        if source == "reply_text":
            text = " ".join(reply.content.split())  # template parameters cannot hold new lines
            room = REPLY_TEXT_LIMIT - len(template.body_text)
            if len(text) > room:
                raise TemplateError(f"the reply is {len(text)} characters; the template leaves room for {room}")
            return text
        return source.removeprefix("const:")

    def _check_marketing_consent(self, channel: Channel, reply: AgentReply, template: Template) -> None:
        if template.category.upper() == "MARKETING" and self.optouts.has_opted_out(
            channel.phone_number_id, reply.customer
        ):
            raise TemplateError(
                f"the customer opted out of marketing messages, so marketing template {template.name} "
                "cannot be sent to them"
            )
