"""/healthz (the process is up) and /readyz (Redis answers and the queue is being worked)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from redis import RedisError

from adapter.store import keys
from adapter.web.common import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    svc = services()
    try:
        svc.store.ping()
        workers = int(svc.store.zcount(keys.WORKERS, svc.clock.now() - 30, "+inf"))
        backlog = svc.queue.backlog()
    except RedisError:
        return jsonify({"status": "unavailable", "redis": "unreachable"}), 503
    ready = workers > 0
    body = {"status": "ready" if ready else "no workers", "redis": "ok", "workers": workers, "queue": backlog}
    return jsonify(body), 200 if ready else 503
