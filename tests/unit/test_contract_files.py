"""Every contract sample file parses, names its source and holds named payload variants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"
EXPECTED_FILES = {
    "meta_messages.json",
    "meta_statuses.json",
    "meta_other_fields.json",
    "meta_not_webhooks.json",
    "helpdesk_webhooks.json",
}
LIST_VARIANTS = {("meta_not_webhooks.json", "array_top_level")}


def _load(name: str) -> dict[str, Any]:
    data = json.loads((CONTRACTS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{name}: top level must be an object of variants"
    return data


def test_expected_files_exist() -> None:
    assert EXPECTED_FILES <= {path.name for path in CONTRACTS.glob("*.json")}


@pytest.mark.parametrize("name", sorted(path.name for path in CONTRACTS.glob("*.json")))
def test_contract_file_shape(name: str) -> None:
    data = _load(name)
    source = data.get("_source")
    assert isinstance(source, str) and source.strip() and "\n" not in source, f"{name}: _source missing"
    variants = {key: value for key, value in data.items() if key != "_source"}
    assert variants, f"{name}: no variants"
    for variant, payload in variants.items():
        expected = list if (name, variant) in LIST_VARIANTS else dict
        assert isinstance(payload, expected), f"{name}#{variant} is {type(payload).__name__}"
