"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from adapter import create_app
from adapter.runtime import settle_heap

app = create_app()
settle_heap()
