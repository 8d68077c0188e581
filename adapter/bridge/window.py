"""The 24-hour customer service window: when the customer last wrote, and the outbound gate.

Only messages the customer wrote open or refresh the window (WHATSAPP_OPENERS), using Meta's
timestamp; statuses, our own template sends and system notices never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from adapter.clock import Clock
from adapter.meta.events import MessageType
from adapter.store import keys
from adapter.store.connection import Store
from adapter.store.replies import text

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

# SET to the larger of the stored and the new timestamp (out-of-order webhooks never move it back) and keep
# that message's wamid (KEYS[2], ARGV[3]). Returns 1 when the time moved forward: the chat then waits for an
# answer (its zset is global, so it is written after, by the caller: keys of one chat only, for a cluster).
_RECORD_LATEST = """
local current = tonumber(redis.call("GET", KEYS[1]) or "0")
local incoming = tonumber(ARGV[1])
if incoming >= current then
  redis.call("SET", KEYS[2], ARGV[3], "EX", ARGV[2])
end
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

    def record_inbound(
        self, phone_number_id: str, customer: str, timestamp: int, message_type: MessageType, wamid: str = ""
    ) -> bool:
        """Refresh the window if this message type opens it, and keep the message's wamid (the typing
        indicator is shown on it). True when the stored time moved forward.

        The chat then waits for an answer until an agent's reply goes out (see due_warnings).
        """
        if message_type not in WINDOW_OPENERS:
            return False
        ttl = max(1, int(timestamp + _MARK_TTL_SECONDS - self.clock.now()))
        moved = self._record(
            keys=[keys.window(phone_number_id, customer), keys.last_customer_wamid(phone_number_id, customer)],
            args=[timestamp, ttl, wamid],
        )
        if moved:
            # A crash just before this loses one warning, never a message: the chat's next one adds it again.
            self.store.zadd(keys.AWAITING_ANSWER, {f"{phone_number_id}:{customer}": timestamp + WINDOW_SECONDS})
        return bool(moved)

    def last_customer_wamid(self, phone_number_id: str, customer: str) -> str | None:
        value = self.store.get(keys.last_customer_wamid(phone_number_id, customer))
        return text(value) if value else None

    def mark_answered(self, phone_number_id: str, customer: str) -> None:
        self.store.zrem(keys.AWAITING_ANSWER, f"{phone_number_id}:{customer}")

    def due_warnings(self, lead_seconds: float, limit: int = 100) -> list[tuple[str, str, int]]:
        """Chats still waiting for an answer whose window closes within `lead_seconds`, each claimed once
        (ZREM decides which process warns). Returns (phone_number_id, customer, closes_at)."""
        now = self.clock.now()
        due = self.store.zrangebyscore(
            keys.AWAITING_ANSWER, now, now + lead_seconds, start=0, num=limit, withscores=True
        )
        claimed = []
        for chat, closes_at in cast(list[tuple[str, float]], due):
            if self.store.zrem(keys.AWAITING_ANSWER, chat):
                phone_number_id, _, customer = chat.partition(":")
                claimed.append((phone_number_id, customer, int(closes_at)))
        self.store.zremrangebyscore(keys.AWAITING_ANSWER, "-inf", now)  # closed unanswered: nothing to warn
        return claimed

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
    """What to do with an agent reply: send it (as written, or as `template`), or refuse it.

    A refusal carries `reason` (one line, shown on the failed message) and may carry `note` (a private
    note in the conversation saying what to do).
    """

    send: bool
    reason: str | None = None
    note: str | None = None
    template: dict[str, Any] | None = None  # a Graph "template" object to send instead of the text
