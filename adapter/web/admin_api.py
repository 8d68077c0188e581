"""/admin/api: channels, dead letters, unrouted payloads, recent events, queue. Bearer ADMIN_TOKEN."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request

from adapter import admin_actions
from adapter.errors import BadRequest, Forbidden, TooManyRequests, Unauthorized
from adapter.store import keys
from adapter.web.common import json_body, services

blueprint = Blueprint("admin_api", __name__, url_prefix="/admin/api")

RECENT_SOURCES = ("meta", "meta_events", "meta_errors")
MAX_FAILED_LOGINS = 10  # per client address and window: guessing the token is slowed to a crawl
FAILED_LOGIN_WINDOW_SECONDS = 300


@blueprint.before_request
def require_admin_token() -> None:
    expected = services().settings.admin_token
    if not expected:
        raise Forbidden("the admin API is disabled: set ADMIN_TOKEN")
    store, client = services().store, keys.auth_failures(request.remote_addr or "unknown")
    if int(store.get(client) or 0) >= MAX_FAILED_LOGINS:
        raise TooManyRequests(f"too many failed attempts; try again in {int(store.ttl(client))} s")
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), expected.encode()):
        pipe = store.pipeline(transaction=True)
        pipe.incr(client)
        pipe.expire(client, FAILED_LOGIN_WINDOW_SECONDS)
        pipe.execute()
        raise Unauthorized("send Authorization: Bearer <ADMIN_TOKEN>")


@blueprint.get("/channels")
def list_channels() -> Response:
    svc = services()
    return jsonify({"channels": [admin_actions.describe(svc, c) for c in svc.channels.all()]})


@blueprint.post("/channels")
def create_channel() -> tuple[Response, int]:
    svc = services()
    channel = admin_actions.add_channel(svc, json_body())
    return jsonify(admin_actions.describe(svc, channel)), 201


@blueprint.get("/channels/<phone_number_id>")
def show_channel(phone_number_id: str) -> Response:
    svc = services()
    return jsonify(admin_actions.describe(svc, admin_actions.require_channel(svc, phone_number_id)))


@blueprint.patch("/channels/<phone_number_id>")
def update_channel(phone_number_id: str) -> Response:
    svc = services()
    return jsonify(admin_actions.describe(svc, admin_actions.update_channel(svc, phone_number_id, json_body())))


@blueprint.delete("/channels/<phone_number_id>")
def delete_channel(phone_number_id: str) -> tuple[Response, int]:
    admin_actions.remove_channel(services(), phone_number_id)
    return jsonify({"deleted": phone_number_id}), 200


@blueprint.get("/channels/<phone_number_id>/templates")
def list_templates(phone_number_id: str) -> Response:
    return jsonify({"templates": admin_actions.list_templates(services(), phone_number_id)})


@blueprint.post("/channels/<phone_number_id>/templates")
def create_template(phone_number_id: str) -> tuple[Response, int]:
    return jsonify(admin_actions.create_template(services(), phone_number_id, json_body())), 201


@blueprint.post("/channels/<phone_number_id>/templates/<template_id>")
def edit_template(phone_number_id: str, template_id: str) -> Response:
    return jsonify(admin_actions.edit_template(services(), phone_number_id, template_id, json_body()))


@blueprint.delete("/channels/<phone_number_id>/templates/<name>")
def delete_template(phone_number_id: str, name: str) -> Response:
    template_id = request.args.get("id")
    return jsonify(admin_actions.delete_template(services(), phone_number_id, name, template_id))


@blueprint.post("/channels/<phone_number_id>/templates/sync")
def sync_templates(phone_number_id: str) -> tuple[Response, int]:
    admin_actions.sync_templates(services(), phone_number_id)
    return jsonify({"sync": "enqueued"}), 202


@blueprint.get("/dead-letters")
def dead_letters() -> Response:
    return jsonify({"dead_letters": services().queue.dead_letters()})


@blueprint.post("/dead-letters/replay")
def replay_dead_letters() -> Response:
    body = json_body() if request.get_data() else {}
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object: {"job_id": "…"} for one job, or {} for all')
    job_id = body.get("job_id")
    if job_id is not None and not isinstance(job_id, str):
        raise BadRequest("job_id must be a string")
    return jsonify({"replayed": services().queue.replay_dead_letters(job_id)})


@blueprint.get("/unrouted")
def unrouted() -> Response:
    return jsonify({"unrouted": services().events.unrouted()})


@blueprint.post("/unrouted/replay")
def replay_unrouted() -> Response:
    return jsonify({"replayed": admin_actions.replay_unrouted(services())})


@blueprint.get("/events/<source>")
def recent_events(source: str) -> Response:
    if source not in RECENT_SOURCES:
        raise BadRequest(f"source must be one of {', '.join(RECENT_SOURCES)}")
    return jsonify({"events": services().events.recent(source)})


@blueprint.get("/queue")
def queue_state() -> Response:
    return jsonify(services().queue.backlog())
