"""Child processes of a bench run: started in their own process group, always stopped on the way out."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STOP_GRACE_SECONDS = 8.0


@contextlib.contextmanager
def logdir(prefix: str) -> Iterator[Path]:
    """Where the children's logs go: $BENCH_LOGS/<prefix> when set (kept), else a temporary directory."""
    keep = os.environ.get("BENCH_LOGS")
    if keep:
        path = Path(keep) / prefix
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-") as tmp:
        yield Path(tmp)


def free_port() -> int:
    """A loopback port nobody listens on right now (tiny race until the child binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**values: str) -> dict[str, str]:
    """os.environ without any adapter setting inherited from the shell, plus `values`."""
    from adapter.settings import read_defaults

    env = {k: v for k, v in os.environ.items() if k not in read_defaults() and not k.startswith("WEB_")}
    env.update(values)
    return env


class Procs:
    """Starts children in new sessions (so a terminal Ctrl-C reaches only us) and stops every one of them."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path = ROOT
    ) -> subprocess.Popen[bytes]:
        with open(self.logdir / f"{name}.log", "wb") as log:  # the child keeps its own copy of the descriptor
            child = subprocess.Popen(
                list(argv), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.children.append((name, child))
        return child

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.logdir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        for name, child in self.children:
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with {child.returncode}:\n{self.log_tail(name)}")

    def stop(self, child: subprocess.Popen[bytes]) -> None:
        self._signal(child, signal.SIGTERM)
        try:
            child.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self._signal(child, signal.SIGKILL)
            child.wait(timeout=5)
        self._signal(child, signal.SIGKILL)  # leftovers of its group (gunicorn workers) if any
        self.children = [(n, c) for n, c in self.children if c is not child]

    def stop_all(self) -> None:
        for _, child in reversed(self.children):
            self._signal(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for _, child in reversed(self.children):
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
        for _, child in self.children:
            self._signal(child, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)
        self.children.clear()

    @staticmethod
    def _signal(child: subprocess.Popen[bytes], sig: int) -> None:
        # The child leads its own process group (start_new_session), so the group id is its pid.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)

    def __enter__(self) -> Procs:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()


def wait_http(url: str, procs: Procs, *, timeout: float = 30.0, ok: Sequence[int] = ()) -> int:
    """Poll `url` until it answers (any status, or one of `ok` when given); return the status."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                status = int(resp.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
            time.sleep(0.1)
            continue
        if not ok or status in ok:
            return status
        last = f"HTTP {status}"
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f}s ({last})")


def gunicorn_adapter(procs: Procs, name: str, port: int, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """The adapter's web process exactly as the Procfile runs it, but bound to loopback only."""
    argv = [PYTHON, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "-b", f"127.0.0.1:{port}"]
    argv += ["--no-control-socket", "wsgi:app"]  # one shared default socket path would clash between runs
    return procs.start(name, argv, env=env)


def rss_kib(pid: int, *, with_children: bool = False) -> int:
    """Resident set size of a process (plus its direct children: gunicorn's workers) in KiB."""
    pids = [pid] + (children_of(pid) if with_children else [])
    total = 0
    for one in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """User + system CPU time of a process (plus its direct children), in seconds."""
    total = 0
    for one in [pid] + (children_of(pid) if with_children else []):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time spent by everything on this machine (all cores, idle and iowait excluded), in seconds."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")



def wait_redis(client: redis.Redis, procs: Procs, *, timeout: float = 10.0) -> None:
    """Until a Redis the bench started answers PING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                return
        time.sleep(0.05)
    raise RuntimeError("the bench's redis-server did not answer")
