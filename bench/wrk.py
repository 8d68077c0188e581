"""wrk: install it when missing, feed it pre-signed bodies through a Lua script, and parse its report."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Each wrk thread reads the whole file at init and walks it with a stride of the thread count, starting
# at its own offset, so the threads never send the same body until the file wraps around.
LUA = """
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  sigs, bodies = {}, {}
  for line in io.lines(args[1]) do
    local tab = line:find("\\t", 1, true)
    sigs[#sigs + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  stride = tonumber(args[2])
  index = tid
end

function request()
  local i = index % #bodies + 1
  index = index + stride
  local headers = {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = sigs[i]}
  return wrk.format("POST", nil, headers, bodies[i])
end
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float | None
    p99_ms: float | None
    non_2xx: int
    socket_errors: int


def ensure_wrk() -> str:
    """The wrk binary, installed with apt-get when missing (the bench machine is Debian)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing it with apt-get (apt-get update && apt-get install -y wrk)", flush=True)
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get installed wrk but it is not on PATH")
    return found


def write_script(workdir: Path) -> Path:
    path = workdir / "rotate.lua"
    path.write_text(LUA)
    return path


def write_bodies(path: Path, signed: list[tuple[str, bytes]]) -> None:
    """One "<signature>\\t<body>" line per request body (compact JSON has no raw tab or newline)."""
    with path.open("wb") as out:
        for signature, body in signed:
            out.write(signature.encode() + b"\t" + body + b"\n")


def run(
    wrk: str, url: str, script: Path, bodies: Path, *, duration: float, connections: int, threads: int
) -> WrkResult:
    command = [
        wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "10s",
        "-s", str(script), url, "--", str(bodies), str(threads),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse(done.stdout)


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse(report: str) -> WrkResult:
    """Requests, duration, req/s, p50/p99, non-2xx and socket errors from `wrk --latency` output."""
    latency = {m[1]: _ms(m[2], m[3]) for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", report, re.M)}
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", report)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", report)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    if total is None or rate is None:
        raise RuntimeError(f"cannot parse wrk output:\n{report}")
    return WrkResult(
        requests=int(total[1]),
        seconds=_ms(total[2], total[3]) / 1000,
        requests_per_second=float(rate[1]),
        p50_ms=latency.get("50"),
        p99_ms=latency.get("99"),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(x) for x in sockets.groups()) if sockets else 0,
    )
