"""The 24-hour customer service window: when the customer last wrote, and the outbound gate.

Only messages the customer wrote open or refresh the window (WHATSAPP_OPENERS), using Meta's
timestamp; statuses, our own template sends and system notices never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from adapter.clock import Clock
from adapter.helpdesk.events import AgentReply
from adapter.meta.events import MessageType
from adapter.store import keys
from adapter.store.channels import Channel
from adapter.store.connection import Store

WINDOW_SECONDS = 24 * 3600

# The message types that are the customer writing to us: each opens the window.
WINDOW_OPENERS = frozenset(
    {
        MessageType.TEXT,
        MessageType.IMAGE,
        MessageType.VIDEO,
        MessageType.AUDIO,
        MessageType.DOCUMENT,
        MessageType.STICKER,
        MessageType.LOCATION,
        MessageType.CONTACTS,
        MessageType.BUTTON,
        MessageType.INTERACTIVE,
        MessageType.ORDER,
        MessageType.REACTION,
    }
)

# Keep the last-inbound mark a little past the window so a late status can still be judged.
_MARK_TTL_SECONDS = WINDOW_SECONDS + 3600

# SET to the larger of the stored and the new timestamp (out-of-order webhooks never move it back).
_RECORD_LATEST = """
local current = tonumber(redis.call("GET", KEYS[1]) or "0")
local incoming = tonumber(ARGV[1])
if incoming > current then
  redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[2])
  return 1
end
return 0
"""


class WindowTracker:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._record = store.register_script(_RECORD_LATEST)

    def record_inbound(self, phone_number_id: str, customer: str, timestamp: int, message_type: MessageType) -> bool:
        """Refresh the window if this message type opens it. True when the stored time moved forward."""
        if message_type not in WINDOW_OPENERS:
            return False
        ttl = max(1, int(timestamp + _MARK_TTL_SECONDS - self.clock.now()))
        return bool(self._record(keys=[keys.window(phone_number_id, customer)], args=[timestamp, ttl]))

    def last_inbound(self, phone_number_id: str, customer: str) -> int | None:
        value = self.store.get(keys.window(phone_number_id, customer))
        return int(value) if value else None

    def closes_at(self, phone_number_id: str, customer: str) -> int | None:
        last = self.last_inbound(phone_number_id, customer)
        return None if last is None else last + WINDOW_SECONDS

    def is_open(self, phone_number_id: str, customer: str) -> bool:
        closes = self.closes_at(phone_number_id, customer)
        return closes is not None and self.clock.now() < closes


@dataclass(frozen=True)
class GateDecision:
    """What to do with an agent reply: send it, or refuse it with a reason agents can act on."""

    send: bool
    reason: str | None = None


class OutboundGate(Protocol):
    """The seam where the window policy (reject / reroute to a template) plugs into the outbound path."""

    def check(self, channel: Channel, reply: AgentReply) -> GateDecision: ...


class AllowAll:
    """No window policy: everything is sent and Meta's own answer (131047) is reported."""

    def check(self, channel: Channel, reply: AgentReply) -> GateDecision:
        return GateDecision(send=True)
