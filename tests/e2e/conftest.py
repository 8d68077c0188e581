"""End-to-end fixtures: both simulators on loopback, the adapter's web + workers against them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from adapter.clock import Clock
from tests.conftest import (
    APP_SECRET,
    GRAPH_TOKEN,
    HELPDESK_TOKEN,
    INBOX_SECRET,
    PNID,
    WABA,
    RunningAdapter,
    make_channel,
    make_settings,
)
from tests.simulators.graph import GraphSimulator
from tests.simulators.helpdesk import HelpdeskSimulator

ACCOUNT = 1


@pytest.fixture(scope="session")
def graph_server() -> Iterator[GraphSimulator]:
    sim = GraphSimulator(app_secret=APP_SECRET).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def helpdesk_server() -> Iterator[HelpdeskSimulator]:
    sim = HelpdeskSimulator().start()
    yield sim
    sim.stop()


@dataclass
class World:
    adapter: RunningAdapter
    graph: GraphSimulator
    helpdesk: HelpdeskSimulator
    inbox_id: int

    def conversations(self) -> list[dict[str, Any]]:
        return [c for (account, _), c in self.helpdesk.conversations.items() if account == ACCOUNT]

    def only_conversation_id(self) -> int:
        conversations = self.conversations()
        assert len(conversations) == 1, conversations
        return int(conversations[0]["id"])


def build_world(
    store: redis.Redis,
    graph: GraphSimulator,
    helpdesk: HelpdeskSimulator,
    clock: Clock | None = None,
    threads: int = 2,
    **settings: str,
) -> World:
    """Both simulators seeded with one number, account, user and inbox; the adapter (web + `threads` consumer
    threads; 0 = the web only) running against them, its channel connected."""
    graph.reset()
    graph.clear_templates()  # each world starts without another test's templates
    helpdesk.reset()
    graph.add_phone_number(PNID, display_phone_number="15550783881", waba_id=WABA, access_token=GRAPH_TOKEN)
    config = make_settings(GRAPH_API_BASE_URL=graph.base_url, HELPDESK_BASE_URL=helpdesk.base_url, **settings)
    adapter = RunningAdapter(config, store, clock=clock, threads=threads)
    helpdesk.add_account(ACCOUNT)
    helpdesk.add_user(ACCOUNT, token=HELPDESK_TOKEN)
    webhook_url = f"{adapter.url}/webhooks/helpdesk/{PNID}"
    inbox = helpdesk.add_inbox(ACCOUNT, name="WhatsApp +1 555 078 3881", webhook_url=webhook_url, secret=INBOX_SECRET)
    adapter.services.channels.save(make_channel(helpdesk_inbox_id=int(inbox["id"])))
    graph.webhook_url = f"{adapter.url}/webhooks/meta"
    return World(adapter=adapter, graph=graph, helpdesk=helpdesk, inbox_id=int(inbox["id"]))


@pytest.fixture
def world(store: redis.Redis, graph_server: GraphSimulator, helpdesk_server: HelpdeskSimulator) -> Iterator[World]:
    built = build_world(store, graph_server, helpdesk_server)
    yield built
    built.adapter.close()
