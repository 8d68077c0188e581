"""A conversation's messages: list, create (JSON or multipart with attachments), the status PATCH."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from tests.simulators.helpdesk_api.common import CONVERSATION, authorized, enqueue, params

blueprint = Blueprint("messages", __name__)
MESSAGES = CONVERSATION + "/messages"


@blueprint.get(MESSAGES)
def message_index(aid: int, cid: int) -> Response:
    with authorized(aid) as (state, _):
        conv = state.conversation(aid, cid)
        contact = state.contact_push(state.contacts[conv["contact_id"]])
        rows = [state.message_rest(m) for m in state.conversation_messages(conv)]
        return jsonify({"meta": {"contact": contact}, "payload": rows})


@blueprint.post(MESSAGES)
def message_create(aid: int, cid: int) -> Response:
    files = [(f.filename or "file", f.read(), f.mimetype or "application/octet-stream")
             for key in ("attachments[]", "attachments") for f in request.files.getlist(key)
             ] if not request.is_json else []  # fmt: skip
    with authorized(aid, bot_ok=True) as (state, actor):
        message, outbounds = state.create_message(aid, cid, params(), files, actor)
        response = jsonify(state.message_rest(message))
    enqueue(outbounds)
    return response


@blueprint.route(MESSAGES + "/<int:mid>", methods=["PATCH", "PUT"])
def message_update(aid: int, cid: int, mid: int) -> Response:
    with authorized(aid) as (state, _):
        p = params()
        message = state.find_message(aid, cid, mid)
        outbounds = state.update_message_status(message, p.get("status"), p.get("external_error"))
        response = jsonify(state.message_rest(message))
    enqueue(outbounds)
    return response
