"""Random ids: the right shape, and never the same in two processes forked from one (gunicorn's workers)."""

from __future__ import annotations

import os
import random
import re

from adapter.ids import new_id
from adapter.queue.jobs import Job


def test_an_id_is_lowercase_hex_of_the_asked_length_and_ids_do_not_repeat() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", one) for one in ids)
    assert len(set(ids)) == len(ids)
    assert re.fullmatch(r"[0-9a-f]{12}", new_id(6))
    assert len(Job("k", "chat", {}).id) == 32


def test_a_forked_process_draws_other_ids_than_its_parent() -> None:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read, "rb") as pipe:
        childs = pipe.read().decode()
    assert re.fullmatch(r"[0-9a-f]{32}", childs)
    assert childs != new_id()


def test_drawing_ids_leaves_the_random_modules_shared_state_alone() -> None:
    random.seed(7)
    expected = random.random()
    random.seed(7)
    for _ in range(100):
        new_id()
    assert random.random() == expected
