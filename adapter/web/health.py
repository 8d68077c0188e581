"""/healthz (the process is up) and /readyz (Redis answers and the queue is being worked)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from redis import RedisError

from adapter.metrics import RedisCollector
from adapter.store import keys
from adapter.web.common import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@blueprint.get("/metrics")
def metrics() -> Response:
    svc = services()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(svc.store, svc.queue.backlog))
    try:
        body = generate_latest(registry)
    except RedisError:
        return Response("# redis unreachable\n", status=503, mimetype=CONTENT_TYPE_LATEST)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    svc = services()
    try:
        svc.store.ping()
        workers = int(svc.store.zcount(keys.WORKERS, svc.clock.now() - 30, "+inf"))
        backlog = svc.queue.backlog()
    except RedisError:
        return jsonify({"status": "unavailable", "redis": "unreachable"}), 503
    too_old = backlog["oldest_age_seconds"] > svc.settings.ready_max_backlog_age_seconds
    ready = workers > 0 and not too_old
    status = "ready" if ready else ("no workers" if workers == 0 else "backlog too old")
    body = {"status": status, "redis": "ok", "workers": workers, "queue": backlog}
    return jsonify(body), 200 if ready else 503
