"""Contacts, their contact_inboxes (source ids per inbox) and their conversations."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from tests.simulators.helpdesk_api.common import ACCOUNT, authorized, params
from tests.simulators.helpdesk_state import SEARCH_PAGE_SIZE, ApiError, to_int

blueprint = Blueprint("contacts", __name__)
CONTACT = ACCOUNT + "/contacts/<int:contact_id>"


@blueprint.post(ACCOUNT + "/contact_inboxes/filter")
def contact_inbox_filter(aid: int) -> Response:
    with authorized(aid) as (state, _):
        p = params()
        contact = state.filter_contact_inbox(aid, p.get("inbox_id"), p.get("source_id"))
        if contact is None:
            return Response(status=404)  # head :not_found
        return jsonify(state.contact_json(contact))


@blueprint.post(ACCOUNT + "/contacts")
def contact_create(aid: int) -> Response:
    with authorized(aid) as (state, _):
        contact, ci = state.create_contact(aid, params())
        link = {
            "inbox": state.inbox_row(state.inboxes[ci["inbox_id"]]) if ci else None,
            "source_id": ci["source_id"] if ci else None,
        }
        return jsonify({"payload": {"contact": state.contact_json(contact), "contact_inbox": link}})


@blueprint.get(ACCOUNT + "/contacts/search")
def contact_search(aid: int) -> Response:
    with authorized(aid) as (state, _):
        query = request.args.get("q", "")
        if not query.strip():
            raise ApiError(422, {"error": "Specify search string with parameter q"})
        page = max(to_int(request.args.get("page")) or 1, 1)
        with_inboxes = request.args.get("include_contact_inboxes", "true") != "false"
        found = state.search_contacts(aid, query)
        chunk = found[(page - 1) * SEARCH_PAGE_SIZE : page * SEARCH_PAGE_SIZE]
        return jsonify(
            {
                "meta": {"count": len(found), "current_page": page, "has_more": page * SEARCH_PAGE_SIZE < len(found)},
                "payload": [state.contact_json(c, with_contact_inboxes=with_inboxes) for c in chunk],
            }
        )


@blueprint.get(CONTACT)
def contact_show(aid: int, contact_id: int) -> Response:
    with authorized(aid) as (state, _):
        return jsonify({"payload": state.contact_json(state.contact(aid, contact_id))})


@blueprint.route(CONTACT, methods=["PATCH", "PUT"])
def contact_update(aid: int, contact_id: int) -> Response:
    with authorized(aid) as (state, _):
        contact = state.update_contact(aid, contact_id, params())
        return jsonify({"payload": state.contact_json(contact)})


@blueprint.post(CONTACT + "/contact_inboxes")
def contact_inbox_create(aid: int, contact_id: int) -> Response:
    with authorized(aid) as (state, _):
        p = params()
        contact = state.contact(aid, contact_id)
        inbox = state.inbox(aid, p.get("inbox_id"))
        ci = state.build_contact_inbox(contact, inbox, p.get("source_id"))
        return jsonify(state.contact_inbox_json(ci))


@blueprint.get(CONTACT + "/conversations")
def contact_conversations(aid: int, contact_id: int) -> Response:
    with authorized(aid) as (state, _):
        convs = state.contact_conversations(aid, contact_id)
        return jsonify({"payload": [state.conversation_rest(c) for c in convs]})
