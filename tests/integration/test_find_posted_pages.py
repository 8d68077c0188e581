"""The inbound path's look for an earlier post of a wamid (adapter/bridge/inbound.py `_find_posted`) against the
helpdesk simulator, which answers a conversation's messages as Chatwoot does: the latest 20, then 20 before
`before`."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, cast

from adapter.bridge.context import BridgeContext
from adapter.bridge.inbound import _find_posted
from adapter.helpdesk.client import HelpdeskClient
from tests.conftest import HELPDESK_TOKEN, make_channel
from tests.simulators.helpdesk import HelpdeskSimulator

ACCOUNT = 1
CUSTOMER = "16505551234"


def conversation_of_45(helpdesk: HelpdeskSimulator, client: HelpdeskClient) -> tuple[int, list[dict[str, Any]]]:
    """A conversation holding 45 customer messages, wamid.0 the oldest; the simulator's helpdesk seeded."""
    helpdesk.add_account(ACCOUNT)
    helpdesk.add_user(ACCOUNT, token=HELPDESK_TOKEN)
    inbox = helpdesk.add_inbox(ACCOUNT, name="WhatsApp", webhook_url="", secret="s")
    contact = client.create_contact(ACCOUNT, HELPDESK_TOKEN, {"name": "Sheena", "phone_number": "+" + CUSTOMER,
                                                              "inbox_id": inbox["id"], "source_id": CUSTOMER})
    conversation = int(client.create_conversation(ACCOUNT, HELPDESK_TOKEN, {
        "inbox_id": inbox["id"], "contact_id": contact["id"], "source_id": CUSTOMER})["id"])  # fmt: skip
    posted = [client.create_message(ACCOUNT, HELPDESK_TOKEN, conversation,
                                    {"content": f"m{n}", "message_type": "incoming", "source_id": f"wamid.{n}"})
              for n in range(45)]  # fmt: skip
    return conversation, posted


def test_a_posted_message_older_than_the_latest_twenty_is_found(helpdesk: HelpdeskSimulator) -> None:
    client = HelpdeskClient(helpdesk.base_url, timeout=5, media_max_bytes=1000)
    conversation, posted = conversation_of_45(helpdesk, client)
    assert [m["source_id"] for m in client.list_messages(ACCOUNT, HELPDESK_TOKEN, conversation)] == [
        f"wamid.{n}" for n in range(25, 45)]  # one page: what a single look would have seen  # fmt: skip
    ctx = cast(BridgeContext, SimpleNamespace(helpdesk=client))
    channel = make_channel()
    began = time.time() - 5  # the earlier attempt began just before the messages were created
    assert _find_posted(ctx, channel, conversation, "wamid.3", began) == posted[3]["id"]  # on the third page
    assert _find_posted(ctx, channel, conversation, "wamid.30", began) == posted[30]["id"]
    assert _find_posted(ctx, channel, conversation, "wamid.never", began) is None  # every page read, to the end
    pages = [r for r in helpdesk.requests_log if r["method"] == "GET" and r["path"].endswith("/messages")]
    befores = [r["query"].get("before") for r in pages[-4:]]
    assert befores == [None, str(posted[25]["id"]), str(posted[5]["id"]), str(posted[0]["id"])]  # the last: empty
    # Messages far older than the post began cannot be it: the look stops at the first page.
    assert _find_posted(ctx, channel, conversation, "wamid.3", time.time() + 3600) is None
    assert _find_posted(ctx, channel, 999, "wamid.3", began) is None  # no such conversation
