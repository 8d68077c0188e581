"""The plugin manifest (plugin_manifest/manifest.json): what the plugin is, serves, needs and is set with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_FILE = Path(__file__).resolve().parent.parent.parent / "plugin_manifest" / "manifest.json"


@dataclass(frozen=True)
class Webhook:
    name: str
    source: str
    url: str
    events: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Manifest:
    name: str
    title: str
    version: str
    dashboard_app_title: str
    dashboard_app_url: str
    console_url: str
    webhooks: tuple[Webhook, ...]
    settings: tuple[dict[str, Any], ...]


def _fill(template: str, public_base_url: str) -> str:
    return template.replace("{public_base_url}", public_base_url.rstrip("/"))


def load_manifest(public_base_url: str, path: Path = MANIFEST_FILE) -> Manifest:
    """The manifest with its URLs made absolute for this adapter's PUBLIC_BASE_URL."""
    raw = json.loads(path.read_text())
    app = raw["dashboard_app"]
    return Manifest(
        name=str(raw["name"]),
        title=str(raw["title"]),
        version=str(raw["version"]),
        dashboard_app_title=str(app["title"]),
        dashboard_app_url=_fill(str(app["url"]), public_base_url),
        console_url=_fill(str(raw["console_url"]), public_base_url),
        webhooks=tuple(
            Webhook(
                name=str(hook["name"]),
                source=str(hook["source"]),
                url=_fill(str(hook["url"]), public_base_url),
                events=tuple(str(e) for e in hook["events"]),
                description=str(hook.get("description", "")),
            )
            for hook in raw["webhooks"]
        ),
        settings=tuple(dict(item) for item in raw["settings"]),
    )
