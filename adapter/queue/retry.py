"""When to try a failed job again: exponential backoff with full jitter, capped."""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_seconds(
    attempt: int, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Delay before attempt `attempt + 1` (attempt counts from 0): between base/2 and min(cap, base*2^attempt)."""
    ceiling = min(cap, base * (2**attempt))
    return float(max(base / 2, ceiling * rand()))
