"""The plugin manifest matches what the adapter really serves and is configured with; signed links from the CLI;
which origins may deliver Embedded Signup's session info."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from adapter.console import links
from adapter.console.manifest import load_manifest
from adapter.console.signup import extra_message_origins
from adapter.settings import read_defaults
from tests.browser.world import SESSION_SECRET

ROOT = Path(__file__).resolve().parents[2]


def test_the_manifest_names_every_setting_the_version_and_served_urls(app: Any) -> None:
    manifest = load_manifest("https://wa.example.com/")
    declared = {s["name"] for s in manifest.settings}
    assert declared == set(read_defaults()), "declare each setting of config/defaults.env in the manifest"
    assert all(s["type"] in {"string", "integer", "number", "url", "enum"} for s in manifest.settings)
    assert manifest.version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert manifest.dashboard_app_url == "https://wa.example.com/app"
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for hook in manifest.webhooks:
        path = urlsplit(hook.url).path.replace("{phone_number_id}", "<phone_number_id>")
        assert path in rules, path
    assert "/app" in rules and "/admin/" in rules
    assert "phone_number_name_update" in manifest.webhooks[0].events


def test_flask_console_link_prints_a_link_that_verifies(store: Any) -> None:
    from adapter import create_app
    from tests.browser.world import console_settings

    app = create_app(console_settings(None, None), store=store)
    output = app.test_cli_runner().invoke(args=["console", "link", "--subject", "ops", "--minutes", "5"]).output
    url = urlsplit(output.strip())
    assert url.path == "/admin/login/link"
    link = links.verify_link(SESSION_SECRET, dict(parse_qsl(url.query)), scope="console", now=app.extensions[
        "adapter"].clock.now())  # fmt: skip
    assert link.subject == "ops"
    too_long = app.test_cli_runner().invoke(args=["console", "link", "--minutes", "100000"])
    assert too_long.exit_code != 0 and "at most 24 hours" in too_long.output


def test_only_facebook_origins_are_trusted_unless_the_sdk_is_a_loopback_stand_in() -> None:
    assert extra_message_origins("https://connect.facebook.net/en_US/sdk.js", "https://wa.example.com") == []
    assert extra_message_origins("http://127.0.0.1:5000/en_US/sdk.js", "http://127.0.0.1:8080") == [
        "http://127.0.0.1:8080", "http://127.0.0.1:5000"]  # fmt: skip
