"""Mappings.begin_inbound: the first step of an inbound message, one round trip, on a real Redis."""

from __future__ import annotations

import redis

from adapter.store import keys
from adapter.store.mappings import Claim, ConversationRef, InboundStart, Mappings

PNID, CUSTOMER, WAMID = "106540352242922", "16505551234", "wamid.HBgL"
TURN = keys.window_attributes_written(PNID, CUSTOMER)  # a claim is a key of the same chat


def test_a_new_customer_has_no_conversation_and_no_mark(store: redis.Redis) -> None:
    mappings = Mappings(store)
    assert mappings.begin_inbound(PNID, WAMID, CUSTOMER, 100.0) == InboundStart(delivered=False)
    assert not store.exists(keys.posting(PNID, CUSTOMER, WAMID))


def test_a_known_customer_is_marked_as_being_posted_to_its_conversation(store: redis.Redis) -> None:
    mappings = Mappings(store)
    mappings.remember_conversation(PNID, CUSTOMER, ConversationRef(contact_id=7, conversation_id=42))
    start = mappings.begin_inbound(PNID, WAMID, CUSTOMER, 100.5)
    assert start == InboundStart(delivered=False, conversation=ConversationRef(7, 42), earlier=None)
    # The same mark begin_posting leaves: a later attempt reads when this one began.
    assert mappings.begin_posting(PNID, CUSTOMER, WAMID, 42, 200.0) == (42, 100.5)
    again = mappings.begin_inbound(PNID, WAMID, CUSTOMER, 300.0)
    assert again.earlier == (42, 100.5)


def test_a_delivered_message_is_reported_and_left_alone(store: redis.Redis) -> None:
    mappings = Mappings(store)
    mappings.remember_conversation(PNID, CUSTOMER, ConversationRef(contact_id=7, conversation_id=42))
    mappings.remember_inbound(PNID, CUSTOMER, WAMID, 42, 900)
    assert mappings.begin_inbound(PNID, WAMID, CUSTOMER, 100.0) == InboundStart(delivered=True)
    assert not store.exists(keys.posting(PNID, CUSTOMER, WAMID))


def test_without_mark_only_delivery_is_checked(store: redis.Redis) -> None:
    mappings = Mappings(store)
    mappings.remember_conversation(PNID, CUSTOMER, ConversationRef(contact_id=7, conversation_id=42))
    assert mappings.begin_inbound(PNID, WAMID, CUSTOMER, 100.0, mark=False) == InboundStart(delivered=False)
    assert not store.exists(keys.posting(PNID, CUSTOMER, WAMID))


def test_remember_inbound_takes_the_claim_in_the_same_transaction(store: redis.Redis) -> None:
    mappings = Mappings(store)
    mappings.begin_posting(PNID, CUSTOMER, WAMID, 42, 100.0)
    claim = Claim(TURN, 100, 60)
    assert mappings.remember_inbound(PNID, CUSTOMER, WAMID, 42, 900, claim=claim) is True
    ref = mappings.message(PNID, CUSTOMER, WAMID)
    assert ref is not None and (ref.conversation_id, ref.message_id, ref.direction) == (42, 900, "in")
    assert not store.exists(keys.posting(PNID, CUSTOMER, WAMID))
    assert 0 < store.ttl(keys.wamid(PNID, CUSTOMER, WAMID)) <= keys.MAPPING_TTL_SECONDS
    assert store.get(TURN) == "100" and 0 < store.ttl(TURN) <= 60
    # The turn is taken: the next message's remember keeps its mapping but not the turn.
    assert mappings.remember_inbound(PNID, CUSTOMER, "wamid.other", 42, 901, claim=Claim(TURN, 200, 60)) is False
    assert store.get(TURN) == "100" and mappings.message(PNID, CUSTOMER, "wamid.other") is not None
    assert mappings.remember_inbound(PNID, CUSTOMER, "wamid.third", 42, 902) is False
