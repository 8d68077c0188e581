"""A worker's CPU per inbound job: one consumer in this process drains a queue the web filled beforehand.

The end-to-end bench shares the machine's two cores among the adapter, both simulators and the load
generator, and is capped by the helpdesk simulator; this one reads the worker's own cost. The web and the
simulators run as separate processes; their CPU is not counted. Each round posts `--jobs` text messages of
known customers (webhooks of 10), waits until they are all queued and the queue is still, then times
`Consumer.run_once` until they are handled: CPU (time.process_time of this process) and wall time per job.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import statistics
import sys
import time

from adapter.logs import configure_logging
from adapter.services import build_services
from adapter.settings import load_settings
from adapter.worker import CHANNEL_CACHE_SECONDS, build_consumers
from bench import loadgen, payloads, report, stack
from bench.procs import Procs, logdir

DB = 13


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=int, default=3000, help="inbound jobs per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (the median is the figure)")
    parser.add_argument("--customers", type=int, default=200, help="distinct customers (known before round 1)")


def _post(st: stack.Stack, first: int, messages: int, customers: int, per_request: int) -> None:
    make = payloads.text_webhooks(first, customers, per_request)
    sent = loadgen.post(st.meta_webhook, make, concurrency=8, count=messages // per_request)
    refused = sum(1 for s in sent if s.status != 200)
    if refused:
        raise RuntimeError(f"{refused} webhooks were not answered 200")


def _queued(st: stack.Stack, expected: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while st.backlog() < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {st.backlog()} of {expected} jobs queued after {timeout:g}s")
        time.sleep(0.1)


def run(args: argparse.Namespace) -> str:
    progress = sys.stderr
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()  # the web's and this consumer's: channels are sealed
    rows: list[list[report.Cell]] = []
    per_job: list[float] = []
    with contextlib.ExitStack() as cleanup, logdir("jobs") as tmp, Procs(tmp) as procs:
        cleanup.callback(stack.flush, DB)  # runs last, once every process is stopped
        st = stack.start(procs, db=DB, workers=0, env={"ENCRYPTION_KEY": key})
        settings = load_settings({
            "REDIS_URL": f"redis://127.0.0.1:6379/{DB}", "META_APP_SECRET": payloads.APP_SECRET,
            "ENCRYPTION_KEY": key, "GRAPH_API_BASE_URL": st.graph, "HELPDESK_BASE_URL": st.helpdesk,
            "ADMIN_TOKEN": stack.ADMIN_TOKEN, "LOG_LEVEL": "WARNING",
        })  # fmt: skip
        configure_logging(settings.log_level, settings.log_format)
        services = build_services(settings)
        services.channels.cache_seconds = CHANNEL_CACHE_SECONDS  # as the worker process runs
        consumer = build_consumers(services, 1)[0]

        def drain(jobs: int) -> None:
            handled = 0
            while handled < jobs:
                handled += consumer.run_once()

        print(f"jobs: first messages of {args.customers} customers (not timed)", file=progress, flush=True)
        _post(st, 0, args.customers, args.customers, 1)
        drain(args.customers)
        for n in range(args.rounds):
            print(f"jobs: round {n + 1} of {args.rounds}, {args.jobs} jobs", file=progress, flush=True)
            _post(st, 10**6 * (n + 1), args.jobs, args.customers, 10)
            _queued(st, args.jobs)
            st.wait_for_webhooks()  # the helpdesk's echoes of the last round are answered first
            cpu, wall = time.process_time(), time.perf_counter()
            drain(args.jobs)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            per_job.append(cpu / args.jobs * 1e6)
            rows.append([n + 1, args.jobs, per_job[-1], wall / args.jobs * 1e6])
        consumer.release_all()
    notes = [
        "one consumer (a worker thread) in this process, against Redis, the helpdesk simulator and the web on loopback",
        "CPU: this process only; the web (answering the helpdesk's echoes) and the simulators are not counted",
        f"median CPU per job: {statistics.median(per_job):,.0f} µs",
    ]
    return report.machine() + "\n" + report.table(
        f"A worker's CPU per inbound text job (known customer, {args.customers} customers)",
        ["round", "jobs", "CPU µs/job", "wall µs/job"], rows, notes,
    )
