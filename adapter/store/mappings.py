"""What links the two sides: customer -> helpdesk conversation, wamid <-> helpdesk message,
the statuses of each part of an outbound message, and the sent-part idempotency keys.

Every key here but the Retry button's is in its chat's slot (keys.chat_tag), so each step's script or
transaction runs on one node of a cluster: that is why every lookup names the customer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapter.store import fence, keys
from adapter.store.connection import Store
from adapter.store.fence import fenced_mark
from adapter.store.replies import text, text_hash

CONVERSATION_TTL_SECONDS = 30 * 24 * 3600
RETRY_BUTTON_SECONDS = 2 * 24 * 3600  # the helpdesk offers Retry on a failed message for a day
# One press of Retry is two message_updated webhooks (status, then content_attributes), sent together. When the
# resend that the first one started fails again, the second must not take the new failure for a new press.
RETRY_PRESS_SECONDS = 10

# An inbound message's first step, in one round trip: is it delivered already (KEYS[1] exists)? Unless ARGV[3]
# is "0": which conversation is the customer's (KEYS[2])? If one is known, mark the message as being posted there
# (KEYS[3] = "<conversation>:<now>", ARGV[1] = now, ARGV[2] = ttl), or return the mark an earlier attempt left.
_BEGIN_INBOUND = """
if redis.call("EXISTS", KEYS[1]) == 1 then return {1} end
if ARGV[3] == "0" then return {0} end
local conversation = redis.call("HMGET", KEYS[2], "contact_id", "conversation_id")
if not conversation[1] or not conversation[2] then return {0} end
local mark = conversation[2] .. ":" .. ARGV[1]
if redis.call("SET", KEYS[3], mark, "NX", "EX", ARGV[2]) then
  return {0, conversation[1], conversation[2]}
end
return {0, conversation[1], conversation[2], redis.call("GET", KEYS[3])}
"""


@dataclass(frozen=True)
class Quote:
    """The message an agent's reply quoted: the helpdesk wipes it from a message it retries."""

    in_reply_to: int | None = None
    in_reply_to_external_id: str | None = None


@dataclass(frozen=True)
class ConversationRef:
    contact_id: int
    conversation_id: int


@dataclass(frozen=True)
class InboundStart:
    """Where an inbound message stands before it is posted (Mappings.begin_inbound)."""

    delivered: bool  # its wamid is mapped: posted before
    conversation: ConversationRef | None = None  # the customer's known conversation, marked as being posted to
    earlier: tuple[int, float] | None = None  # (conversation, when) of an earlier attempt of unknown outcome


@dataclass(frozen=True)
class Claim:
    """A key set only if absent, for `ttl_seconds`: whoever sets it has the turn."""

    key: str
    value: int
    ttl_seconds: int


@dataclass(frozen=True)
class MessageRef:
    conversation_id: int
    message_id: int
    direction: str  # "in" (customer -> helpdesk) or "out" (helpdesk -> customer)
    part: int = 0


class Mappings:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._begin_inbound = store.register_script(_BEGIN_INBOUND)

    # --- conversations -------------------------------------------------------------

    def conversation(self, phone_number_id: str, customer: str) -> ConversationRef | None:
        data = self.store.hgetall(keys.conversation(phone_number_id, customer))
        if not data:
            return None
        return ConversationRef(int(data["contact_id"]), int(data["conversation_id"]))

    def remember_conversation(self, phone_number_id: str, customer: str, ref: ConversationRef) -> None:
        key = keys.conversation(phone_number_id, customer)
        pipe = self.store.pipeline(transaction=True)
        pipe.hset(key, mapping={"contact_id": ref.contact_id, "conversation_id": ref.conversation_id})
        pipe.expire(key, CONVERSATION_TTL_SECONDS)
        pipe.execute()

    def forget_conversation(self, phone_number_id: str, customer: str, conversation_id: int | None = None) -> None:
        """Drop the cached conversation (when resolved, or when the helpdesk no longer has it)."""
        key = keys.conversation(phone_number_id, customer)
        if conversation_id is not None:
            current = self.store.hget(key, "conversation_id")
            if current is not None and int(current) != conversation_id:
                return
        self.store.delete(key)

    # --- messages ------------------------------------------------------------------

    def message(self, phone_number_id: str, customer: str, wamid: str) -> MessageRef | None:
        data = text_hash(self.store.hgetall(keys.wamid(phone_number_id, customer, wamid)))
        if not data:
            return None
        return MessageRef(
            int(data["conversation_id"]), int(data["message_id"]), data.get("direction", "in"), int(data.get("part", 0))
        )

    def begin_inbound(
        self, phone_number_id: str, wamid: str, customer: str, now: float, *, mark: bool = True
    ) -> InboundStart:
        """`message`, `conversation` and `begin_posting` of an inbound message in one round trip. With `mark`
        False only whether it was delivered (a message that has work to do before it can be posted)."""
        found = self._begin_inbound(
            keys=[keys.wamid(phone_number_id, customer, wamid), keys.conversation(phone_number_id, customer),
                  keys.posting(phone_number_id, customer, wamid)],
            args=[repr(now), keys.MAPPING_TTL_SECONDS, "1" if mark else "0"],
        )  # fmt: skip
        if int(found[0]):
            return InboundStart(delivered=True)
        if len(found) < 3:
            return InboundStart(delivered=False)
        ref = ConversationRef(int(found[1]), int(found[2]))
        earlier = _posting_mark(found[3]) if len(found) > 3 else None
        return InboundStart(delivered=False, conversation=ref, earlier=earlier)

    def remember_inbound(
        self, phone_number_id: str, customer: str, wamid: str, conversation_id: int, message_id: int, *,
        claim: Claim | None = None,
    ) -> bool:  # fmt: skip
        """Map the wamid to its helpdesk message and drop the posting mark, in one transaction that also takes
        `claim` (a key of the same chat) when given. True when the claim is ours."""
        key = keys.wamid(phone_number_id, customer, wamid)
        pipe = self.store.pipeline(transaction=True)
        pipe.hset(key, mapping={"conversation_id": conversation_id, "message_id": message_id, "direction": "in"})
        pipe.expire(key, keys.MAPPING_TTL_SECONDS)
        pipe.delete(keys.posting(phone_number_id, customer, wamid))
        if claim is not None:
            pipe.set(claim.key, claim.value, nx=True, ex=claim.ttl_seconds)
        *_, claimed = pipe.execute()
        return claim is not None and bool(claimed)

    def sent_part(self, phone_number_id: str, customer: str, message_id: int, part: int) -> str | None:
        """The wamid of a part already sent (so a retry never sends it twice)."""
        value = self.store.get(keys.sent_part(phone_number_id, customer, message_id, part))
        return str(value) if value else None

    def remember_sent_part(
        self,
        phone_number_id: str,
        customer: str,
        conversation_id: int,
        message_id: int,
        part: int,
        parts: int,
        wamid: str,
        reply: dict[str, Any] | None = None,
    ) -> None:
        """After Graph accepted a part: wamid -> message, the part's status slot, the sent key. One step.

        `reply` (the agent's message) is kept once, so a later 131047 can still reroute it to a template.
        """
        ttl = keys.MAPPING_TTL_SECONDS
        wamid_key = keys.wamid(phone_number_id, customer, wamid)
        message_key = keys.helpdesk_message(phone_number_id, customer, message_id)
        pipe = self.store.pipeline(transaction=True)
        pipe.set(keys.sent_part(phone_number_id, customer, message_id, part), wamid, ex=ttl)
        pipe.delete(keys.sending(customer, f"{phone_number_id}:{message_id}:{part}"))
        pipe.hset(
            wamid_key,
            mapping={"conversation_id": conversation_id, "message_id": message_id, "direction": "out", "part": part},
        )
        pipe.expire(wamid_key, ttl)
        pipe.hsetnx(message_key, f"part:{part}", 0)
        pipe.hsetnx(message_key, "parts", parts)
        pipe.hset(message_key, mapping={"conversation_id": conversation_id, f"wamid:{part}": wamid})
        if reply is not None:
            pipe.hsetnx(message_key, "reply", json.dumps(reply, ensure_ascii=False))
        pipe.expire(message_key, ttl)
        pipe.execute()

    # --- outcome-unknown recovery (a crash or timeout between the API's answer and our write) ---

    def begin_send(self, customer: str, part_key: str, now: float) -> float | None:
        """Mark a part as being sent. Returns when an earlier attempt began, if one did (outcome unknown).

        Fenced by the running job's lease (queue/fence.py): a consumer that lost its partition gets
        StaleLease here and sends nothing more, while the new holder finds this mark and waits for
        Meta's status of whatever the stale one had already sent.
        """
        key = keys.sending(customer, part_key)
        fresh, value = fenced_mark(self.store, fence.current(), key, repr(now), keys.MAPPING_TTL_SECONDS)
        if fresh:
            return None
        return float(value) if value else None

    def abandon_send(self, customer: str, part_key: str) -> None:
        """Graph said for certain the part was not accepted."""
        self.store.delete(keys.sending(customer, part_key))

    def remember_callback(self, customer: str, part_key: str, wamid: str) -> None:
        self.store.set(keys.callback(customer, part_key), wamid, ex=keys.MAPPING_TTL_SECONDS)

    def forget_callback(self, customer: str, part_key: str) -> None:
        self.store.delete(keys.callback(customer, part_key))

    def callback_wamid(self, customer: str, part_key: str) -> str | None:
        value = self.store.get(keys.callback(customer, part_key))
        return str(value) if value else None

    def is_sending(self, customer: str, part_key: str) -> bool:
        return bool(self.store.exists(keys.sending(customer, part_key)))

    def begin_posting(
        self, phone_number_id: str, customer: str, wamid: str, conversation_id: int, now: float
    ) -> tuple[int, float] | None:
        """Mark an inbound message as being posted. Returns (conversation, when it began) of an earlier
        attempt whose outcome is unknown, if there is one."""
        key = keys.posting(phone_number_id, customer, wamid)
        if self.store.set(key, _posting_value(conversation_id, now), nx=True, ex=keys.MAPPING_TTL_SECONDS):
            return None
        return _posting_mark(self.store.get(key))

    def restart_posting(
        self, phone_number_id: str, customer: str, wamid: str, conversation_id: int, now: float
    ) -> None:
        self.store.set(keys.posting(phone_number_id, customer, wamid), _posting_value(conversation_id, now),
                       ex=keys.MAPPING_TTL_SECONDS)  # fmt: skip

    def abandon_posting(self, phone_number_id: str, customer: str, wamid: str) -> None:
        """The helpdesk answered with an error: the message was not created."""
        self.store.delete(keys.posting(phone_number_id, customer, wamid))

    def first_wamid(self, phone_number_id: str, customer: str, message_id: int) -> str | None:
        """The wamid of an outbound message's first part (to quote it on WhatsApp)."""
        value = self.store.hget(keys.helpdesk_message(phone_number_id, customer, message_id), "wamid:0")
        return str(value) if value else None

    def wamids_of(self, phone_number_id: str, customer: str, message_ids: list[int]) -> dict[int, list[str]]:
        """The wamids of each outbound helpdesk message's parts, in part order, in one round trip (a message the
        adapter never sent has none)."""
        pipe = self.store.pipeline(transaction=False)
        for message_id in message_ids:
            pipe.hgetall(keys.helpdesk_message(phone_number_id, customer, message_id))
        found = {}
        for message_id, data in zip(message_ids, pipe.execute(), strict=True):
            parts = sorted((int(name[6:]), value) for name, value in text_hash(data).items()
                           if name.startswith("wamid:") and name[6:].isdigit())  # fmt: skip
            found[message_id] = [wamid for _, wamid in parts]
        return found

    def record_part_status(
        self, phone_number_id: str, customer: str, message_id: int, part: int, rank: int
    ) -> tuple[int, int]:
        """Raise one part's status rank (never lower it). Returns (aggregate rank, rank already reported)."""
        key = keys.helpdesk_message(phone_number_id, customer, message_id)
        current = self.store.hgetall(key)
        parts = int(current.get("parts", 1))
        if rank > int(current.get(f"part:{part}", 0)):
            self.store.hset(key, f"part:{part}", rank)
            current[f"part:{part}"] = str(rank)
        ranks = [int(current.get(f"part:{i}", 0)) for i in range(parts)]
        aggregate = max(ranks) if any(r >= FAILED_RANK for r in ranks) else min(ranks)
        return aggregate, int(current.get("reported", 0))

    def reply_of(self, phone_number_id: str, customer: str, message_id: int) -> dict[str, Any] | None:
        raw = self.store.hget(keys.helpdesk_message(phone_number_id, customer, message_id), "reply")
        return dict(json.loads(raw)) if raw else None

    def start_reroute(self, phone_number_id: str, customer: str, message_id: int) -> bool:
        """From now on the message is one template part (part 0). False when it was rerouted already."""
        key = keys.helpdesk_message(phone_number_id, customer, message_id)
        if not self.store.hsetnx(key, "rerouted", 1):
            return False
        self.store.hset(key, mapping={"parts": 1, "part:0": 0})
        return True

    def mark_failed_by_us(self, phone_number_id: str, message_id: int, quote: Quote | None = None) -> None:
        value = json.dumps({"in_reply_to": quote.in_reply_to, "in_reply_to_external_id": quote.in_reply_to_external_id}
                           if quote else {})  # fmt: skip
        self.store.set(keys.failed_by_us(phone_number_id, message_id), value, ex=RETRY_BUTTON_SECONDS)

    def may_retry(self, phone_number_id: str, customer: str, message_id: int) -> bool:
        """Whether the helpdesk's Retry of this message can mean "send it": we marked it failed, or we never saw
        it (the helpdesk marks a message failed itself when its webhook could not be delivered)."""
        pipe = self.store.pipeline(transaction=False)
        pipe.exists(keys.failed_by_us(phone_number_id, message_id))
        pipe.exists(keys.helpdesk_message(phone_number_id, customer, message_id))
        failed, known = pipe.execute()
        return bool(failed) or not known

    def claim_retry(self, phone_number_id: str, customer: str, message_id: int) -> Quote | None:
        """Take the retry (once): the quote to send it with when this request is the one to act on, else None."""
        if not self.store.set(keys.retry_press(phone_number_id, message_id), 1, nx=True, ex=RETRY_PRESS_SECONDS):
            return None  # another webhook of a press acted on already
        raw = self.store.getdel(keys.failed_by_us(phone_number_id, message_id))
        if raw is not None:
            stored = json.loads(text(raw)) if text(raw).startswith("{") else {}  # "1": a mark from before quotes
            return Quote(stored.get("in_reply_to"), stored.get("in_reply_to_external_id"))
        if self.store.exists(keys.helpdesk_message(phone_number_id, customer, message_id)):
            return None  # sent, or on its way: Retry of a message that did not fail by us is not a resend
        claimed = self.store.set(keys.retry_of_unseen(phone_number_id, message_id), 1, nx=True, ex=RETRY_BUTTON_SECONDS)
        return Quote() if claimed else None

    def reset_unsent_parts(self, phone_number_id: str, customer: str, message_id: int) -> None:
        """Before a resend: forget the parts that failed or never went, keep those Meta accepted."""
        key = keys.helpdesk_message(phone_number_id, customer, message_id)
        current = self.store.hgetall(key)
        parts = int(current.get("parts", 0))
        pipe = self.store.pipeline(transaction=True)
        for part in range(max(parts, 1) + 50):  # a message never has more parts than that
            if int(current.get(f"part:{part}", 0)) == FAILED_RANK or f"part:{part}" not in current:
                part_key = f"{phone_number_id}:{message_id}:{part}"
                pipe.delete(keys.sent_part(phone_number_id, customer, message_id, part),
                            keys.sending(customer, part_key), keys.callback(customer, part_key))
                pipe.hdel(key, f"part:{part}")
        pipe.hdel(key, "reported", "rerouted")
        pipe.execute()

    def mark_reported(self, phone_number_id: str, customer: str, message_id: int, rank: int) -> None:
        self.store.hset(keys.helpdesk_message(phone_number_id, customer, message_id), "reported", rank)


def _posting_value(conversation_id: int, now: float) -> str:
    """A posting mark: "<conversation>:<unix time>" (_BEGIN_INBOUND writes the same from its ARGV)."""
    return f"{conversation_id}:{now!r}"


def _posting_mark(value: Any) -> tuple[int, float] | None:
    """(conversation, when it began) from a posting mark "<conversation>:<unix time>"."""
    if not value:
        return None
    conversation, _, began = str(value).partition(":")
    return int(conversation), float(began or 0)


# Status ranks: a status only ever moves up. `failed` is final.
STATUS_RANKS = {"sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 4}
FAILED_RANK = STATUS_RANKS["failed"]
RANK_NAMES = {1: "sent", 2: "delivered", 3: "read", 4: "failed"}
