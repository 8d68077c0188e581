"""Enqueue: Redis's CPU for one webhook's enqueue, taken apart.

The ingest bench shows what a webhook costs Redis as a whole; this one splits the adapter's enqueue script
(adapter/queue/queue.py) into its parts, on the same items the web would enqueue: passing the KEYS and
ARGV into Lua (a script that does nothing with them), the dedupe marks alone, the stream entries alone,
the whole script, and the same commands pipelined without a script (not atomic: the lower bound of
this layout). The last row is the reference ingest's work: a mark per message and one XADD of the body.

Each variant runs `--calls` times on a flushed database. Three figures per webhook: the time Redis spent in
the commands sent (INFO commandstats); redis-server's whole CPU (from /proc), which adds reading the requests
and writing the replies; and the client's CPU, what the web process pays to send them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import redis

from adapter.clock import SystemClock
from adapter.json_body import parse_json_body
from adapter.meta.ingest import jobs_from_webhook
from adapter.queue.jobs import Job
from adapter.queue.queue import JobQueue, ScriptCall
from adapter.settings import load_settings
from bench import payloads, report
from bench.procs import cpu_seconds

DB = 13
Items = list[tuple[str | None, Job]]  # what jobs_from_webhook returns: (dedupe id, job)

# The enqueue script's ARGV layout: ttl, then per item (its stream's index in KEYS, its mark's index, job json).
_DOES_NOTHING = "return 0"
_MARKS_ONLY = """
for i = 2, #ARGV, 3 do redis.call("SET", KEYS[tonumber(ARGV[i + 1])], "1", "NX", "EX", ARGV[1]) end
return 0
"""
_ENTRIES_ONLY = """
for i = 2, #ARGV, 3 do redis.call("XADD", KEYS[tonumber(ARGV[i])], "*", "job", ARGV[i + 2]) end
return 0
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calls", type=int, default=2000, help="webhooks per variant")
    parser.add_argument("--payloads", default="text,status,batch50", help="comma list of: text, status, batch50")


def _webhooks(kind: str, count: int) -> list[tuple[bytes, Items]]:
    """Fresh bodies of a kind, each with the items the web would enqueue from it."""
    out = []
    for index in range(count):
        body = payloads.build(kind, index)
        out.append((body, jobs_from_webhook(parse_json_body(body, lone_surrogates=True))))
    return out


def _pipelined(store: redis.Redis, call: ScriptCall) -> None:
    """The script's commands, sent in one pipeline without a script."""
    pipe = store.pipeline(transaction=False)
    for i in range(1, len(call.args), 3):
        stream, mark, job = call.keys[call.args[i] - 1], call.args[i + 1], call.args[i + 2]
        if mark:
            pipe.set(call.keys[mark - 1], "1", nx=True, ex=call.args[0])
        pipe.xadd(stream, {"job": job})
    pipe.execute()


def _as_reference(store: redis.Redis, body: bytes) -> None:
    """reference_ingest.py's commands: SET NX EX per message, one XADD of the raw body."""
    pipe = store.pipeline(transaction=False)
    for entry in parse_json_body(body)["entry"]:
        for change in entry["changes"]:
            for message in change["value"].get("messages", []):
                pipe.set("reference:seen:" + message["id"], 1, nx=True, ex=86400)
    pipe.xadd("reference:inbound", {"body": body}, maxlen=100000, approximate=True)
    pipe.execute()


def _usec(store: redis.Redis, commands: tuple[str, ...]) -> float:
    """Microseconds Redis has spent in these commands since it started (INFO commandstats)."""
    stats = store.info("commandstats")
    return float(sum(stats.get(f"cmdstat_{name}", {}).get("usec", 0) for name in commands))


def run(args: argparse.Namespace) -> str:
    store = redis.Redis(db=DB)
    rows: list[list[report.Cell]] = []
    try:
        for kind in (k.strip() for k in args.payloads.split(",") if k.strip()):
            print(f"enqueue: {args.calls:,} {kind} webhooks per variant", file=sys.stderr, flush=True)
            rows += [[kind, *measured] for measured in _measure(store, _webhooks(kind, args.calls))]
    finally:
        store.flushdb(asynchronous=True)
    return report.table(
        "Enqueue: what a webhook's enqueue costs Redis and its client, by part of the enqueue script",
        ["payload", "variant", "in commands µs", "redis-server CPU µs", "client CPU µs"],
        rows,
        [
            f"{args.calls:,} webhooks per variant on a flushed db {DB}; items as jobs_from_webhook makes them",
            "in commands = INFO commandstats usec of the commands sent (EVALSHA, or SET and XADD), per webhook:"
            " the commands' own work, Lua's included",
            "redis-server CPU = its user + system CPU from /proc (10 ms ticks), per webhook: also reading each"
            " request and writing its reply, and waking up for it (noisy for one-item webhooks)",
            "client CPU = this process's CPU (redis-py, hiredis) per webhook, waiting for each answer included (on a"
            " VM, idling and waking up); the enqueue script's row also builds the jobs' JSON and the script's"
            " arguments, which the other rows were given ready",
        ],
    )


def _measure(store: redis.Redis, webhooks: list[tuple[bytes, Items]]) -> list[tuple[str, float, float, float]]:
    """(variant, µs in its commands, redis-server CPU µs, client CPU µs) per webhook, on the same webhooks."""
    defaults = load_settings({})  # the queue as the web builds it by default (config/defaults.env)
    queue = JobQueue(
        store, partitions=defaults.queue_partitions, dedupe_ttl_seconds=defaults.dedupe_ttl_seconds, clock=SystemClock()
    )
    calls = [call for _, items in webhooks for call in queue.script_calls(items)]
    nothing, marks, entries = (store.register_script(s) for s in (_DOES_NOTHING, _MARKS_ONLY, _ENTRIES_ONLY))

    def each(script: Any) -> None:
        for call in calls:
            script(keys=call.keys, args=call.args)

    scripted, pipelined = ("evalsha",), ("set", "xadd")  # the commands a variant sends (not those Lua calls)
    variants: list[tuple[str, tuple[str, ...], Callable[[], object]]] = [
        ("script doing nothing, same KEYS/ARGV", scripted, lambda: each(nothing)),
        ("marks only (SET NX EX)", scripted, lambda: each(marks)),
        ("entries only (XADD)", scripted, lambda: each(entries)),
        ("the enqueue script", scripted, lambda: [queue.enqueue_once(items) for _, items in webhooks]),
        ("same commands pipelined, no script", pipelined, lambda: [_pipelined(store, call) for call in calls]),
        ("reference: SET NX EX each + one XADD", pipelined, lambda: [_as_reference(store, b) for b, _ in webhooks]),
    ]
    redis_pid = int(store.info("server")["process_id"])
    measured = []
    for name, commands, variant in variants:
        store.flushdb()  # not lazily: a background free would be counted in the variant's Redis CPU
        before, usec_before, client_before = cpu_seconds(redis_pid), _usec(store, commands), time.process_time()
        variant()
        client = (time.process_time() - client_before) / len(webhooks) * 1e6
        in_commands = (_usec(store, commands) - usec_before) / len(webhooks)
        measured.append((name, in_commands, (cpu_seconds(redis_pid) - before) / len(webhooks) * 1e6, client))
    return measured
