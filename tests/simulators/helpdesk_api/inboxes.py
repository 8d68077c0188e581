"""API-channel inboxes (webhook_url, secret, the bot answering them) and the account's agent bots."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, jsonify

from tests.simulators.helpdesk_api.common import ACCOUNT, authorized, params

blueprint = Blueprint("inboxes", __name__)
INBOX = ACCOUNT + "/inboxes/<int:inbox_id>"


@blueprint.get(ACCOUNT + "/inboxes")
def inbox_index(aid: int) -> Response:
    with authorized(aid) as (state, actor):
        admin = state.is_admin(actor, aid)
        inboxes = [i for i in state.inboxes.values() if i["account_id"] == aid]
        return jsonify({"payload": [state.inbox_json(i, admin=admin) for i in inboxes]})


@blueprint.get(INBOX)
def inbox_show(aid: int, inbox_id: int) -> Response:
    with authorized(aid) as (state, actor):
        return jsonify(state.inbox_json(state.inbox(aid, inbox_id), admin=state.is_admin(actor, aid)))


@blueprint.post(ACCOUNT + "/inboxes")
def inbox_create(aid: int) -> Response:
    with authorized(aid, admin=True) as (state, _):
        return jsonify(state.inbox_json(state.create_inbox(aid, params()), admin=True))


@blueprint.route(INBOX, methods=["PATCH", "PUT"])
def inbox_update(aid: int, inbox_id: int) -> Response:
    with authorized(aid, admin=True) as (state, _):
        return jsonify(state.inbox_json(state.update_inbox(aid, inbox_id, params()), admin=True))


@blueprint.post(INBOX + "/reset_secret")
def inbox_reset_secret(aid: int, inbox_id: int) -> Response:
    with authorized(aid, admin=True) as (state, _):
        inbox = state.inbox(aid, inbox_id)
        inbox["secret"] = secrets.token_urlsafe(18)
        return jsonify(state.inbox_json(inbox, admin=True))


@blueprint.post(INBOX + "/set_agent_bot")
def inbox_set_agent_bot(aid: int, inbox_id: int) -> Response:
    with authorized(aid, admin=True) as (state, _):
        inbox = state.inbox(aid, inbox_id)
        bot_id = params().get("agent_bot")
        inbox["agent_bot_id"] = None if bot_id in (None, "") else state.agent_bot(aid, bot_id)["id"]
        return Response(status=200)


@blueprint.get(INBOX + "/agent_bot")
def inbox_agent_bot(aid: int, inbox_id: int) -> Response:
    with authorized(aid) as (state, actor):
        bot_id = state.inbox(aid, inbox_id)["agent_bot_id"]
        bot = state.agent_bots.get(bot_id) if bot_id is not None else None
        admin = state.is_admin(actor, aid)
        return jsonify({"agent_bot": state.bot_json(bot, admin=admin) if bot else None})


@blueprint.get(ACCOUNT + "/agent_bots")
def agent_bot_index(aid: int) -> Response:
    with authorized(aid) as (state, actor):
        bots = [b for b in state.agent_bots.values() if b["account_id"] in (None, aid)]
        return jsonify([state.bot_json(b, admin=state.is_admin(actor, aid)) for b in bots])
