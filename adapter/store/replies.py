"""Replies of the store as the types they are: every client is made with decode_responses=True, so a reply is
`str` where redis-py's annotations (shared with bytes-returning clients) say `bytes | str`. Casts only, no
conversion: what redis-py returns is passed through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from redis.typing import EncodableT, FieldT

# What redis-py accepts as a hash's fields (its Mapping is invariant in the key, so dict[str, str] needs saying).
Fields = Mapping[FieldT, EncodableT]


def text(reply: Any) -> str:
    return cast(str, reply)


def texts(reply: Any) -> list[str]:
    return cast(list[str], reply)


def text_hash(reply: Any) -> dict[str, str]:
    return cast(dict[str, str], reply)


def hash_fields(values: Mapping[str, Any]) -> Fields:
    return cast(Fields, values)
