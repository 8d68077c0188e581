"""Marketing opt-outs per customer and number: from Meta's `user_preferences` webhook or a STOP keyword."""

from __future__ import annotations

from adapter.store import keys
from adapter.store.connection import Store

STOP_WORDS = frozenset({"stop", "unsubscribe", "stop promotions"})
START_WORDS = frozenset({"start", "subscribe"})


class OptOuts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def set(self, phone_number_id: str, customer: str, opted_out: bool) -> None:
        if opted_out:
            self.store.set(keys.optout(phone_number_id, customer), "1")
        else:
            self.store.delete(keys.optout(phone_number_id, customer))

    def has_opted_out(self, phone_number_id: str, customer: str) -> bool:
        return bool(self.store.exists(keys.optout(phone_number_id, customer)))

    def apply_keyword(self, phone_number_id: str, customer: str, text: str) -> bool | None:
        """A customer's STOP / START message; returns the new state, or None when it is not a keyword."""
        word = " ".join(text.lower().split())
        if word in STOP_WORDS:
            self.set(phone_number_id, customer, True)
            return True
        if word in START_WORDS:
            self.set(phone_number_id, customer, False)
            return False
        return None
