"""Every Redis key the adapter uses, named in one place.

`chat` is "<phone_number_id>:<customer id>": the unit of ordering and of the 24-hour window.
"""

from __future__ import annotations

PREFIX = "wa:"

# --- queue ---
WORKERS = PREFIX + "workers"  # zset consumer -> last heartbeat
DELAYED = PREFIX + "delayed"  # zset chat -> when its parked jobs are due again
DEAD_LETTERS = PREFIX + "dead"  # list of dead jobs (newest first)
UNROUTED = PREFIX + "unrouted"  # list of payloads for numbers we don't know
CONSUMER_GROUP = "workers"


def stream(partition: int) -> str:
    return f"{PREFIX}jobs:{partition}"


def lease(partition: int) -> str:
    return f"{PREFIX}lease:{partition}"


def parked(chat: str) -> str:
    """Jobs of a chat waiting behind one that failed and will be retried (keeps the chat in order)."""
    return f"{PREFIX}parked:{chat}"


def dedupe(source: str, item_id: str) -> str:
    return f"{PREFIX}dedupe:{source}:{item_id}"


# --- channels ---
CHANNELS = PREFIX + "channels"  # set of phone_number_ids


def channel(phone_number_id: str) -> str:
    return f"{PREFIX}channel:{phone_number_id}"


# --- conversations and messages ---
def window(phone_number_id: str, customer: str) -> str:
    return f"{PREFIX}window:{phone_number_id}:{customer}"


def conversation(phone_number_id: str, customer: str) -> str:
    """The helpdesk contact and open conversation of a customer on a number."""
    return f"{PREFIX}conv:{phone_number_id}:{customer}"


def wamid(phone_number_id: str, wamid_value: str) -> str:
    """wamid -> helpdesk conversation / message (both directions)."""
    return f"{PREFIX}wamid:{phone_number_id}:{wamid_value}"


def helpdesk_message(phone_number_id: str, message_id: int | str) -> str:
    """Helpdesk message -> its WhatsApp parts and their statuses."""
    return f"{PREFIX}hdmsg:{phone_number_id}:{message_id}"


def sent_part(phone_number_id: str, message_id: int | str, part: int) -> str:
    """Idempotency key of one part of an outbound message, written before the Graph call."""
    return f"{PREFIX}sent:{phone_number_id}:{message_id}:{part}"


# --- observability ---
def recent_events(source: str) -> str:
    return f"{PREFIX}recent:{source}"


MAPPING_TTL_SECONDS = 35 * 24 * 3600  # Meta delivers statuses for up to 30 days
