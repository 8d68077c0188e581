"""Contract samples: JSON files of named variants; `load(name)` gives {variant: payload}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load(name: str) -> dict[str, Any]:
    data = json.loads((HERE / f"{name}.json").read_text())
    data.pop("_source")
    return dict(data)
