"""jsonfast.loads reads every text to the value json.loads reads, orjson or not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter import jsonfast

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)  # fmt: skip


def typed(value: Any) -> str:
    """The value with its number types showing (1 and 1.0 are equal in Python, not in a payload)."""
    return json.dumps(value, sort_keys=True)


LAYOUTS = st.sampled_from([{}, {"separators": (",", ":")}, {"indent": 1}, {"indent": "\t", "separators": (",", ":")}])


@given(JSON_VALUES, st.booleans(), st.booleans(), LAYOUTS)
def test_any_value_reads_back_as_json_loads_reads_it(
    value: Any, ascii_only: bool, as_bytes: bool, layout: dict[str, Any]
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, **layout)
    stored: str | bytes = text.encode("utf-8", "surrogatepass") if as_bytes else text
    try:
        expected = json.loads(stored)
    except UnicodeDecodeError:  # a raw lone surrogate in bytes: not UTF-8, for either reader
        with pytest.raises(UnicodeDecodeError):
            jsonfast.loads(stored)
        return
    assert typed(jsonfast.loads(stored)) == typed(expected)


@pytest.mark.parametrize(
    "text",
    [
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890",
        '{"id": -99999999999999999999}', "1.2345678901234567890123", '"\\ud83d"', '["\\udc00", 1]', "NaN",
        "-Infinity", "1e999", "-0", "-0.0", '{"a": 1, "a": 2}', '{"a":99999999999999999999}',
        '[\n\t-99999999999999999999]', '{"a": "x: 12345678901234567890"}', "1e12345678901234567890",
    ],
)  # fmt: skip
def test_what_orjson_reads_differently_or_refuses_is_read_by_json_loads(text: str) -> None:
    assert typed(jsonfast.loads(text)) == typed(json.loads(text))
    assert typed(jsonfast.loads(text.encode("utf-8", "surrogatepass"))) == typed(json.loads(text.encode()))


def test_a_wide_integer_is_never_read_as_a_float() -> None:
    # orjson alone reads this as -9.223372036854776e18: the digit-run check must send it to json.loads.
    assert jsonfast.read_plain(b"[-9223372036854775809]") is jsonfast.UNREAD
    assert jsonfast.loads(b"[-9223372036854775809]") == [-9223372036854775809]


def test_plain_json_is_read_by_orjson_and_utf16_by_json_loads() -> None:
    assert jsonfast.read_plain(b'{"n": -999999999999999999, "s": "\xc3\xa9"}') == {"n": -(10**18 - 1), "s": "é"}
    utf16 = json.dumps({"s": "é"}).encode("utf-16")
    assert jsonfast.read_plain(utf16) is jsonfast.UNREAD
    assert jsonfast.loads(utf16) == {"s": "é"}
    assert jsonfast.loads(b"\xef\xbb\xbf[1]") == json.loads(b"\xef\xbb\xbf[1]") == [1]  # a byte order mark


def test_a_long_run_of_digits_inside_a_string_is_read_by_orjson() -> None:
    # Meta's user ids ("US." and 20 digits) are in every message: they must not send each webhook to json.loads.
    body = b'{"from_user_id": "US.13491208655302741918", "id": "wamid.12345678901234567890123", "n": 12}'
    assert jsonfast.read_plain(body) == json.loads(body)
