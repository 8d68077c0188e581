"""Ingest: the adapter's POST /webhooks/meta beside the reference ingest, same gunicorn settings, same bodies.

Both servers run for the whole bench; each (payload, target) cell gets its own wrk run on flushed Redis
databases (adapter: 14, reference: 15), so every pre-signed body is fresh for each target once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import redis

from bench import payloads, report, wrk
from bench.procs import (
    PYTHON,
    ROOT,
    Procs,
    clean_env,
    cpu_seconds,
    free_port,
    gunicorn_adapter,
    logdir,
    machine_busy_seconds,
    wait_http,
)

REFERENCE_DIR = (ROOT / ".." / "shared" / "bench").resolve()
ADAPTER_DB, REFERENCE_DB = 14, 15
RATE_GUESS = {"text": 5000, "status": 5000, "batch50": 1500}  # req/s, to size the pool of distinct bodies


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument("--duration", type=float, default=float(env("BENCH_DURATION", "10")), help="seconds per cell")
    parser.add_argument("--connections", type=int, default=int(env("BENCH_CONNECTIONS", "16")), help="wrk -c")
    parser.add_argument("--threads", type=int, default=int(env("BENCH_THREADS", "2")), help="wrk -t")
    parser.add_argument("--web-workers", type=int, default=int(env("WEB_CONCURRENCY", "2")), help="gunicorn -w")
    parser.add_argument("--web-threads", type=int, default=int(env("WEB_THREADS", "4")), help="gunicorn --threads")
    parser.add_argument("--payloads", default="text,status,batch50", help="comma list of: text, status, batch50")
    parser.add_argument("--bodies", type=int, default=0, help="distinct bodies per payload (0: sized to duration)")
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_ROUNDS", "3")),
                        help="runs per server and payload, alternating servers; the tables show medians")
    parser.add_argument("--warmup", type=float, default=float(env("BENCH_WARMUP", "3")),
                        help="seconds of unmeasured load per server and payload before the rounds")


def _signed_bodies(kind: str, count: int) -> list[tuple[str, bytes]]:
    out = []
    for index in range(count):
        body = payloads.build(kind, index, customers=1000)
        out.append((payloads.headers(body)[payloads.HEADER], body))
    return out


def _flush(dbs: dict[str, redis.Redis]) -> None:
    for db in dbs.values():
        db.flushdb(asynchronous=True)  # never block other users of this Redis


def _post_once(url: str, signature: str, body: bytes) -> str:
    """One request before wrk, so a wrong signature or path shows up as an error rather than a fast 401."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header(payloads.HEADER, signature)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return f"{resp.status} {resp.read(200).decode(errors='replace')}"
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{url} answered {exc.code}: {exc.read(300).decode(errors='replace')}") from None


def _start_servers(procs: Procs, args: argparse.Namespace) -> dict[str, tuple[str, subprocess.Popen[bytes]]]:
    adapter_port, reference_port = free_port(), free_port()
    adapter_env = clean_env(
        REDIS_URL=f"redis://127.0.0.1:6379/{ADAPTER_DB}", META_APP_SECRET=payloads.APP_SECRET, PORT=str(adapter_port),
        WEB_CONCURRENCY=str(args.web_workers), WEB_THREADS=str(args.web_threads), LOG_LEVEL="WARNING",
    )  # fmt: skip
    adapter = gunicorn_adapter(procs, "ingest-adapter", adapter_port, adapter_env)
    reference_env = clean_env(
        REFERENCE_APP_SECRET=payloads.APP_SECRET, REDIS_URL=f"redis://127.0.0.1:6379/{REFERENCE_DB}"
    )
    reference = procs.start(
        "ingest-reference",
        [
            PYTHON, "-m", "gunicorn", "-w", str(args.web_workers), "--threads", str(args.web_threads),
            "-k", "gthread", "--keep-alive", "5", "--no-control-socket", "-b", f"127.0.0.1:{reference_port}",
            "--chdir", str(REFERENCE_DIR), "reference_ingest:app",
        ],
        env=reference_env,
    )  # fmt: skip
    wait_http(f"http://127.0.0.1:{adapter_port}/healthz", procs, ok=(200,))
    wait_http(f"http://127.0.0.1:{reference_port}/", procs)
    return {
        "adapter": (f"http://127.0.0.1:{adapter_port}/webhooks/meta", adapter),
        "reference": (f"http://127.0.0.1:{reference_port}/webhooks/whatsapp", reference),
    }


def _cpu(servers: dict[str, subprocess.Popen[bytes]], redis_pid: int) -> dict[str, float]:
    """CPU seconds so far: each server (master + workers), and everything else on the machine."""
    used = {name: cpu_seconds(p.pid, with_children=True) for name, p in servers.items()}
    wrk_and_us = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk runs are reaped children of this process
    redis_seconds = cpu_seconds(redis_pid)
    own = cpu_seconds(os.getpid()) + wrk_and_us.ru_utime + wrk_and_us.ru_stime + redis_seconds
    return {**used, "redis": redis_seconds, "others": machine_busy_seconds() - sum(used.values()) - own}


def run(args: argparse.Namespace) -> str:
    kinds = [k.strip() for k in args.payloads.split(",") if k.strip()]
    binary = wrk.ensure_wrk()
    dbs = {"adapter": redis.Redis(db=ADAPTER_DB), "reference": redis.Redis(db=REFERENCE_DB)}
    rows: list[list[report.Cell]] = []
    ratios: list[list[report.Cell]] = []
    with contextlib.ExitStack() as cleanup, logdir("ingest") as tmp, Procs(tmp) as procs:
        cleanup.callback(_flush, dbs)  # runs last, once both servers are stopped
        workdir = Path(tmp)
        script = wrk.write_script(workdir)
        targets = _start_servers(procs, args)
        servers = {name: proc for name, (_, proc) in targets.items()}
        redis_pid = int(dbs["adapter"].info("server").get("process_id", 0))
        for kind in kinds:
            count = args.bodies or max(1000, int(args.duration * RATE_GUESS[kind]))
            print(f"ingest: building {count:,} signed {kind} bodies", file=sys.stderr, flush=True)
            signed = _signed_bodies(kind, count)
            bodies = workdir / f"{kind}.bodies"
            wrk.write_bodies(bodies, signed)
            per_request = payloads.KINDS[kind]
            cells: dict[str, list[_Cell]] = {target: [] for target in targets}
            for target, (url, _) in targets.items() if args.warmup > 0 else ():
                # Unmeasured: the first load on a fresh server pays for growing its heap and Redis's, which
                # would count against whichever server happens to go first.
                _flush(dbs)
                _post_once(url, *signed[0])
                print(f"ingest: {kind} -> {target}, warming up for {args.warmup:g}s", file=sys.stderr, flush=True)
                wrk.run(binary, url, script, bodies, duration=args.warmup, connections=args.connections,
                        threads=args.threads)  # fmt: skip
            for round_ in range(args.rounds):
                # Alternate who goes first: a machine that slows or speeds up during a run biases neither.
                for target in list(targets)[:: 1 if round_ % 2 == 0 else -1]:
                    url = targets[target][0]
                    _flush(dbs)
                    _post_once(url, *signed[0])
                    _flush(dbs)
                    time.sleep(1.0)  # let lazy freeing of the flushed keys finish before measuring
                    print(f"ingest: {kind} -> {target} for {args.duration:g}s (round {round_ + 1} of {args.rounds})",
                          file=sys.stderr, flush=True)  # fmt: skip
                    before, t0 = _cpu(servers, redis_pid), time.monotonic()
                    result = wrk.run(
                        binary, url, script, bodies,
                        duration=args.duration, connections=args.connections, threads=args.threads,
                    )  # fmt: skip
                    after, wall = _cpu(servers, redis_pid), time.monotonic() - t0
                    cpu, redis_cpu = (_per_request_us(after[name] - before[name], result.requests)
                                      for name in (target, "redis"))  # fmt: skip
                    others = (after["others"] - before["others"]) / wall * 100
                    fresh = min(1.0, count / result.requests) * 100 if result.requests else 0.0
                    cells[target].append(_Cell(result, cpu, redis_cpu, others, fresh))
            for target, runs in cells.items():
                rows.append([
                    kind, target, _median(r.result.requests_per_second for r in runs),
                    _median(r.result.requests_per_second * per_request for r in runs),
                    _median(r.result.p50_ms for r in runs), _median(r.result.p99_ms for r in runs),
                    sum(r.result.non_2xx + r.result.socket_errors for r in runs), min(r.fresh for r in runs),
                    _median(r.cpu_us for r in runs), _median(r.redis_cpu_us for r in runs),
                    _median(r.others for r in runs),
                ])  # fmt: skip
            pairs = list(zip(cells["adapter"], cells["reference"], strict=True))
            throughput = [a.result.requests_per_second / r.result.requests_per_second for a, r in pairs
                          if r.result.requests_per_second]  # fmt: skip
            p99 = [a.result.p99_ms / r.result.p99_ms for a, r in pairs if a.result.p99_ms and r.result.p99_ms]
            ratios.append([kind, _median(throughput), _spread(throughput), _median(p99), _spread(p99)])
    notes = [
        f"gunicorn -w {args.web_workers} --threads {args.web_threads} -k gthread for both; "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s; Redis db {ADAPTER_DB} (adapter), "
        f"{REFERENCE_DB} (reference), flushed before every cell",
        "msg/s = req/s x messages per request (text 1, status 1, batch50 50); errors = non-2xx + socket errors",
        "fresh % = share of requests carrying a body not sent before in that cell; the rest take the duplicate path",
        "the reference only verifies, parses, SET NX EX per message and XADDs the raw body once per request",
        f"each figure is the median of {args.rounds} runs, after {args.warmup:g}s of unmeasured load on each "
        "server; errors are summed over them, fresh % is the lowest",
        "CPU µs/req = CPU of the measured server (gunicorn master + workers) per request; Redis µs/req = "
        "redis-server's CPU per request (the other server is idle meanwhile); others % = CPU of "
        "every process not in this bench, in % of one core during the cell (other engineers' tests: noise)",
    ]
    out = report.machine() + "\n"
    out += report.table(
        "Ingest: POST webhook -> 200 (adapter /webhooks/meta vs reference /webhooks/whatsapp)",
        ["payload", "target", "req/s", "msg/s", "p50 ms", "p99 ms", "errors", "fresh %", "CPU µs/req", "Redis µs/req",
         "others %"],
        rows,
        notes,
    )
    out += "\n" + report.table(
        "Ingest ratio adapter/reference (throughput: higher is better; p99: lower is better)",
        ["payload", "throughput x", "rounds", "p99 x", "rounds"],
        [[r[0], _two(r[1]), r[2], _two(r[3]), r[4]] for r in ratios],
        [f"median over {args.rounds} rounds, each round both servers back to back (who goes first alternates); "
         "rounds = the lowest and highest round's ratio"],
    )
    return out


@dataclass(frozen=True)
class _Cell:
    """One wrk run against one server."""

    result: wrk.WrkResult
    cpu_us: float | None  # CPU of the server per request, in microseconds
    redis_cpu_us: float | None  # redis-server's CPU per request, in microseconds
    others: float  # % of one core used by processes outside the bench
    fresh: float  # % of requests carrying a body not sent before in the run


def _per_request_us(seconds: float, requests: int) -> float | None:
    return seconds / requests * 1e6 if requests else None


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def _two(value: report.Cell) -> str:
    return "-" if not isinstance(value, float) else f"{value:.2f}"
