"""BridgeContext: what the bridge functions need, handed in (no globals, no framework)."""

from __future__ import annotations

from dataclasses import dataclass

from adapter.bridge.optout import OptOuts
from adapter.bridge.throttle import Throttle
from adapter.bridge.window import WindowTracker
from adapter.bridge.window_policy import WindowGate
from adapter.clock import Clock
from adapter.helpdesk.client import HelpdeskClient
from adapter.meta.client import GraphClient
from adapter.monitoring.costs import CostLedger
from adapter.store.channels import ChannelRepository
from adapter.store.deferred import DeferredWrites
from adapter.store.events import EventLog
from adapter.store.mappings import Mappings


@dataclass(frozen=True)
class BridgeContext:
    graph: GraphClient
    helpdesk: HelpdeskClient
    channels: ChannelRepository
    mappings: Mappings
    window: WindowTracker
    gate: WindowGate
    optouts: OptOuts
    throttle: Throttle
    clock: Clock
    events: EventLog
    deferred: DeferredWrites  # counters and records no one waits for, written within a second
    costs: CostLedger  # what each message costs (Meta's pricing), counted once per message
    window_attributes_every_seconds: float = 300
    unknown_outcome_wait_seconds: float = 60
    # Why business messages from a number are held (its display name is not approved yet), or None.
