"""Periodic work, run by every worker process (APScheduler) and safe to run in many at once: it only
*enqueues*, each item claimed once in Redis (window warnings by ZREM, syncs by a dedupe key per period)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from adapter.services import Services
from adapter.store import keys
from adapter.work import kinds

logger = logging.getLogger(__name__)

WARNING_CHECK_SECONDS = 30


def enqueue_window_warnings(services: Services) -> int:
    lead = services.settings.window_warning_lead_seconds
    if lead <= 0:
        return 0
    due = services.window.due_warnings(lead)
    for phone_number_id, customer, closes_at in due:
        services.queue.enqueue(kinds.window_warning(phone_number_id, customer, closes_at))
    return len(due)


def enqueue_template_syncs(services: Services) -> int:
    interval = services.settings.template_sync_interval_seconds
    period = int(services.clock.now() // interval) if interval else 0
    wabas = {channel.waba_id for channel in services.channels.all()}
    items = [(keys.dedupe_id("templates.sync", f"{waba}:{period}"), kinds.templates_sync(waba)) for waba in wabas]
    return services.queue.enqueue_once(items)


def start_scheduler(services: Services) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(enqueue_window_warnings, "interval", seconds=WARNING_CHECK_SECONDS, args=[services])
    interval = services.settings.template_sync_interval_seconds
    if interval:
        scheduler.add_job(enqueue_template_syncs, "interval", seconds=interval, args=[services])
    scheduler.start()
    logger.info("scheduler: window warnings every %ss, template sync every %ss", WARNING_CHECK_SECONDS, interval)
    return scheduler
