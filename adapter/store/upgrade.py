"""Keys of versions before hash tags, renamed once: `flask upgrade-keys` (see docs/operations.md).

Only layouts whose old name holds all the new one needs are renamed: a chat's window, latest wamid,
conversation, consent and attributes throttle, and a WABA's templates. The message mappings' old names
lack the customer their new slot needs; they expire within 35 days and only old messages' statuses
need them. The queue's keys are for a drained queue to leave behind, but for the dead letters, which
the worker moves at start (JobQueue.adopt_dead_letters).
"""

from __future__ import annotations

from collections.abc import Callable

import redis

from adapter.store import keys
from adapter.store.connection import Store

_CHAT_KEYS: dict[str, Callable[[str, str], str]] = {
    "window": keys.window,
    "last-wamid": keys.last_customer_wamid,
    "conv": keys.conversation,
    "optout": keys.optout,
    "winattr": keys.window_attributes_written,
}
_WABA_KEYS: dict[str, Callable[[str], str]] = {
    "tpl": keys.templates,
    "tpl-ids": keys.template_ids,
    "tpl-synced": keys.templates_synced_at,
}


def tagged_name(key: str) -> str | None:
    """The hash-tagged name of a key of an earlier layout; None for a key that keeps its name."""
    if "{" in key or not key.startswith(keys.PREFIX):
        return None
    kind, _, rest = key[len(keys.PREFIX) :].partition(":")
    if kind in _CHAT_KEYS:
        phone_number_id, found, customer = rest.partition(":")
        return _CHAT_KEYS[kind](phone_number_id, customer) if found else None
    return _WABA_KEYS[kind](rest) if kind in _WABA_KEYS and rest else None


def upgrade_keys(store: Store) -> int:
    """Rename every key of an earlier layout (SCAN of every primary: run once, not on a hot path). A key whose
    new name exists already is newer data: the old one is dropped. Returns how many were renamed."""
    moved = 0
    for kind in (*_CHAT_KEYS, *_WABA_KEYS):
        for key in list(store.scan_iter(match=f"{keys.PREFIX}{kind}:*", count=1000)):
            target = tagged_name(str(key))
            if target is not None:
                moved += _move(store, str(key), target)
    return moved


def _move(store: Store, key: str, target: str) -> int:
    """DUMP and RESTORE with the key's expiry (the two names may be on two nodes), then DEL."""
    dumped, ttl_ms = store.dump(key), int(store.pttl(key))
    if dumped is None or ttl_ms == -2:
        return 0
    try:
        store.restore(target, max(ttl_ms, 0), dumped)
    except redis.ResponseError as exc:
        if "BUSYKEY" not in str(exc):
            raise
        store.delete(key)
        return 0
    store.delete(key)
    return 1
