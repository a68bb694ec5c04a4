"""Mistakes on the command line: one line saying what is wrong and how to fix it, exit 2, never
a traceback; ``datahub users token``; ``datahub init`` keeps the admin's token if a fetch fails."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from datahub.accounts import service
from datahub.cli import app
from datahub.db.models import AuditEvent
from datahub.ingest import runner
from datahub.runtime import Runtime
from tests.foundation.test_foundation_docs import _commands

# Each command with a mistake a newcomer makes, and a word the one-line answer must contain.
MISTAKES: dict[str, tuple[list[str], str]] = {
    "datahub serve": (["serve", "--port", "80000"], "port"),
    "datahub db upgrade": (["db", "upgrade", "no-such-revision"], "revision"),
    "datahub orgs create": (["orgs", "create", "CDA La Rochelle", "--name", "CDA"], "slug"),
    "datahub users create": (
        ["users", "create", "ana@cda", "--org", "cda", "--role", "producer"],
        "e-mail",
    ),
    "datahub users token": (["users", "token", "nobody@cda.example.org"], "users create"),
    "datahub users invite": (["users", "invite", "nobody@cda.example.org"], "nobody@cda"),
    "datahub connectors list": (["connectors", "list", "extra"], "extra"),
    "datahub connectors run": (["connectors", "run", "ign"], "ign-territories"),
    "datahub worker": (["worker", "--poll-interval", "0"], "poll-interval"),
    "datahub audit verify": (["audit", "verify", "--fix"], "--fix"),
    "datahub audit seal": (["audit", "seal", "--key", "k.pem"], "--key"),
    "datahub export": (["export", "."], "not empty"),
    "datahub import": (["import", "no-such-folder"], "no-such-folder"),
    "datahub demo": (["demo", "now"], "now"),
    "datahub carbon reindex": (["carbon", "reindex", "all"], "all"),
    "datahub init": (["init", "--territory", "241700434", "--name", "CDA"], "epci:241700434"),
}

# More mistakes on the same commands (the ones the issue names).
MORE: list[tuple[list[str], str]] = [
    (["orgs", "create", "cda", "--name", "CDA", "--siren", "24170043"], "9 digits"),
    (["users", "create", "ana@cda.example.org", "--org", "nope", "--role", "producer"], "nope"),
    (["users", "create", "ana@cda.example.org", "--org", "cda", "--role", "boss"], "analyst"),
    (["users", "create", "ana@cda.example.org", "--org", "CDA LR", "--role", "producer"], "CDA"),
    (["connectors", "run", "geo-api", "--param", "epci"], "key=value"),
    (["init", "--territory", "17300", "--name", "CDA"], "commune:17300"),
    (["init", "--territory", "epci:241700434", "--name", "X", "--from-file", "nope.json"], "nope"),
    (["serve", "--workers", "0"], "workers"),
]


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("DATAHUB_STORAGE_URL", f"file://{tmp_path / 'files'}")
    (tmp_path / "something").write_text("makes the folder non-empty for `datahub export .`")
    return CliRunner()


def _assert_usage_error(result: Result, word: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert word.lower() in result.output.lower(), result.output


def test_every_command_answers_a_mistake_with_one_line_and_exit_2(cli: CliRunner) -> None:
    assert set(_commands(app)) == set(MISTAKES), "give each new command a mistake here"
    assert cli.invoke(app, ["orgs", "create", "cda", "--name", "CDA"]).exit_code == 0
    for args, word in [*MISTAKES.values(), *MORE]:
        _assert_usage_error(cli.invoke(app, args), word)


def test_our_own_answers_are_one_line(cli: CliRunner) -> None:
    result = cli.invoke(app, ["orgs", "create", "cda", "--name", "CDA", "--siren", "123"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: --siren '123' is not valid: a SIREN is 9 digits"), lines


def test_users_token_issues_a_new_working_token_audited(cli: CliRunner, runtime: Runtime) -> None:
    assert cli.invoke(app, ["orgs", "create", "cda", "--name", "CDA"]).exit_code == 0
    created = cli.invoke(app, ["users", "create", "ana@cda.fr", "--org", "cda", "--role", "admin"])
    first = created.stdout.strip().splitlines()[-1]
    again = cli.invoke(app, ["users", "token", "ana@cda.fr"])
    assert again.exit_code == 0, again.output
    second = again.stdout.strip().splitlines()[-1]
    assert second.startswith("dh_")
    assert second != first
    with runtime.transaction() as session:
        assert service.authenticate(session, second).email == "ana@cda.fr"
        assert service.authenticate(session, first).email == "ana@cda.fr"  # still valid
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "token.create").order_by(AuditEvent.seq)
        ).all()
    # One token.create per token, through the same service as the API's.
    assert [(e.detail["user"], e.detail["via"]) for e in events] == [("ana@cda.fr", "cli")] * 2


def test_init_prints_the_token_before_a_failed_fetch_and_suggests_from_file(
    cli: CliRunner, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The network edge: an intranet proxy refusing the IGN Géoplateforme.
    blocked = httpx.MockTransport(lambda request: httpx.Response(403, text="blocked by proxy"))
    monkeypatch.setattr(runner, "default_transport", lambda: blocked)
    args = ["init", "--territory", "epci:241700434", "--name", "CDA La Rochelle"]
    failed = cli.invoke(app, args)
    assert failed.exit_code == 1
    assert "Traceback" not in failed.output
    assert "--from-file" in failed.stderr
    token = failed.stdout.strip().splitlines()[-1]
    assert token.startswith("dh_")
    with runtime.transaction() as session:  # the instance is usable: its admin's token works
        assert service.authenticate(session, token).role == "admin"
    rerun = cli.invoke(app, args)
    assert "datahub users token admin@datahub.example" in rerun.stderr
