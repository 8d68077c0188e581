"""Soak: many messages through ingest (workers consuming alongside), then memory growth and keys without expiry.

Memory is read cold, after a warm-up (1 % of the messages, drained) and at the end; growth is end vs
warm-up, so first-use allocations are not counted as growth. Posting and draining share one time budget.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from typing import Any

from bench import loadgen, payloads, report, stack
from bench.procs import Procs, logdir, rss_kib

DB = 13
MIB = 1024 * 1024
# The dedupe and mapping keys (one per message, reply or customer): every one of them must expire.
MUST_EXPIRE = ("wa:dedupe", "wa:wamid", "wa:hdmsg", "wa:sent", "wa:conv", "wa:window", "wa:winattr", "wa:parked")
SIZE = {"list": "llen", "zset": "zcard", "set": "scard", "hash": "hlen", "stream": "xlen"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages to push through ingest")
    parser.add_argument("--quick", action="store_true", help="50,000 messages")
    parser.add_argument("--batch", type=int, default=10, help="messages per webhook (distinct customers)")
    parser.add_argument("--customers", type=int, default=0, help="distinct customers (0: messages/50, 500..5000)")
    parser.add_argument("--concurrency", type=int, default=8, help="webhook POSTs in flight")
    parser.add_argument("--rate", type=float, default=0.0, help="messages/s, steady (0: as fast as ingest takes them)")
    parser.add_argument(
        "--max-seconds", type=float, default=600.0, help="seconds for posting + draining (after a warm-up <= 180 s)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")


def _maker(offset: int, batch: int, customers: int) -> loadgen.MakeRequest:
    def make(index: int) -> tuple[str, bytes, dict[str, str]]:
        body = payloads.serialize(payloads.text_messages(offset + index * batch, batch, customers))
        return str(index), body, payloads.headers(body)

    return make


def snapshot(st: stack.Stack) -> dict[str, float]:
    store = st.store()
    queue_bytes = sum(int(store.memory_usage(s, samples=0) or 0) for s in st.streams())
    used = int(store.info("memory")["used_memory"])
    keys = int(store.dbsize())
    values = {"web (gunicorn master + workers)": rss_kib(st.web.pid, with_children=True) / 1024}
    for n, worker in enumerate(st.workers):
        values[f"worker-{n} (python -m adapter.worker)"] = rss_kib(worker.pid) / 1024
    values["Redis used_memory (whole server)"] = used / MIB
    values["Redis used_memory minus queue streams"] = (used - queue_bytes) / MIB
    values[f"db {DB} keys (count, not MiB)"] = keys
    return values


def _group(key: str) -> str:
    parts = key.split(":")
    return ":".join(parts[:3] if len(parts) > 2 and parts[1] in ("dedupe", "console") else parts[:2])


def keys_without_expiry(st: stack.Stack) -> list[list[report.Cell]]:
    """Per prefix: keys, keys with TTL -1, and the element count of the ones without expiry."""
    totals: dict[str, list[int]] = {}
    eternal: list[str] = []
    store = st.store()
    for chunk in _chunks(store.scan_iter("wa:*", count=5000), 5000):
        pipe = store.pipeline(transaction=False)
        for key in chunk:
            pipe.ttl(key)
        for key, ttl in zip(chunk, pipe.execute(), strict=True):
            counts = totals.setdefault(_group(key), [0, 0, 0])
            counts[0] += 1
            if ttl == -1:
                counts[1] += 1
                eternal.append(key)
    for key in eternal:
        kind = store.type(key)
        if kind in SIZE:
            totals[_group(key)][2] += int(getattr(store, SIZE[kind])(key))
    rows: list[list[report.Cell]] = []
    for group, (count, no_ttl, size) in sorted(totals.items()):
        if group.startswith(MUST_EXPIRE):
            verdict = "MISSING EXPIRY" if no_ttl else "ok"
        else:
            verdict = "kept (not dedupe/mapping)" if no_ttl else "ok"
        rows.append([group, count, no_ttl, size if no_ttl else None, verdict])
    return rows


def _chunks(items: Any, size: int) -> Any:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _drain(st: stack.Stack, until: float) -> None:
    while time.monotonic() < until and st.backlog() > 0:
        time.sleep(1.0)


def run(args: argparse.Namespace) -> str:
    total = 50_000 if args.quick else args.messages
    batch = max(1, args.batch)
    customers = args.customers or min(5000, max(500, total // 50))
    progress: list[list[report.Cell]] = []
    with contextlib.ExitStack() as cleanup, logdir("soak") as tmp, Procs(tmp) as procs:
        cleanup.callback(stack.flush, DB)  # runs last, once every process is stopped
        st = stack.start(procs, db=DB, workers=args.workers, web_workers=args.web_workers)
        url = st.meta_webhook
        cold = snapshot(st)
        warm_requests = math.ceil(max(1000, total // 100) / batch)
        print(f"soak: warm-up, {warm_requests * batch:,} messages", file=sys.stderr, flush=True)
        loadgen.post(url, _maker(0, batch, customers), concurrency=args.concurrency, count=warm_requests)
        _drain(st, time.monotonic() + 180)  # first contact of every customer: the slow path, not the soak
        warm = snapshot(st)
        end_by = time.monotonic() + args.max_seconds
        pushed, started = warm_requests * batch, time.monotonic()
        chunk = max(1, math.ceil((total - pushed) / batch / 10))
        while pushed < total and time.monotonic() < end_by:
            requests = min(chunk, math.ceil((total - pushed) / batch))
            t0 = time.monotonic()
            make = _maker(pushed, batch, customers)
            if args.rate > 0:  # open loop: a steady flow the workers keep up with, for as long as it takes
                per_second = args.rate / batch
                sent = loadgen.post(url, make, concurrency=args.concurrency, rate=per_second,
                                    seconds=min(requests / per_second, end_by - t0))  # fmt: skip
            else:
                sent = loadgen.post(url, make, concurrency=args.concurrency, count=requests, seconds=end_by - t0)
            accepted = sum(batch for s in sent if s.status == 200)
            pushed += len(sent) * batch
            now = snapshot(st)
            delivered = int(st.helpdesk_info()["messages"])
            progress.append([
                pushed, accepted / (time.monotonic() - t0), delivered, st.backlog(),
                *[now[k] for k in list(now)[: 1 + len(st.workers)]], now["Redis used_memory (whole server)"],
            ])  # fmt: skip
            print(f"soak: {pushed:,} pushed, {delivered:,} in the helpdesk", file=sys.stderr, flush=True)
        push_seconds = time.monotonic() - started
        print("soak: draining the queue", file=sys.stderr, flush=True)
        _drain(st, end_by)
        end = snapshot(st)
        delivered, backlog = int(st.helpdesk_info()["messages"]), st.backlog()
        print("soak: scanning keys", file=sys.stderr, flush=True)
        key_rows = keys_without_expiry(st)
    memory_rows = [
        [name, cold[name], warm[name], end[name], (end[name] - warm[name]) / warm[name] * 100 if warm[name] else None]
        for name in end
    ]
    worker_cols = [f"w{n} MiB" for n in range(len(st.workers))]
    out = report.machine() + "\n"
    out += report.table(
        f"Soak: {pushed:,} messages pushed in {push_seconds:,.0f}s ({batch} per webhook, {customers:,} customers"
        + (f", {args.rate:g} msg/s steady)" if args.rate > 0 else ")"),
        ["pushed", "post msg/s", "in helpdesk", "queued", "web MiB", *worker_cols, "Redis MiB"],
        progress,
        [f"after draining: {delivered:,} messages in the helpdesk, {backlog:,} jobs still queued "
         f"(budget {args.max_seconds:g}s for posting + draining)"],
    )  # fmt: skip
    out += "\n" + report.table(
        "Soak: memory (MiB; growth = end vs after warm-up; target < 10 %)",
        ["metric", "cold", "warm", "end", "growth %"],
        memory_rows,
        ["Redis used_memory is server-wide: other users of this Redis add noise; queued jobs and dedupe marks "
         "(kept DEDUPE_TTL_SECONDS) grow it by design"],
    )  # fmt: skip
    out += "\n" + report.table(
        "Soak: wa:* keys by prefix (target: every dedupe/mapping key has an expiry)",
        ["prefix", "keys", "no expiry", "elements", "verdict"],
        key_rows,
        ["elements = members of the keys without expiry (list/zset/set/hash/stream length)"],
    )
    return out
