"""JSON on the hot paths (jobs, webhook bodies, API answers): orjson, else the standard library.

orjson is much cheaper than json.dumps on these paths, but refuses two things a webhook may carry: a lone surrogate
(half an emoji) and an integer wider than 64 bits. For those the standard encoder writes the value,
ASCII-escaped. Either way json.loads reads it back to the same value.

Reading, orjson refuses what json.loads takes (lone surrogates, NaN, a byte order mark, UTF-16) and, worse,
turns an integer wider than 64 bits into a float. So `loads` gives text where a run of 19 digits may be an
integer, and anything orjson refuses, to json.loads: the value is always the one json.loads reads.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"))


# Every byte to "0" if a digit, else " ": a run of 19 digits (2**63 has 19) is then one find(), cheaper than a
# regular expression's search. Smaller integers orjson reads exactly.
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_WIDE_INTEGER = b"0" * 19


UNREAD: Any = object()  # what `read_plain` returns for text only the standard library may decide on


# What may come right before an integer's first digit. A run of digits after anything else is inside a string
# (Meta's 20-digit user ids, "US.13491208655302741918"), or the fraction or exponent of a number read as a float
# by both, or not JSON at all, which orjson refuses.
_BEFORE_INTEGER = frozenset(b":[, \t\n\r-")


def _may_hold_wide_integer(raw: bytes) -> bool:
    digits = raw.translate(_DIGITS)
    at = digits.find(_WIDE_INTEGER)
    while at >= 0:  # `at` is where a run starts: the byte before it is no digit
        if at == 0 or raw[at - 1] in _BEFORE_INTEGER:
            return True
        end = digits.find(b" ", at)
        if end < 0:
            return False
        at = digits.find(_WIDE_INTEGER, end)
    return False


def read_plain(raw: bytes) -> Any:
    """The value, read by orjson, when it is the one json.loads reads; else UNREAD."""
    if not _may_hold_wide_integer(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return UNREAD


def loads(text: str | bytes) -> Any:
    """json.loads' value, read by orjson (the cheaper reader) where it reads the same one."""
    value = read_plain(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return json.loads(text) if value is UNREAD else value
