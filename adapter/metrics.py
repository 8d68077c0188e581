"""Metrics kept in Redis, so any web process's /metrics shows the whole deployment (every web and worker
process), rendered in Prometheus format by prometheus-client.

Counters are hash fields (`wa:metrics:<name>` -> "label=value,…" -> count). Every process buffers its
counts and latencies in memory for at most a second and writes them in one pipeline (store/deferred.py).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from redis.client import Pipeline

from adapter.store import keys
from adapter.store.connection import Store
from adapter.store.deferred import DeferredWrites
from adapter.store.replies import text_hash

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

COUNTERS = {
    "webhooks_received": "Webhook requests answered, by source and result",
    "webhook_items": "Messages, statuses and events in accepted Meta webhooks, by result",
    "jobs": "Jobs finished by the workers, by kind and outcome",
    "api_errors": "Graph and helpdesk calls that failed, by service and code",
    "window_decisions": "Agent replies judged by the 24-hour window, by decision",
}
HISTOGRAMS = {"api_latency_seconds": "Graph and helpdesk call latency, by service"}


def label_string(labels: dict[str, str]) -> str:
    return ",".join(f"{name}={value}" for name, value in sorted(labels.items()))


def parse_labels(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(",") if "=" in pair)


class Metrics:
    def __init__(self, deferred: DeferredWrites) -> None:
        self.deferred = deferred
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = defaultdict(int)
        self._observations: dict[tuple[str, str], list[float]] = defaultdict(list)
        deferred.drain_each_flush(self._drain)

    def count(self, name: str, by: int = 1, **labels: str) -> None:
        if not by:
            return
        with self._lock:
            self._counts[(name, label_string(labels))] += by
        self.deferred.ensure_flusher()

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        with self._lock:
            self._observations[(name, label_string(labels))].append(seconds)
        self.deferred.ensure_flusher()

    def _drain(self, pipe: Pipeline) -> None:
        with self._lock:
            counts, self._counts = self._counts, defaultdict(int)
            observations, self._observations = self._observations, defaultdict(list)
        for (name, labels), value in counts.items():
            pipe.hincrby(keys.metric(name), labels, value)
        for (name, labels), values in observations.items():
            key = keys.metric(name)
            for bound in BUCKETS:
                pipe.hincrby(key, f"{labels}|le={bound}", sum(1 for v in values if v <= bound))
            pipe.hincrby(key, f"{labels}|count", len(values))
            pipe.hincrbyfloat(key, f"{labels}|sum", sum(values))


class RedisCollector(Collector):
    """Everything /metrics shows, read from Redis at scrape time."""

    def __init__(self, store: Store, backlog: Any) -> None:
        self.store = store
        self.backlog = backlog  # a callable returning JobQueue.backlog()

    def collect(self) -> Iterator[Any]:
        for name, help_text in COUNTERS.items():
            data = text_hash(self.store.hgetall(keys.metric(name)))
            names = sorted({label for field in data for label in parse_labels(field)})
            family = CounterMetricFamily(f"whatsapp_adapter_{name}", help_text, labels=names)
            for field, value in data.items():
                labels = parse_labels(field)
                family.add_metric([labels.get(n, "") for n in names], float(value))
            yield family
        for name, help_text in HISTOGRAMS.items():
            yield self._histogram(name, help_text)
        state = self.backlog()
        for field, help_text in (
            ("waiting", "Jobs waiting in the queue"),
            ("oldest_age_seconds", "Age of the oldest waiting job"),
            ("retrying_chats", "Chats holding a job that will be retried"),
            ("dead_letters", "Jobs in the dead-letter list"),
        ):
            yield GaugeMetricFamily(f"whatsapp_adapter_queue_{field}", help_text, value=float(state[field]))
        per_number = GaugeMetricFamily(
            "whatsapp_adapter_retrying_chats_by_number", "Chats waiting for a retry, by number", labels=["number"]
        )
        for number, chats in state.get("retrying_by_number", {}).items():
            per_number.add_metric([number], float(chats))
        yield per_number
        held = GaugeMetricFamily(
            "whatsapp_adapter_held_jobs_by_number", "Jobs waiting behind a retry, by number", labels=["number"]
        )
        held_age = GaugeMetricFamily(
            "whatsapp_adapter_held_oldest_age_seconds_by_number",
            "Age of the oldest job waiting behind a retry, by number", labels=["number"],
        )
        for number, entry in state.get("held_by_number", {}).items():
            held.add_metric([number], float(entry["jobs"]))
            held_age.add_metric([number], float(entry["oldest_age_seconds"]))
        yield held
        yield held_age

    def _histogram(self, name: str, help_text: str) -> HistogramMetricFamily:
        data = text_hash(self.store.hgetall(keys.metric(name)))
        series: dict[str, dict[str, float]] = defaultdict(dict)
        for field, value in data.items():
            labels, _, part = field.partition("|")
            series[labels][part] = float(value)
        names = sorted({label for labels in series for label in parse_labels(labels)})
        family = HistogramMetricFamily(f"whatsapp_adapter_{name}", help_text, labels=names)
        for labels, parts in series.items():
            parsed = parse_labels(labels)
            buckets = [(str(bound), parts.get(f"le={bound}", 0.0)) for bound in BUCKETS]
            buckets.append(("+Inf", parts.get("count", 0.0)))
            family.add_metric([parsed.get(n, "") for n in names], buckets, parts.get("sum", 0.0))
        return family
