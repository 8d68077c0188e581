"""Plain-text tables, percentiles and a description of the machine the figures came from."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path

Cell = str | int | float | None


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(pct / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def fmt(value: Cell, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]], notes: Sequence[str] = ()) -> str:
    """A titled, aligned table: text left-aligned, numbers right-aligned."""
    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int | float) or row[i] is None for row in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True))

    out = [title, "=" * len(title), line(headers), line(["-" * w for w in widths])]
    out += [line(r).rstrip() for r in cells]
    out += [f"  * {note}" for note in notes]
    return "\n".join(out) + "\n"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    """One paragraph: cores, CPU, Python, load and memory at the time of the run."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    cores = len(os.sched_getaffinity(0))
    mem = "unknown"
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        available, total = (int(info[k].split()[0]) // 1024 for k in ("MemAvailable", "MemTotal"))
        mem = f"{available:,} MiB available of {total:,}"
    except (OSError, KeyError, ValueError):
        pass
    return (
        f"Machine: {cores} cores (nproc), {cpu_model()}; Python {platform.python_version()} "
        f"({platform.python_implementation()}); load average {load}; memory {mem}\n"
    )
