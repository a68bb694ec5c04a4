"""The README documents every setting, CLI command, licence and connector (a gap fails)."""

from __future__ import annotations

from pathlib import Path

import typer

from datahub.cli import app
from datahub.ingest import registry
from datahub.licensing.registry import LicenceRegistry
from datahub.resources import shipped_folder
from datahub.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [name for name in Settings.model_fields if f"`DATAHUB_{name.upper()}`" not in README]
    assert not missing, f"settings missing from README: {missing}"


def _commands(group: typer.Typer, prefix: str = "datahub") -> list[str]:
    found = []
    for command in group.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        found.append(f"{prefix} {name.replace('_', '-')}")
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        found += _commands(sub.typer_instance, f"{prefix} {sub.name}")
    return found


def test_every_command_is_in_the_command_table() -> None:
    commands = _commands(app)
    assert "datahub serve" in commands
    assert "datahub audit verify" in commands
    missing = [c for c in commands if f"`{c}" not in README]
    assert not missing, f"commands missing from README: {missing}"


def test_every_licence_and_connector_is_named() -> None:
    licences = [lic.id for lic in LicenceRegistry.load(shipped_folder("licenses")).all()]
    assert len(licences) >= 6
    connectors = [c.name for c in registry.all()]
    assert len(connectors) == 6
    missing = [name for name in licences + connectors if f"`{name}`" not in README]
    assert not missing, f"missing from README: {missing}"
