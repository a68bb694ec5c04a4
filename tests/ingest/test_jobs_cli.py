"""``datahub connectors list`` and ``datahub connectors run`` (replayed upstream)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.ingest.runner_replays import (
    EPCI,
    HUB_DATASET,
    DataGouv,
    la_rochelle_answers,
    snapshot,
    wfs_handler,
)
from typer.testing import CliRunner

from datahub.accounts import service as accounts
from datahub.catalog import repository
from datahub.cli import app
from datahub.ingest import runner
from datahub.runtime import Runtime
from datahub.settings import Settings
from datahub.territories import service as territories


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATAHUB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DATAHUB_STORAGE_URL", settings.storage_url)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables would wrap at 80 columns
    monkeypatch.chdir(Path(settings.storage_url.removeprefix("file://")).parent)  # no .env here
    return CliRunner()


def test_list_shows_all_six_with_parameters(cli: CliRunner) -> None:
    result = cli.invoke(app, ["connectors", "list"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name in (
        "datagouv-dataset",
        "geo-api",
        "ign-land-cover",
        "ign-territories",
        "meteofrance-climate",
        "sirene",
    ):
        assert name in out
    assert "territory: string (required)" in out
    assert "layers: string = 'ADMINEXPRESS-COG.LATEST'" in out
    assert "page_size: integer = 1000" in out
    assert "tags: list[string]" in out  # datagouv-dataset: a list, given comma-separated


def test_run_ign_territories_creates_the_tree(
    cli: CliRunner, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = la_rochelle_answers()
    monkeypatch.setattr(
        runner, "default_transport", lambda: httpx.MockTransport(wfs_handler(answers))
    )
    result = cli.invoke(
        app, ["connectors", "run", "ign-territories", "--param", f"territory=epci:{EPCI}"]
    )
    assert result.exit_code == 0, result.output
    assert "0 version(s), 32 territories, 0 actors" in result.stdout
    with runtime.transaction() as session:
        assert len(territories.scope(session, f"epci:{EPCI}")) == 29
        # The CLI ran as the connectors' organisation, created on first use.
        org = accounts.get_organization(session, "datahub-connectors")
        assert (org.name, org.member) == ("Connecteurs datahub", True)


def test_run_versions_list_params_and_failures(
    cli: CliRunner, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream = DataGouv()
    monkeypatch.setattr(runner, "default_transport", lambda: httpx.MockTransport(upstream.handler))
    args = ["connectors", "run", "datagouv-dataset", "-p", "dataset=5d13a8b6634f41070a43dff3"]
    args += ["-p", "resource=322d1475-f36a-472d-97ce-d218c8f79092", "-p", "tags=open data,cli"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert HUB_DATASET in result.stdout
    assert "1 version(s), 0 territories, 0 actors" in result.stdout
    with runtime.transaction() as session:
        dataset = repository.get(session, HUB_DATASET)
        assert dataset is not None
        assert dataset.organization_id == "datahub-connectors"
        assert {"open data", "cli"} <= set(dataset.tags)  # the list parameter, comma-separated

    # --org must name an existing organisation.
    unknown = cli.invoke(app, [*args, "--org", "nobody"])
    assert unknown.exit_code == 2  # a mistake on the command line
    # Bad parameters name the field (exit 2); a failed upstream exits 1 and stores nothing.
    bad = cli.invoke(app, ["connectors", "run", "ign-territories", "-p", "territory=x"])
    assert bad.exit_code == 2
    assert "params.territory" in bad.output
    before = snapshot(runtime)
    upstream.metadata_answers.append(httpx.Response(404, json={"message": "Not found"}))
    failed = cli.invoke(app, args)
    assert failed.exit_code == 1
    assert "data.gouv.fr has no dataset" in failed.output
    assert snapshot(runtime) == before
