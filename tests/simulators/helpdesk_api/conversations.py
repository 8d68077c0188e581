"""Conversations: create/show, status and typing toggles, custom attributes, labels (each write queues webhooks)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from tests.simulators.helpdesk_api.common import ACCOUNT, CONVERSATION, authorized, enqueue, params
from tests.simulators.helpdesk_state import Outbound, to_bool

blueprint = Blueprint("conversations", __name__)


@blueprint.post(ACCOUNT + "/conversations")
def conversation_create(aid: int) -> Response:
    with authorized(aid, bot_ok=True) as (state, actor):
        p = params()
        conv, created = state.create_conversation(aid, p)
        outbounds = state.conversation_event("conversation_created", conv) if created else []
        if created and isinstance(p.get("message"), dict):
            _, more = state.create_message(aid, conv["id"], p["message"], [], actor)
            outbounds += more
        response = jsonify(state.conversation_rest(conv))
    enqueue(outbounds)
    return response


@blueprint.get(CONVERSATION)
def conversation_show(aid: int, cid: int) -> Response:
    with authorized(aid, bot_ok=True) as (state, _):
        return jsonify(state.conversation_rest(state.conversation(aid, cid)))


@blueprint.post(CONVERSATION + "/toggle_status")
def conversation_toggle_status(aid: int, cid: int) -> Response:
    with authorized(aid, bot_ok=True) as (state, _):
        p = params()
        conv = state.conversation(aid, cid)
        outbounds = state.toggle_status(conv, p.get("status"), p.get("snoozed_until"))
        response = jsonify(
            {
                "meta": {},
                "payload": {
                    "success": True,
                    "conversation_id": conv["id"],
                    "current_status": conv["status"],
                    "snoozed_until": conv["snoozed_until"],
                },
            }
        )
    enqueue(outbounds)
    return response


@blueprint.post(CONVERSATION + "/toggle_typing_status")
def conversation_typing(aid: int, cid: int) -> Response:
    with authorized(aid, bot_ok=True) as (state, actor):
        p = params()
        conv = state.conversation(aid, cid)
        outbounds = state.typing_event(conv, actor, p.get("typing_status") == "on", to_bool(p.get("is_private", False)))
    enqueue(outbounds)
    return Response(status=200)


@blueprint.post(CONVERSATION + "/custom_attributes")
def conversation_custom_attributes(aid: int, cid: int) -> Response:
    with authorized(aid, bot_ok=True) as (state, _):
        conv = state.conversation(aid, cid)
        outbounds = state.set_custom_attributes(conv, params().get("custom_attributes"))
        response = jsonify({"custom_attributes": conv["custom_attributes"]})
    enqueue(outbounds)
    return response


@blueprint.route(CONVERSATION + "/labels", methods=["GET", "POST"])
def conversation_labels(aid: int, cid: int) -> Response:
    with authorized(aid, bot_ok=True) as (state, _):
        conv = state.conversation(aid, cid)
        outbounds: list[Outbound] = []
        if request.method == "POST":
            outbounds = state.set_labels(conv, params().get("labels") or [])
        response = jsonify({"payload": list(conv["labels"])})
    enqueue(outbounds)
    return response
