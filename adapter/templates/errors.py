"""Errors raised while turning a helpdesk template reply into a WhatsApp template send.

Both derive from PermanentJobError: the same parameters or the same template status will fail the same way
on every retry, so the queue dead-letters the job at once and the agent sees the message instead.
"""

from __future__ import annotations

from adapter.errors import PermanentJobError


class TemplateError(PermanentJobError):
    """Base of the template errors; the message is plain words an agent can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateParamsError(TemplateError):
    """The helpdesk's parameters do not fit the stored template (count, names, header, buttons, empty values)."""


class TemplateNotSendable(TemplateError):
    """The template exists but Meta would refuse it: only APPROVED templates can be sent."""
