"""The helpdesk simulator's HTTP API: one Flask blueprint per resource group, app-wide hooks in ``hooks``.

``common`` holds what the groups share (params, authenticate, require_admin, error answers); each route
reaches its ``HelpdeskSimulator`` through ``common.simulator()``, so one blueprint serves every instance.
"""

from __future__ import annotations

from flask import Blueprint

from tests.simulators.helpdesk_api import (
    attachments,
    contacts,
    conversations,
    inboxes,
    integrations,
    messages,
    profile,
    sim_control,
)
from tests.simulators.helpdesk_api.hooks import install

BLUEPRINTS: tuple[Blueprint, ...] = tuple(
    module.blueprint
    for module in (profile, contacts, conversations, messages, inboxes, integrations, attachments, sim_control)
)

__all__ = ["BLUEPRINTS", "install"]
