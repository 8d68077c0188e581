"""The worker's few seconds of channel cache never keep a channel this process has just changed."""

from __future__ import annotations

import dataclasses
from typing import Any

import redis

from adapter import create_app
from tests.conftest import PNID, make_channel, make_settings


def test_a_read_that_overlaps_a_save_does_not_keep_the_old_channel(store: redis.Redis) -> None:
    channels = create_app(make_settings(), store=store).extensions["adapter"].channels
    channels.cache_seconds = 60.0
    channels.save(make_channel(window_policy="reject"))
    read_from_redis = channels.store.hgetall

    def old_hash_then_a_save(key: str) -> Any:
        old = read_from_redis(key)  # the read gets the old hash; another thread saves before it is cached
        channels.store.hgetall = read_from_redis
        channels.save(dataclasses.replace(make_channel(), window_policy="reroute"))
        return old

    channels.store.hgetall = old_hash_then_a_save
    overlapped = channels.get(PNID)
    assert overlapped is not None and overlapped.window_policy == "reject"  # what that read saw
    after = channels.get(PNID)
    assert after is not None and after.window_policy == "reroute"


def test_a_save_or_a_removal_is_read_at_once_in_this_process(store: redis.Redis) -> None:
    channels = create_app(make_settings(), store=store).extensions["adapter"].channels
    channels.cache_seconds = 60.0
    channels.save(make_channel(window_policy="reject"))
    assert channels.get(PNID).window_policy == "reject"  # type: ignore[union-attr]
    channels.save(make_channel(window_policy="reroute"))
    assert channels.get(PNID).window_policy == "reroute"  # type: ignore[union-attr]
    channels.remove(PNID)
    assert channels.get(PNID) is None
