"""docs/configuration.md lists every setting with its default, so it cannot fall behind config/defaults.env; the
README names the essentials and the two commands."""

from __future__ import annotations

from pathlib import Path

from adapter.settings import read_defaults

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()


def test_every_setting_is_in_the_configuration_doc_with_its_default() -> None:
    for name, default in read_defaults().items():
        shown = f"`{default}`" if default else "*(empty)*"
        assert f"| `{name}` | {shown} |" in CONFIGURATION, name


def test_the_readme_shows_the_two_commands_and_the_essential_settings() -> None:
    assert "make run" in README and "make test" in README
    for name in ("REDIS_URL", "META_APP_SECRET", "HELPDESK_BASE_URL", "PUBLIC_BASE_URL", "ENCRYPTION_KEY"):
        assert f"| `{name}` |" in README, name
