"""Random ids for jobs, requests and troubleshooting records.

Not secrets: nobody can do anything with one they guess. So they come from a `random.Random` (seeded from
the OS, and again in a forked child) rather than from `os.urandom`, whose system call drops the GIL: a
50-message batch asked for 50 of them, and every drop is a chance for another thread to take the GIL and
keep it for a whole switch interval. A generator of our own, not the `random` module's: drawing ids (in
background threads too) never moves the shared state that a test or a library may have seeded.
"""

from __future__ import annotations

import os
import random

_generator = random.Random()
os.register_at_fork(after_in_child=_generator.seed)  # else every gunicorn worker would draw the same ids
_bits = _generator.getrandbits


def new_id(nbytes: int = 16) -> str:
    """`nbytes` random bytes as lowercase hex (2 × nbytes characters)."""
    return f"{_bits(nbytes * 8):0{nbytes * 2}x}"
