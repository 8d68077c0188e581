"""Troubleshooting: the latest payloads from Meta and the helpdesk per number, with the verification result and
what became of each; the dead letters with Replay."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from adapter.console import troubleshooting
from adapter.web.console.support import blueprint, done, page, svc


@blueprint.get("/troubleshooting")
def troubleshooting_page() -> tuple[str, int]:
    services = svc()
    channels = services.channels.all()
    number = request.args.get("number") or None
    meta = troubleshooting.traced(services, "meta", number)
    waba = next((c.waba_id for c in channels if c.phone_number_id == number), None) if number else None
    if waba:  # account events name the WABA, not the number
        events = troubleshooting.traced(services, "meta", f"waba:{waba}")
        merged = {t.record.id: t for t in meta + events}
        meta = sorted(merged.values(), key=lambda t: -t.record.at)[:30]
    return page(
        "troubleshooting.html",
        channels=channels,
        number=number,
        meta=meta,
        helpdesk=troubleshooting.traced(services, "helpdesk", number),
        dead=troubleshooting.dead_letters_of(services, number),
        unrouted=services.events.unrouted(20),
        queue=services.queue.backlog(),
    )


@blueprint.post("/troubleshooting/replay")
def replay() -> Response:
    job_id = request.form.get("job_id") or None
    count = svc().queue.replay_dead_letters(job_id)
    message = f"Replayed {count} job{'s' if count != 1 else ''}: they are back in the queue."
    return done(message, "console.troubleshooting_page", number=request.form.get("number") or None)
