"""Process start-up shared by the entry points (gunicorn's `wsgi:app`, the worker, `make run`)."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Take what start-up built (modules, the app, its services: tens of thousands of objects that live as
    long as the process) out of the garbage collector's sight.

    A full collection otherwise walks all of them while no thread of the process runs, and whichever webhooks
    are in flight wait for it. After a fork each gunicorn worker calls this once its own app is built; nothing
    built later is affected.
    """
    gc.collect()
    gc.freeze()
