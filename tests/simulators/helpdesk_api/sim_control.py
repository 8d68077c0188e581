"""``/_sim/``: controls for a person playing the agent (never logged, never faulted)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from tests.simulators.helpdesk_api.common import helpdesk, simulator
from tests.simulators.helpdesk_state import ApiError

blueprint = Blueprint("sim_control", __name__)


@blueprint.post("/_sim/agent_reply")
def sim_agent_reply() -> Response:
    body = request.get_json(silent=True) or {}
    try:
        message, status = simulator().agent_reply(
            int(body.get("account_id", 1)),
            int(body["conversation_id"]),
            body.get("content"),
            private=bool(body.get("private", False)),
            sender=str(body.get("sender", "user")),
        )
    except (KeyError, ValueError, ApiError) as exc:
        failure = jsonify({"error": str(exc)})
        failure.status_code = 422
        return failure
    return jsonify({"message": message, "webhook_status": status})


@blueprint.post("/_sim/set_status")
def sim_set_status() -> Response:
    body = request.get_json(silent=True) or {}
    account_id, display_id = int(body.get("account_id", 1)), int(body["conversation_id"])
    status = simulator().set_status(account_id, display_id, str(body["status"]))
    return jsonify({"webhook_status": status})


@blueprint.get("/_sim/conversations")
def sim_conversations() -> Response:
    state = helpdesk()
    with state.lock:
        return jsonify(
            [
                {
                    **state.conversation_rest(c),
                    "all_messages": [state.message_rest(m) for m in state.conversation_messages(c)],
                }
                for c in state.conversations.values()
            ]
        )
