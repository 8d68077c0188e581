"""`make run`: the web app and a worker, together.

With REDIS_URL set: gunicorn (web) and `python -m adapter.worker` as two child processes, as the
Procfile runs them in production. With REDIS_URL unset: one process holding the embedded store,
serving HTTP and running the worker threads beside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from adapter.errors import ConfigurationError
from adapter.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def run_processes() -> int:
    commands = [
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.conf.py"), "wsgi:app"],
        [sys.executable, "-m", "adapter.worker"],
    ]
    children = [subprocess.Popen(command, cwd=ROOT) for command in commands]

    def stop_all(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    while all(child.poll() is None for child in children):
        threading.Event().wait(0.5)
    stop_all()  # one stopped: stop the other too, so a supervisor restarts both
    return max(child.wait() for child in children)


def run_embedded() -> int:
    from werkzeug.serving import run_simple

    from adapter import create_app
    from adapter.runtime import settle_heap
    from adapter.scheduler import start_scheduler
    from adapter.worker import start_worker

    app = create_app()
    settle_heap()
    stop = threading.Event()
    start_worker(app.extensions["adapter"], stop)
    start_scheduler(app.extensions["adapter"])
    settings = app.extensions["adapter"].settings
    run_simple("0.0.0.0", settings.port, app, threaded=True, use_reloader=False)
    stop.set()
    return 0


def main() -> int:
    try:
        settings = load_settings(os.environ)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    return run_processes() if settings.redis_url else run_embedded()


if __name__ == "__main__":
    sys.exit(main())
