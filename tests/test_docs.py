"""Every setting and every CLI command is documented in the README."""

from __future__ import annotations

from pathlib import Path

import typer

from aispend.cli import app
from aispend.settings import Settings

README = (Path(__file__).parents[1] / "README.md").read_text()


def command_paths(application: typer.Typer, prefix: str = "aispend") -> list[str]:
    paths = [f"{prefix} {command.name}" for command in application.registered_commands]
    for group in application.registered_groups:
        assert group.typer_instance is not None
        paths += command_paths(group.typer_instance, f"{prefix} {group.name}")
    return paths


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"AISPEND_{name.upper()}" in README, name


def test_every_command_is_documented() -> None:
    paths = command_paths(app)
    assert "aispend report spend" in paths
    for path in paths:
        assert path in README, path


def test_readme_opens_with_the_two_commands() -> None:
    head = README[:1500]
    assert "aispend demo" in head
    assert "pytest" in head or "make test" in head
