"""One framework-neutral handler per webhook: verify, validate, deduplicate, enqueue and answer.

Each takes the services, the raw body and the request headers and returns an `Answer`; the Flask views
in adapter/web call it once. Workers do everything else.
"""
