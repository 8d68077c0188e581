"""Start-up: what the entry points build is kept out of the garbage collector's full collections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorns_entry_point_freezes_what_it_built_so_a_full_collection_skips_it() -> None:
    probe = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {"LOG_LEVEL": "ERROR"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    frozen, still_tracked = map(int, done.stdout.split())
    assert frozen > 20_000  # modules, the app and its services
    assert still_tracked < frozen / 10
