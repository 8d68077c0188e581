"""``GET /api/v1/profile``: the user (or bot) behind the access token, with its accounts."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from tests.simulators.helpdesk_api.common import authorized

blueprint = Blueprint("profile", __name__)


@blueprint.get("/api/v1/profile")
def profile() -> Response:
    with authorized(None) as (state, actor):
        return jsonify(state.user_json(state.users[actor.id]))
