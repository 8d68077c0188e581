"""Random ids for jobs, requests and troubleshooting records.

Not secrets: nobody can do anything with one they guess. So they come from `random` (seeded from the OS in
every process, and again after a fork) rather than from `os.urandom`, whose system call drops the GIL: a
50-message batch asked for 50 of them, and every drop is a chance for another thread to take the GIL and
keep it for a whole switch interval.
"""

from __future__ import annotations

import random

_bits = random.getrandbits


def new_id(nbytes: int = 16) -> str:
    """`nbytes` random bytes as lowercase hex (2 × nbytes characters)."""
    return f"{_bits(nbytes * 8):0{nbytes * 2}x}"
