"""A conversation's messages: list (20 a page), create (JSON or multipart with attachments), the status PATCH,
delete and Retry."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from tests.simulators.helpdesk_api.common import CONVERSATION, authorized, enqueue, params
from tests.simulators.helpdesk_state import HelpdeskState, JsonDict, Outbound

blueprint = Blueprint("messages", __name__)
MESSAGES = CONVERSATION + "/messages"


@blueprint.get(MESSAGES)
def message_index(aid: int, cid: int) -> Response:
    with authorized(aid) as (state, _):
        conv = state.conversation(aid, cid)
        contact = state.contact_push(state.contacts[conv["contact_id"]])
        rows = [state.message_rest(m) for m in state.message_page(conv, params())]
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


def _act_on(aid: int, cid: int, mid: int, act: Callable[[HelpdeskState, JsonDict], list[Outbound]],
            answer: Callable[[HelpdeskState, JsonDict], JsonDict]) -> Response:
    """One message of the conversation changed by ``act``, answered in ``answer``'s shape; its webhooks queued."""
    with authorized(aid) as (state, _):
        message = state.find_message(aid, cid, mid)
        outbounds = act(state, message)
        response = jsonify(answer(state, message))
    enqueue(outbounds)
    return response


@blueprint.route(MESSAGES + "/<int:mid>", methods=["PATCH", "PUT"])
def message_update(aid: int, cid: int, mid: int) -> Response:
    p = params()

    def update(state: HelpdeskState, message: JsonDict) -> list[Outbound]:
        return state.update_message_status(message, p.get("status"), p.get("external_error"))

    return _act_on(aid, cid, mid, update, HelpdeskState.message_rest)


@blueprint.delete(MESSAGES + "/<int:mid>")
def message_destroy(aid: int, cid: int, mid: int) -> Response:
    return _act_on(aid, cid, mid, HelpdeskState.delete_message, HelpdeskState.message_destroyed)


@blueprint.post(MESSAGES + "/<int:mid>/retry")
def message_retry(aid: int, cid: int, mid: int) -> Response:
    """Chatwoot 4.15.1: status sent, content_attributes wiped; for an API inbox nothing is sent but webhooks."""
    return _act_on(aid, cid, mid, HelpdeskState.retry_message, HelpdeskState.message_rest)
