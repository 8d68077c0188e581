"""TemplateRepository on a real, flushed Redis: atomic replace, lookups, webhook patches, removal."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis

from adapter.clock import ManualClock
from adapter.store import keys
from adapter.templates.model import Template
from adapter.templates.repository import TemplateRepository

WABA = "102290129340398"


def make(name: str, language: str = "en_US", template_id: str | None = None, **extra: Any) -> Template:
    return Template.from_graph({
        "id": template_id or f"id-{name}-{language}", "name": name, "language": language,
        "status": "APPROVED", "category": "UTILITY",
        "components": [{"type": "BODY", "text": f"Hello {{{{1}}}} from {name}."}], **extra,
    })


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_750_000_000.0)


@pytest.fixture
def repo(store: redis.Redis, clock: ManualClock) -> TemplateRepository:
    return TemplateRepository(store, clock=clock)


def test_replace_all_stores_everything_and_records_sync_time(repo: TemplateRepository, clock: ManualClock) -> None:
    assert repo.synced_at(WABA) is None
    templates = [make("b"), make("a", "pt_BR"), make("a")]
    repo.replace_all(WABA, templates)
    assert [(t.name, t.language) for t in repo.list(WABA)] == [("a", "en_US"), ("a", "pt_BR"), ("b", "en_US")]
    assert repo.get(WABA, "a", "pt_BR") == templates[1]
    assert repo.synced_at(WABA) == clock.now()


def test_replace_all_drops_templates_that_are_gone(repo: TemplateRepository, store: redis.Redis) -> None:
    repo.replace_all(WABA, [make("old"), make("kept")])
    repo.replace_all(WABA, [make("kept"), make("new")])
    assert [t.name for t in repo.list(WABA)] == ["kept", "new"]
    assert repo.get_by_id(WABA, "id-old-en_US") is None
    assert store.hlen(keys.template_ids(WABA)) == 2
    repo.replace_all(WABA, [])
    assert repo.list(WABA) == []
    assert repo.synced_at(WABA) is not None


def test_replace_all_is_atomic_for_readers(repo: TemplateRepository, store: redis.Redis) -> None:
    first = [make(f"t{i}") for i in range(300)]
    second = [make(f"u{i}") for i in range(300)]
    repo.replace_all(WABA, first)
    sizes: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        reader = TemplateRepository(store)  # redis-py clients are thread-safe: each command takes a pooled connection
        while not stop.is_set():
            sizes.add(len(reader.list(WABA)))

    thread = threading.Thread(target=read)
    thread.start()
    for _ in range(10):
        repo.replace_all(WABA, second)
        repo.replace_all(WABA, first)
    stop.set()
    thread.join()
    assert sizes == {300}  # never an empty or half-written catalogue


@pytest.mark.parametrize("language", ["en_US", "en-US", "EN_us", " en-us "])
def test_get_compares_language_case_insensitively_with_dash_as_underscore(
    repo: TemplateRepository, language: str
) -> None:
    repo.replace_all(WABA, [make("order_update")])
    found = repo.get(WABA, "order_update", language)
    assert found is not None
    assert found.language == "en_US"  # Meta's spelling is kept for the send


def test_get_unknown_is_none(repo: TemplateRepository) -> None:
    repo.replace_all(WABA, [make("a")])
    assert repo.get(WABA, "a", "pt_BR") is None
    assert repo.get(WABA, "b", "en_US") is None
    assert repo.get("other-waba", "a", "en_US") is None


def test_apply_status_by_id_with_rejection_reason(repo: TemplateRepository) -> None:
    repo.replace_all(WABA, [make("abandoned_cart", template_id="1689556908129835")])
    # message_template_id is an integer in webhooks (whatsapp.md §2.6)
    updated = repo.apply_status(WABA, "rejected", template_id=1689556908129835, reason="INVALID_FORMAT",
                                recommendation="Separate parameters with descriptive text.",
                                detail="Parameters are placed next to each other.")
    assert updated is not None
    stored = repo.get(WABA, "abandoned_cart", "en_US")
    assert stored == updated
    assert (stored.status, stored.rejected_reason) == ("REJECTED", "INVALID_FORMAT")
    reason = stored.blocked_reason()
    assert reason is not None and "Meta recommends: Separate parameters with descriptive text." in reason


def test_apply_status_by_name_and_webhook_language_spelling(repo: TemplateRepository) -> None:
    repo.replace_all(WABA, [make("welcome")])
    updated = repo.apply_status(WABA, "PAUSED", name="welcome", language="en-US")
    assert updated is not None and updated.status == "PAUSED"
    assert not repo.get(WABA, "welcome", "en_US").is_sendable  # type: ignore[union-attr]


def test_approval_clears_an_earlier_rejection(repo: TemplateRepository) -> None:
    repo.replace_all(WABA, [make("x")])
    repo.apply_status(WABA, "REJECTED", name="x", language="en_US", reason="SCAM", recommendation="r")
    approved = repo.apply_status(WABA, "APPROVED", name="x", language="en_US", reason="NONE")
    assert approved is not None
    assert (approved.status, approved.rejection_recommendation, approved.rejected_reason) == ("APPROVED", None, "NONE")
    assert approved.is_sendable


def test_apply_status_for_unknown_template_returns_none_and_stores_nothing(repo: TemplateRepository) -> None:
    repo.replace_all(WABA, [make("x")])
    assert repo.apply_status(WABA, "APPROVED", template_id="999") is None
    assert repo.apply_status(WABA, "APPROVED", name="y", language="en_US") is None
    assert [t.name for t in repo.list(WABA)] == ["x"]


def test_apply_without_a_template_reference_is_a_programming_error(repo: TemplateRepository) -> None:
    with pytest.raises(ValueError):
        repo.apply_status(WABA, "APPROVED", name="x")


def test_apply_quality_and_category(repo: TemplateRepository) -> None:
    repo.replace_all(WABA, [make("welcome_template", template_id="806312974732579")])
    assert repo.apply_quality(WABA, "yellow", template_id="806312974732579").quality_score == "YELLOW"  # type: ignore[union-attr]
    notice = repo.apply_category(WABA, "UTILITY", template_id="806312974732579", correct_category="MARKETING")
    assert notice is not None and (notice.category, notice.correct_category) == ("UTILITY", "MARKETING")
    done = repo.apply_category(WABA, "marketing", name="welcome_template", language="en_US")
    assert done is not None and (done.category, done.correct_category) == ("MARKETING", None)
    assert repo.get(WABA, "welcome_template", "en_US") == done


def test_concurrent_patches_do_not_lose_each_other(repo: TemplateRepository, store: redis.Redis) -> None:
    repo.replace_all(WABA, [make("busy", template_id="42")])
    other = TemplateRepository(store)
    threads = [
        threading.Thread(target=lambda: [repo.apply_quality(WABA, "RED", template_id="42") for _ in range(50)]),
        threading.Thread(target=lambda: [other.apply_status(WABA, "PAUSED", template_id="42") for _ in range(50)]),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = repo.get(WABA, "busy", "en_US")
    assert final is not None and (final.status, final.quality_score) == ("PAUSED", "RED")


def test_remove_one_language_by_id_or_all_languages_by_name(repo: TemplateRepository) -> None:
    repo.replace_all(WABA, [make("promo", "en_US", "1"), make("promo", "pt_BR", "2"), make("promo", "es", "3"),
                            make("other")])
    assert repo.remove(WABA, template_id="2") == 1
    assert repo.get(WABA, "promo", "pt_BR") is None
    assert repo.get_by_id(WABA, "2") is None
    assert repo.remove(WABA, name="promo") == 2
    assert [t.name for t in repo.list(WABA)] == ["other"]
    assert repo.remove(WABA, name="promo") == 0
    assert repo.remove(WABA, name="other", language="en-us") == 1
    assert repo.list(WABA) == []
