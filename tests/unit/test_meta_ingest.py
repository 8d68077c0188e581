"""jobs_from_webhook: every real sample becomes jobs, anything else is a precise 400; stored jobs read back."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from adapter import jsonfast
from adapter.errors import BadRequest
from adapter.meta.ingest import jobs_from_webhook
from adapter.queue.jobs import Job
from tests import contracts

SAMPLES = {
    f"{name}/{variant}": payload
    for name in ("meta_messages", "meta_statuses", "meta_other_fields")
    for variant, payload in contracts.load(name).items()
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_real_sample_becomes_jobs(name: str) -> None:
    assert jobs_from_webhook(SAMPLES[name])


@pytest.mark.parametrize("name", sorted(contracts.load("meta_not_webhooks")))
def test_what_is_not_a_webhook_is_refused_with_the_reason(name: str) -> None:
    with pytest.raises(BadRequest) as refused:
        jobs_from_webhook(contracts.load("meta_not_webhooks")[name])
    assert refused.value.message


@pytest.mark.parametrize(
    "value",
    [
        {"text": "half an emoji \ud83d"},
        {"id": 2**70},
        {"text": "héllo 👋", "n": -1.5e300},
    ],
)
def test_stored_json_reads_back_to_the_same_value(value: dict[str, Any]) -> None:
    assert json.loads(jsonfast.dumps(value)) == value


def test_a_job_reads_back_the_same_with_or_without_its_default_fields() -> None:
    fresh = Job("meta.message", "pnid:165055501", {"text": "héllo \ud83d", "n": 2**70})
    stored = fresh.to_json(enqueued_at=12.5)
    assert "attempt" not in stored and "last_error" not in stored
    assert Job.from_json(stored) == msgspec.structs.replace(fresh, enqueued_at=12.5)
    retried = fresh.retried("helpdesk down").retried("helpdesk down again")
    assert Job.from_json(retried.to_json()) == retried
