"""One Redis or a 3-master Redis Cluster under the same adapter: end-to-end delivered/s, and the Redis commands
each inbound and each outbound message costs (INFO commandstats deltas, summed over every node).

Both stores are the bench's own: a private redis-server on a free port, and the loopback cluster of
scripts/redis-cluster on 7001-7003, so no other user of the machine's Redis is counted.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
from typing import Any

import redis

from bench import e2e, loadgen, payloads, report, stack
from bench.procs import ROOT, Procs, clean_env, cpu_seconds, free_port, logdir, wait_redis

CLUSTER_PORTS = (7001, 7002, 7003)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    e2e.add_arguments(parser)
    parser.set_defaults(outbound_per_second=1000)  # the pipeline's capacity, not Meta's default shaping


def commands(nodes: list[redis.Redis]) -> dict[str, int]:
    """Calls per command since each node started, summed over the nodes (a script's own calls included)."""
    total: dict[str, int] = {}
    for node in nodes:
        for name, stats in node.info("commandstats").items():
            command = name.removeprefix("cmdstat_")
            total[command] = total.get(command, 0) + int(stats["calls"])
    return total


def redis_cpu(nodes: list[redis.Redis]) -> float:
    """CPU seconds the nodes' redis-server processes have used (they run on this machine)."""
    return sum(cpu_seconds(int(node.info("server")["process_id"])) for node in nodes)


def measure(name: str, redis_url: str, nodes: list[redis.Redis], procs: Procs, args: argparse.Namespace) -> list[Any]:
    """Start the stack on this store, run the inbound and the outbound phase, count each phase's commands and
    Redis CPU."""
    env = {"OUTBOUND_PER_SECOND": str(args.outbound_per_second)}
    st = stack.start(procs, redis_url=redis_url, workers=args.workers, web_workers=args.web_workers, env=env)
    url, customers = st.meta_webhook, args.customers

    def post(offset: int, **how: Any) -> Any:
        make = payloads.text_webhooks(offset, customers, 1)
        return lambda: loadgen.post(url, make, concurrency=args.concurrency, **how)

    st.settle()
    e2e.inbound("first contact", st, post(0, count=customers), args.drain * 2)
    row: list[Any] = [name]
    for phase in ("in", "out"):
        st.settle()
        before, cpu_before = commands(nodes), redis_cpu(nodes)
        if phase == "in":
            measured = e2e.inbound("inbound", st, post(customers, seconds=args.duration), args.drain)
        else:
            measured = e2e.outbound("outbound", st, args, None, float(args.outbound_per_second))
        st.settle()
        after, cpu = commands(nodes), redis_cpu(nodes) - cpu_before
        used = {k: after[k] - before.get(k, 0) for k in after}
        delivered = len(measured.latencies)
        per_message = sum(used.values()) / delivered if delivered else None
        top = sorted(used.items(), key=lambda item: -item[1])[:4]
        row += [delivered / measured.span if measured.span else None, per_message,
                cpu / delivered * 1000 if delivered else None,
                ", ".join(f"{k} {v / delivered:.1f}" for k, v in top) if delivered else ""]  # fmt: skip
    for child in [st.web, *st.workers, *st.sims.values()]:
        procs.stop(child)
    return row


def run(args: argparse.Namespace) -> str:
    rows = []
    with contextlib.ExitStack() as cleanup, logdir("cluster") as tmp, Procs(tmp) as procs:
        port = free_port()
        procs.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], env=clean_env())  # fmt: skip
        single = redis.Redis(port=port, decode_responses=True)
        wait_redis(single, procs)
        print("cluster: one Redis", file=sys.stderr, flush=True)
        rows.append(measure("one Redis", f"redis://127.0.0.1:{port}/0", [single], procs, args))
        subprocess.run([str(ROOT / "scripts" / "redis-cluster"), str(CLUSTER_PORTS[0]), "3"], check=True)
        nodes = [redis.Redis(port=p, decode_responses=True) for p in CLUSTER_PORTS]
        cleanup.callback(lambda: [node.flushall() for node in nodes])
        for node in nodes:
            node.config_resetstat()
        print("cluster: 3-master Redis Cluster", file=sys.stderr, flush=True)
        rows.append(measure("Redis Cluster, 3 masters", f"redis://127.0.0.1:{CLUSTER_PORTS[0]}/0", nodes, procs, args))
    notes = [
        f"{args.workers} worker processes, gunicorn -w {args.web_workers}; {args.customers} customers; "
        f"{args.duration:g} s per phase, {args.concurrency} webhooks / {args.reply_concurrency} replies in flight; "
        f"OUTBOUND_PER_SECOND={args.outbound_per_second}",
        "delivered/s: delivered / (first send -> last delivery); commands: every command the nodes ran during the "
        "phase and its drain (a script's own calls included, the bench's few polls too), per delivered message",
        "an inbound message includes the helpdesk's message_created echo it brings; an outbound one the agent "
        "reply's webhook; on the cluster an idle consumer polls its partitions every 50 ms, and redis-py asks "
        "COMMAND GETKEYS to route each XREADGROUP (a command with movable keys)",
        "redis ms: CPU of the redis-server processes (all three on the cluster) per delivered message, the phase "
        "and its drain; one Redis is the limit once that times the message rate nears 1,000 ms per second",
        "every process shares this machine's cores: the cluster's three redis-servers compete with the adapter",
    ]
    headers = ["store", "in delivered/s", "cmds/inbound", "redis ms/inbound", "top commands per inbound",
               "out delivered/s", "cmds/outbound", "redis ms/outbound", "top commands per outbound"]  # fmt: skip
    return report.machine() + "\n" + report.table("One Redis vs a Redis Cluster", headers, rows, notes)
