"""gunicorn settings for the web process (Procfile `web:`). Overrides: PORT, WEB_CONCURRENCY, WEB_THREADS."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None
errorlog = "-"


def worker_exit(server: object, worker: object) -> None:
    """Write the counts and troubleshooting records this worker still holds (adapter/store/deferred.py)."""
    app = getattr(worker, "wsgi", None)
    services = getattr(app, "extensions", {}).get("adapter")
    if services is not None:
        services.deferred.close()
