"""`python -m bench`: ingest, enqueue, e2e, jobs, soak --quick and cluster in sequence; `python -m bench NAME` for one.

Tables go to stdout, progress to stderr. Every process a bench starts is stopped when it ends, also on
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import traceback
from types import FrameType

BENCHES = {
    "ingest": "webhook ingest throughput/latency, adapter vs reference (wrk)",
    "enqueue": "Redis's CPU per webhook enqueue, by part of the enqueue script, beside the reference's commands",
    "e2e": "Meta webhook -> helpdesk simulator and agent reply -> Graph simulator, with workers",
    "jobs": "a worker's CPU per inbound job, one consumer in process",
    "soak": "many messages through ingest and workers: memory growth and keys without expiry",
    "cluster": "one Redis vs a 3-master Redis Cluster: delivered/s and Redis commands per message",
}


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="bench", metavar="{" + ",".join(BENCHES) + "}")
    parsers = {}
    for name, help_text in BENCHES.items():
        parsers[name] = sub.add_parser(name, help=help_text)
        importlib.import_module(f"bench.{name}").add_arguments(parsers[name])
    args = parser.parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT too: it may arrive ignored (nohup, &)
        signal.signal(signum, _interrupt)
    if args.bench is not None:
        plan = [(args.bench, args)]
    else:
        plan = [(name, parsers[name].parse_args(["--quick"] if name == "soak" else [])) for name in BENCHES]
    failed = 0
    try:
        for name, bench_args in plan:
            print(f"== bench {name} ==", file=sys.stderr, flush=True)
            try:
                print(importlib.import_module(f"bench.{name}").run(bench_args), flush=True)
            except (RuntimeError, OSError) as exc:
                failed += 1
                print(f"bench {name} failed: {exc}", file=sys.stderr, flush=True)
                traceback.print_exc(file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted: every started process has been stopped", file=sys.stderr)
        return 130
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
