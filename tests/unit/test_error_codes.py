"""The Meta error-code table: every §7 code present, retry classes, waits, unknown-code fallback."""

from __future__ import annotations

import dataclasses

import pytest

from adapter.meta.error_codes import (
    TABLE,
    WAIT_FALLBACK_SECONDS,
    ErrorCode,
    is_retryable,
    lookup,
    retry_after_seconds,
)

# whatsapp.md §7: code -> retry column (R = retry, W = wait, N = never).
SECTION_7: dict[int, str] = {
    0: "never", 1: "retry", 2: "retry", 3: "never", 4: "retry", 10: "never", 33: "never",
    100: "never", 190: "never", 200: "never", 368: "never", 80007: "retry", 130429: "retry",
    130472: "never", 130497: "never", 131000: "retry", 131005: "never", 131008: "never",
    131009: "never", 131016: "retry", 131021: "never", 131026: "never", 131030: "never",
    131031: "never", 131037: "never", 131042: "never", 131045: "never", 131047: "never",
    131048: "never", 131049: "wait", 131050: "never", 131051: "never", 131052: "never",
    131053: "never", 131055: "never", 131056: "wait", 131057: "retry", 132000: "never",
    132001: "never", 132005: "never", 132007: "never", 132008: "never", 132012: "never",
    132015: "never", 132016: "never", 132068: "never", 132069: "wait", 133000: "never",
    133004: "retry", 133005: "never", 133006: "never", 133008: "wait", 133009: "wait",
    133010: "never", 133015: "wait", 133016: "wait", 134011: "never", 135000: "never",
    137000: "never", 2494100: "retry",
}  # fmt: skip


def test_table_holds_exactly_the_section_7_codes() -> None:
    assert set(TABLE) == set(SECTION_7)


@pytest.mark.parametrize(("code", "retry"), sorted(SECTION_7.items()), ids=str)
def test_retry_class_matches_section_7(code: int, retry: str) -> None:
    assert lookup(code).retry == retry


@pytest.mark.parametrize("entry", list(TABLE.values()), ids=lambda e: str(e.code))
def test_every_entry_is_well_formed(entry: ErrorCode) -> None:
    assert entry.title
    assert entry.explanation[0].isupper()
    assert entry.explanation.endswith(".")
    assert "\n" not in entry.explanation


def test_entries_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        lookup(131047).retry = "retry"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (131047, ("24 hours", "template")),
        (131026, ("cannot receive WhatsApp messages",)),
        (190, ("access token", "reconnect")),
        (0, ("access token", "reconnect")),
        (131049, ("24 hours",)),
    ],
    ids=["reengagement", "undeliverable", "token-expired", "auth-exception", "marketing-limit"],
)
def test_explanations_tell_the_agent_what_to_do(code: int, words: tuple[str, ...]) -> None:
    explanation = lookup(code).explanation
    for word in words:
        assert word in explanation


def test_131047_explanation_is_exact() -> None:
    assert lookup(131047).explanation == (
        "More than 24 hours have passed since the customer last wrote, so WhatsApp only allows an "
        "approved template. Send a template message."
    )


@pytest.mark.parametrize(
    ("code", "retry"),
    [(999999, "never"), (131999, "never"), (80001, "retry"), (80099, "retry")],
    ids=["unknown", "unknown-131xxx", "rate-family-80001", "rate-family-80099"],
)
def test_unknown_codes_get_a_generic_entry(code: int, retry: str) -> None:
    entry = lookup(code)
    assert entry.code == code
    assert entry.retry == retry
    assert entry.explanation == f"WhatsApp refused the message (error {code})"


@pytest.mark.parametrize("code", [201, 250, 299], ids=str)
def test_permission_range_resolves_to_200(code: int) -> None:
    entry = lookup(code)
    assert entry.code == code
    assert entry.retry == "never"
    assert entry.title == TABLE[200].title


@pytest.mark.parametrize(
    ("code", "http_status", "expected"),
    [
        (130429, 400, True),
        (131056, 400, True),
        (131057, 500, True),
        (133004, 503, True),
        (131000, 500, True),
        (131016, 500, True),
        (2, 503, True),
        (4, 400, True),
        (80007, 400, True),
        (1, 400, True),
        (131049, 400, True),
        (131048, 400, False),
        (131047, 400, False),
        (131026, 400, False),
        (190, 401, False),
        (0, 401, False),
        (100, 400, False),
        (132001, 404, False),
        (131045, 500, False),
        (133000, 500, False),
        (3, 500, False),
        (999999, 429, True),
        (999999, 502, True),
        (999999, 400, False),
        (999999, None, False),
        (None, 503, True),
        (None, 429, True),
        (None, 400, False),
        (None, None, False),
    ],
    ids=[
        "throughput", "pair-rate", "maintenance", "server-unavailable", "something-wrong",
        "service-unavailable", "api-service", "too-many-calls", "waba-rate", "api-unknown",
        "wait-marketing-limit", "spam-never-resent", "reengagement", "undeliverable", "token-expired",
        "auth", "invalid-param", "template-missing", "known-never-beats-500",
        "deregistration-beats-500", "api-method-beats-500", "unknown-429", "unknown-502",
        "unknown-400", "unknown-no-http", "no-code-503", "no-code-429", "no-code-400", "nothing",
    ],
)  # fmt: skip
def test_is_retryable(code: int | None, http_status: int | None, expected: bool) -> None:
    assert is_retryable(code, http_status) is expected


@pytest.mark.parametrize(
    ("code", "http_status", "is_transient", "expected"),
    [(999999, 400, True, True), (999999, 500, False, False), (131047, 400, True, False), (130429, 400, False, True)],
    ids=["unknown-says-transient", "unknown-says-permanent", "known-never-wins", "known-retry-wins"],
)
def test_meta_is_transient_flag_decides_for_codes_the_table_does_not_know(
    code: int, http_status: int, is_transient: bool, expected: bool
) -> None:
    assert is_retryable(code, http_status, is_transient) is expected


def test_the_spam_limit_is_explained_and_not_resent() -> None:
    entry = lookup(131048)
    assert entry.retry == "never" and "quality" in entry.explanation and "not resent" in entry.explanation


@pytest.mark.parametrize(
    ("code", "attempt", "seconds"),
    [
        (131056, 0, 1.0),
        (131056, 1, 4.0),
        (131056, 2, 16.0),
        (131056, 3, 64.0),
        (131056, 1000, 86400.0),
        (130429, 0, 1.0),
        (130429, 1, 2.0),
        (130429, 3, 8.0),
        (130429, 50, 60.0),
        (130429, -1, 1.0),
        (131049, 0, 86400.0),
        (131049, 5, 86400.0),
        (133015, 0, 300.0),
        (133016, 0, 259200.0),
        (133008, 0, WAIT_FALLBACK_SECONDS),
        (131000, 0, None),
        (2, 3, None),
        (131047, 0, None),
        (999999, 0, None),
    ],
    ids=[
        "pair-0", "pair-1", "pair-2", "pair-3", "pair-capped", "throughput-0", "throughput-1",
        "throughput-3", "throughput-capped", "throughput-negative", "marketing-0", "marketing-5",
        "recently-deleted", "register-limit", "spam-fallback", "something-wrong-default",
        "api-service-default", "never-code", "unknown",
    ],
)  # fmt: skip
def test_retry_after_seconds(code: int, attempt: int, seconds: float | None) -> None:
    assert retry_after_seconds(code, attempt) == seconds


def test_every_wait_code_has_a_longer_wait() -> None:
    for entry in TABLE.values():
        if entry.retry == "wait":
            wait = retry_after_seconds(entry.code, 0)
            assert wait is not None and wait >= 1.0, entry.code
