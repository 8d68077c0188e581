"""End to end: signed Meta webhook -> adapter web -> queue -> worker -> helpdesk simulator, and back.

Latency is wall clock from the moment a webhook POST is sent (open loop: was due) to the `created_at`
the helpdesk simulator gives the message; outbound, from the agent reply request to the Graph
simulator's record of the send. All processes share this machine's cores with the load generator.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapter.settings import read_defaults
from bench import loadgen, payloads, report, stack
from bench.procs import Procs, cpu_seconds, logdir, machine_busy_seconds

DB = 13
REF = re.compile(r"R(\d{7})X")
ADAPTER_PROCESSES = ("web", "workers", "redis")  # what a deployment runs; the simulators stand in for Meta and Chatwoot
INBOUND_TARGET = ">= 1,000 msg/s"  # the max-rate inbound phases: the adapter's own CPU is given for each


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per phase")
    parser.add_argument("--customers", type=int, default=1000, help="distinct WhatsApp customers")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight, sustained phase")
    parser.add_argument("--rate", type=float, default=100.0, help="messages/s of the fixed-rate phase")
    parser.add_argument("--batch", type=int, default=10, help="messages per webhook in the batched phase (0: skip)")
    parser.add_argument("--reply-concurrency", type=int, default=8, help="agent replies in flight")
    parser.add_argument("--reply-rate", type=float, default=50.0, help="agent replies/s of the fixed-rate phase")
    parser.add_argument("--outbound-per-second", type=int, default=0, help="adapter's OUTBOUND_PER_SECOND (0: default)")
    parser.add_argument("--drain", type=float, default=60.0, help="max seconds to wait for delivery after a phase")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (python -m adapter.worker)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-threads", type=int, default=0, help="adapter's WORKER_THREADS (0: default)")


@dataclass(frozen=True)
class Phase:
    name: str
    posted: int
    accepted: int
    post_seconds: float
    latencies: list[float]  # seconds, sorted
    span: float  # first send -> last delivery, seconds
    target: str = ""
    echoes_behind: int | None = None  # inbound: helpdesk webhooks still to deliver when the last message landed

    def row(self) -> list[report.Cell]:
        ms = [report.percentile(self.latencies, p) for p in (50, 95, 99)]
        return [
            self.name, self.posted, self.accepted / self.post_seconds if self.post_seconds else None,
            len(self.latencies), len(self.latencies) / self.span if self.span else None,
            *[None if v is None else v * 1000 for v in ms], self.accepted - len(self.latencies), self.target,
        ]  # fmt: skip


def _wait(count: Callable[[], int], expected: int, drain: float, st: stack.Stack) -> None:
    """Until `count()` reaches `expected`, or nothing has moved for 15 s with an empty queue, or `drain` passes."""
    deadline, last, still_since = time.monotonic() + drain, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = count()
        if now >= expected:
            return
        if now != last:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since > 15 and st.backlog() == 0:
            return
        time.sleep(0.25)


def _post_seconds(sent: list[loadgen.Sent]) -> float:
    ok = [s for s in sent if s.status == 200]
    return (max(s.answered for s in ok) - min(s.at for s in ok)) if ok else 0.0


def inbound(
    name: str, st: stack.Stack, post: Callable[[], list[loadgen.Sent]], drain: float, target: str = ""
) -> Phase:
    """Run `post`, wait for the accepted messages to show up in the helpdesk, and time each one. The phase
    ends once the helpdesk's echoes of them have reached the adapter too, so its CPU counts the web's work on
    them: Chatwoot sends them as it goes, from Sidekiq jobs side by side; the simulator from a few threads."""
    before = st.helpdesk_info()
    sent = post()
    accepted = {wamid: s.at for s in sent if s.status == 200 for wamid in s.key.split(",")}
    _wait(lambda: int(st.helpdesk_info()["messages"]) - before["messages"], len(accepted), drain, st)
    echoes_behind = st.webhooks_pending()
    st.wait_for_webhooks(drain)
    rows = st.helpdesk_messages(before["last_message_id"])
    created = {r[2]: r[3] for r in rows if r[1] == "incoming" and r[2] in accepted}
    latencies = sorted(created[k] - accepted[k] for k in created)
    span = (max(created.values()) - min(accepted.values())) if created else 0.0
    posted = sum(len(s.key.split(",")) for s in sent)
    return Phase(name, posted, len(accepted), _post_seconds(sent), latencies, span, target, echoes_behind)


def outbound(
    name: str, st: stack.Stack, args: argparse.Namespace, rate: float | None, shaped: float, target: str = ""
) -> Phase:
    """Agent replies through the helpdesk simulator (closed loop, or open loop at `rate`), timed to the Graph send.

    Closed loop, no more replies are posted than three times what the shaping lets out in the phase: the
    helpdesk takes them far faster than `shaped` per second, and the rest would only wait past the drain."""
    conversations = st.conversations()
    graph_before = len(st.graph_sends())

    def make(index: int) -> tuple[str, bytes, dict[str, str]]:
        ref = f"R{index:07d}X"
        content = f"Thanks for your patience, we are looking into it (ref {ref})"
        body = f'{{"conversation_id": {conversations[index % len(conversations)]}, "content": "{content}"}}'
        return ref, body.encode(), {"Content-Type": "application/json"}

    most = 2**62 if rate is not None or not shaped else int(3 * shaped * args.duration)
    sent = loadgen.post(f"{st.helpdesk}/_sim/agent_reply", make, concurrency=args.reply_concurrency,
                        seconds=args.duration, rate=rate, count=most)  # fmt: skip
    accepted = {s.key: s.at for s in sent if s.status == 200}
    _wait(lambda: len(st.graph_sends(graph_before)), len(accepted), args.drain, st)
    seen: dict[str, float] = {}
    for at, text in st.graph_sends(graph_before):
        match = REF.search(text)
        if match and match[0] in accepted:
            seen.setdefault(match[0], at)
    latencies = sorted(seen[k] - accepted[k] for k in seen)
    span = (max(seen.values()) - min(accepted.values())) if seen else 0.0
    return Phase(name, len(sent), len(accepted), _post_seconds(sent), latencies, span, target)


def helpdesk_alone(st: stack.Stack, args: argparse.Namespace) -> Phase:
    """The helpdesk simulator's own ceiling: messages created through its API as fast as it answers, its
    message_created webhooks going to the adapter as in (a). No inbound figure can pass it on this machine."""
    conversations = st.conversations()
    headers = {"Content-Type": "application/json", "api_access_token": stack.HELPDESK_TOKEN}

    def make(index: int) -> tuple[str, bytes, dict[str, str]]:
        source_id = f"wamid.helpdesk-alone-{index}"
        body = {"content": "Hello, is my order on its way?", "message_type": "incoming", "source_id": source_id}
        return source_id, json.dumps(body).encode(), headers

    def path_of(index: int) -> str:
        return f"/api/v1/accounts/1/conversations/{conversations[index % len(conversations)]}/messages"

    sent = loadgen.post(st.helpdesk, make, concurrency=args.concurrency, seconds=args.duration, path_of=path_of)
    latencies = sorted(s.answered - s.at for s in sent if s.status == 200)
    seconds = _post_seconds(sent)
    return Phase("(s) helpdesk simulator alone: create message", len(sent), len(latencies), seconds, latencies,
                 seconds, "ceiling of (a), (a2)")  # fmt: skip


def _cpu(st: stack.Stack, redis_pid: int) -> dict[str, float]:
    """Cumulative CPU seconds of each part of the run, and of everything else on the machine."""
    ours = {
        "web": cpu_seconds(st.web.pid, with_children=True),
        "workers": sum(cpu_seconds(w.pid) for w in st.workers),
        "helpdesk sim": cpu_seconds(st.sims["helpdesk"].pid),
        "graph sim": cpu_seconds(st.sims["graph"].pid),
        "redis": cpu_seconds(redis_pid) if redis_pid else 0.0,
        "bench": cpu_seconds(os.getpid()),
    }
    return {**ours, "others": machine_busy_seconds() - sum(ours.values())}


def run(args: argparse.Namespace) -> str:
    progress = sys.stderr
    phases: list[Phase] = []
    cpu_rows: list[list[report.Cell]] = []
    adapter_cpu: dict[str, float] = {}  # phase -> CPU ms per delivered message of the adapter's own processes
    defaults = read_defaults()
    shaped = float(args.outbound_per_second or defaults.get("OUTBOUND_PER_SECOND") or 0)
    threads, partitions = int(args.worker_threads or defaults["WORKER_THREADS"]), defaults["QUEUE_PARTITIONS"]
    extra = {"OUTBOUND_PER_SECOND": str(args.outbound_per_second)} if args.outbound_per_second else {}
    extra["WORKER_THREADS"] = str(threads)
    with contextlib.ExitStack() as cleanup, logdir("e2e") as tmp, Procs(tmp) as procs:
        cleanup.callback(stack.flush, DB)  # runs last, once every process is stopped
        st = stack.start(procs, db=DB, workers=args.workers, web_workers=args.web_workers, env=extra)
        redis_pid = int(st.store().info("server").get("process_id", 0))
        url, customers, concurrency, drain = st.meta_webhook, args.customers, args.concurrency, args.drain

        def post(offset: int, per_request: int = 1, **how: Any) -> Callable[[], list[loadgen.Sent]]:
            make = payloads.text_webhooks(offset, customers, per_request)
            return lambda: loadgen.post(url, make, concurrency=concurrency, **how)

        plan: list[tuple[str, Callable[[], Phase]]] = [
            (f"first message of {customers} customers (creates contacts and conversations)", lambda: inbound(
                "first contact: new customer -> helpdesk", st, post(0, count=customers), drain * 2)),
            (f"(a) sustained inbound for {args.duration:g}s, {concurrency} in flight", lambda: inbound(
                "(a) inbound, max rate", st, post(customers, seconds=args.duration), drain, INBOUND_TARGET)),
            *([(f"(a2) sustained inbound, {args.batch} messages per webhook, for {args.duration:g}s", lambda: inbound(
                f"(a2) inbound, max rate, {args.batch} per webhook", st,
                # As many messages as 1,000/s would deliver in the phase, so the drain measures the workers.
                post(2 * 10**7, args.batch, seconds=args.duration, count=int(1000 * args.duration) // args.batch),
                drain, INBOUND_TARGET))] if args.batch else []),
            (f"(b) inbound at {args.rate:g} msg/s for {args.duration:g}s", lambda: inbound(
                f"(b) inbound at {args.rate:g} msg/s", st, post(10**7, rate=args.rate, seconds=args.duration),
                drain, "p50 <= 50 ms")),
            (f"(s) the helpdesk simulator alone for {args.duration:g}s, {concurrency} in flight",
             lambda: helpdesk_alone(st, args)),
            (f"(c) agent replies for {args.duration:g}s, {args.reply_concurrency} in flight", lambda: outbound(
                "(c) outbound: reply -> Graph, max rate", st, args, None, shaped, f"shaped to {shaped:g}/s")),
            (f"(d) agent replies at {args.reply_rate:g}/s for {args.duration:g}s", lambda: outbound(
                f"(d) outbound at {args.reply_rate:g} msg/s", st, args, args.reply_rate, shaped)),
        ]  # fmt: skip
        for label, measure in plan:
            st.settle()
            print(f"e2e: {label}", file=progress, flush=True)
            before, t0 = _cpu(st, redis_pid), time.monotonic()
            phase = measure()
            after, wall = _cpu(st, redis_pid), time.monotonic() - t0
            used = {k: after[k] - before[k] for k in after}
            ours = sum(v for k, v in used.items() if k != "others")
            per_message = ours / len(phase.latencies) * 1000 if phase.latencies else None
            cpu_rows.append([phase.name, wall, *[used[k] / wall * 100 for k in used], per_message])
            if phase.latencies and phase.target == INBOUND_TARGET:
                adapter_cpu[phase.name] = sum(used[k] for k in ADAPTER_PROCESSES) / len(phase.latencies) * 1000
            phases.append(phase)
        queue = st.queue()
        dead, backlog, retrying = queue.backlog()["dead_letters"], st.backlog(), len(queue.scheduled_chats())
        if any(p.accepted > len(p.latencies) for p in phases):
            for name in ["web"] + [f"worker-{n}" for n in range(args.workers)]:
                print(f"--- last lines of {name}.log:\n{procs.log_tail(name)}", file=progress)
    notes = [
        f"adapter: gunicorn -w {args.web_workers} (gthread, 4 threads) + {args.workers} x python -m adapter.worker "
        f"(WORKER_THREADS={threads}, QUEUE_PARTITIONS={partitions}); Redis db {DB}; simulators are separate processes",
        f"{args.customers} customers; posted/accepted = messages sent / answered 200; post/s = accepted per second "
        "of posting; delivered/s = delivered / (first send -> last delivery); one message per webhook except (a2), "
        "where Meta's batching under load is imitated",
        "latency: send (or due time) -> message created in the helpdesk simulator, or -> send recorded by the Graph "
        "simulator; it includes queueing when posting outpaces the workers",
        f"outbound is shaped by the adapter to OUTBOUND_PER_SECOND={shaped:g} per number (Meta's default "
        "throughput), so (c) measures that limit, not the pipeline's capacity (--outbound-per-second to raise it)",
        f"missing = accepted but not delivered within the drain time ({drain:g}s); "
        f"after the run: {dead} dead letters, {backlog} jobs still queued, {retrying} chats waiting to retry",
    ]
    headers = ["phase", "posted", "post/s", "delivered", "delivered/s", "p50 ms", "p95 ms", "p99 ms", "missing"]
    cores = len(os.sched_getaffinity(0))
    out = report.machine() + "\n"
    out += report.table(
        "End to end: WhatsApp -> adapter -> helpdesk, and agent reply -> Graph",
        [*headers, "target"],
        [p.row() for p in phases],
        notes,
    )
    out += "\n" + report.table(
        "End to end: CPU per phase (% of one core over the phase incl. drain; this machine has "
        f"{cores} cores)",
        ["phase", "seconds", "web", "workers", "helpdesk sim", "graph sim", "redis", "bench", "others", "ours ms/msg"],
        cpu_rows,
        ["others = every other process on the machine (e.g. tests run by other engineers): noise",
         "inbound phases last until the helpdesk's message_created echoes have reached the adapter, so the web's "
         "work on them is counted; echoes still to deliver when the last message landed: " + ", ".join(
             f"{p.name.split(' ')[0]} {p.echoes_behind:,}" for p in phases if p.echoes_behind is not None),
         "ours ms/msg = CPU of all processes of the run (web, workers, simulators, Redis, load gen) per delivery",
         *[f"the adapter alone (web + workers + Redis) in {name}: {ms:.2f} ms of CPU per message, so {cores} cores "
           f"give it {cores * 1000 / ms:,.0f} msg/s once the helpdesk runs elsewhere (derived, not measured)"
           for name, ms in adapter_cpu.items()]],
    )  # fmt: skip
    return out
