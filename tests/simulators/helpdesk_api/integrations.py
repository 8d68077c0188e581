"""Integrations: the account's dashboard apps (the console's link inside Chatwoot)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from tests.simulators.helpdesk_api.common import ACCOUNT, authorized, params

blueprint = Blueprint("integrations", __name__)


@blueprint.route(ACCOUNT + "/dashboard_apps", methods=["GET", "POST"])
def dashboard_apps(aid: int) -> Response:
    with authorized(aid) as (state, _):
        if request.method == "POST":
            return jsonify(state.dashboard_app_json(state.save_dashboard_app(aid, params())))
        apps = [a for a in state.dashboard_apps.values() if a["account_id"] == aid]
        return jsonify([state.dashboard_app_json(a) for a in apps])


@blueprint.route(ACCOUNT + "/dashboard_apps/<int:app_id>", methods=["GET", "PATCH", "PUT", "DELETE"])
def dashboard_app(aid: int, app_id: int) -> Response:
    with authorized(aid) as (state, _):
        found = state.dashboard_app(aid, app_id)
        if request.method == "DELETE":
            del state.dashboard_apps[app_id]
            return Response(status=200)
        if request.method in ("PATCH", "PUT"):
            found = state.save_dashboard_app(aid, params(), found)
        return jsonify(state.dashboard_app_json(found))
