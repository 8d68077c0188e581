"""Request bodies read as strict JSON, with a precise 400 for anything else."""

from __future__ import annotations

import json
import math
from typing import Any

from adapter import jsonfast
from adapter.errors import BadRequest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is too large for a number")
    return value


# One decoder for every body: json.loads with options would build a new one (and its scanner) per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite)


def parse_json_body(data: bytes, *, lone_surrogates: bool = False) -> Any:
    """Parse the request body as strict JSON (UTF-8, no NaN or Infinity), or raise a precise 400.

    Webhooks keep an escaped lone surrogate (half an emoji): the payload is still stored and delivered
    (jobs are written ASCII-escaped). Admin bodies end up in Redis strings, so there it is refused.
    """
    # orjson reads valid, finite UTF-8 JSON without lone surrogates; the rest takes the strict path to its 400.
    value = jsonfast.read_plain(data)
    if value is not jsonfast.UNREAD:
        return value
    try:
        text = data.decode("utf-8-sig")  # strict: json.loads alone would let encoded surrogates through
        value = _DECODER.decode(text)
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text") from None
    except RecursionError:
        raise BadRequest("the body is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not lone_surrogates and _has_lone_surrogate(value):
        raise BadRequest("the body contains a lone surrogate (half of an emoji), which is not valid Unicode text")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False
