"""The worker process: `python -m adapter.worker`. Runs WORKER_THREADS consumers until SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from adapter.errors import ConfigurationError
from adapter.logs import configure_logging
from adapter.queue.consumer import Consumer, RetryPolicy
from adapter.runtime import settle_heap
from adapter.scheduler import start_scheduler
from adapter.services import Services, build_services, refuse_plaintext_secrets
from adapter.settings import load_settings
from adapter.store import keys
from adapter.work.handlers import JobHandlers

logger = logging.getLogger(__name__)

CHANNEL_CACHE_SECONDS = 5.0  # how soon a worker sees a channel changed by another process


def build_consumers(services: Services, count: int) -> list[Consumer]:
    handlers = JobHandlers(services)
    settings = services.settings
    policy = RetryPolicy(
        max_attempts=settings.job_max_attempts,
        base_seconds=settings.retry_base_seconds,
        cap_seconds=settings.retry_max_seconds,
    )
    return [
        Consumer(
            queue=services.queue, handlers=handlers.by_kind(), policy=policy, clock=services.clock,
            on_give_up=handlers.give_up,
            lease_seconds=settings.queue_lease_seconds, metrics=services.metrics,
        )
        for _ in range(count)
    ]


def start_worker(services: Services, stop: threading.Event, threads: int | None = None) -> list[threading.Thread]:
    """Start the consumer threads (daemon) and return them; they stop when `stop` is set."""
    services.channels.cache_seconds = CHANNEL_CACHE_SECONDS
    flusher = services.deferred.start_flusher(stop)  # joined at exit: the last second of counts is written
    started = [flusher] if flusher is not None else []
    if moved := services.queue.adopt_single_schedule():
        logger.info("moved %d chats waiting to retry into their partitions' schedules", moved)
    if moved := services.queue.adopt_dead_letters(keys.LEGACY_DEAD_LETTERS):
        logger.info("moved %d dead letters into their partitions' lists", moved)
    for consumer in build_consumers(services, threads or services.settings.worker_threads):
        thread = threading.Thread(target=consumer.run, args=(stop,), name=f"consumer-{consumer.name}", daemon=True)
        thread.start()
        started.append(thread)
    return started


def main() -> int:
    try:
        settings = load_settings(os.environ)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    if not settings.redis_url:
        print(
            "A separate worker needs REDIS_URL (the embedded store lives inside one process): "
            "set REDIS_URL, or use `make run`, which runs web and worker together.",
            file=sys.stderr,
        )
        return 2
    try:
        services = build_services(settings)
        refuse_plaintext_secrets(services)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    settle_heap()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = start_worker(services, stop)
    scheduler = start_scheduler(services)
    logger.info("worker running %d consumers", len(threads))
    while not stop.is_set():
        stop.wait(1.0)
    scheduler.shutdown(wait=False)
    for thread in threads:
        thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
