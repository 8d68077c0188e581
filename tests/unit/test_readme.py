"""The README lists every setting with its default, so it cannot fall behind config/defaults.env."""

from __future__ import annotations

from pathlib import Path

from adapter.settings import read_defaults

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    for name, default in read_defaults().items():
        shown = f"`{default}`" if default else "*(empty)*"
        assert f"| `{name}` | {shown} |" in README, name


def test_the_readme_shows_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
