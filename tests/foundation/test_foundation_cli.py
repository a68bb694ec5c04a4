"""The command line: orgs and users, with the token alone on the last line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from datahub.accounts import service
from datahub.cli import app
from datahub.runtime import Runtime


def test_users_create_prints_a_working_token(
    database_url: str, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAHUB_DATABASE_URL", database_url)
    runner = CliRunner()
    result = runner.invoke(app, ["orgs", "create", "cda-lr", "--name", "CDA", "--member"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["users", "create", "ana@cda.example.org", "--org", "cda-lr", "--role", "producer"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("dh_")
    with runtime.transaction() as session:
        caller = service.authenticate(session, token)
    assert (caller.email, caller.organization_id, caller.role) == (
        "ana@cda.example.org",
        "cda-lr",
        "producer",
    )
    assert caller.organization_member is True
    duplicate = runner.invoke(app, ["orgs", "create", "cda-lr", "--name", "again"])
    assert duplicate.exit_code == 2  # a mistake on the command line (exists already)
    bad_role = runner.invoke(
        app, ["users", "create", "x@y.org", "--org", "cda-lr", "--role", "boss"]
    )
    assert bad_role.exit_code == 2
