"""``datahub demo`` then the EPCI trajectory: 28 communes' worth of data and a target."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from datahub.cli import app
from datahub.demo.loader import DATA, EPCI, expected_total
from datahub.settings import Settings


def test_demo_loads_la_rochelle_and_is_idempotent(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATAHUB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DATAHUB_STORAGE_URL", settings.storage_url)

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network unreachable", request=request)

    # No network in tests: the IGN outlines cannot be fetched, and the demo says so in one line.
    monkeypatch.setattr(
        "datahub.ingest.runner.default_transport", lambda: httpx.MockTransport(offline)
    )
    runner = CliRunner()
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "the dashboard map stays empty; relancez `datahub demo`" in first.output
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0, second.output
    assert "0 object(s) created, 0 new dataset version(s)" in second.output

    communes = client.get("/api/v1/territories", params={"parent": EPCI, "page_size": 100}).json()
    codes = sorted(t["code"] for t in communes["data"])
    assert len(codes) == 28
    assert "commune:17300" in codes

    body = client.get(f"/api/v1/territories/{EPCI}/trajectory").json()
    years = [p["year"] for p in body["series"]]
    assert years == list(range(2012, 2023))
    y2019 = next(p for p in body["series"] if p["year"] == 2019)
    # The synthetic inventory's EPCI total (sum of its 28 × 8 commune rows) is what rolls up.
    assert y2019["emissions"] == pytest.approx(expected_total(2019), abs=0.01)
    assert 1_000_000 < y2019["emissions"] < 1_500_000
    # Sum of the 28 communes' own trajectories = the EPCI (nothing recorded at EPCI level).
    total = 0.0
    for code in codes:
        series = client.get(f"/api/v1/territories/{code}/trajectory").json()["series"]
        total += next(p["emissions"] for p in series if p["year"] == 2019)
    assert total == pytest.approx(y2019["emissions"], abs=0.1)
    # Land-use change (real ALDO data) makes the demo's LULUCF balance a net emission.
    assert y2019["sequestration"] < 0

    target = body["target"]
    assert (target["reference_year"], target["target_year"], target["target_net"]) == (
        2019,
        2040,
        0.0,
    )
    assert target["path"][-1] == {"year": 2040, "net": 0.0}
    titles = {
        d["id"]: d["title"]
        for d in client.get("/api/v1/datasets", params={"q": "Démo", "page_size": 50}).json()[
            "data"
        ]
    }
    assert titles
    assert all(title.startswith("[Démo]") for title in titles.values())
    # The restricted per-site dataset is not listed for anonymous callers, nor in sources.
    assert "demo-sites-industriels-la-rochelle" not in titles
    assert all(s["dataset"] != "demo-sites-industriels-la-rochelle" for s in body["sources"])


def test_demo_files_ship_with_the_package() -> None:
    with (DATA / "la-rochelle-communes-zpc.csv").open(encoding="utf-8-sig") as fh:
        assert len(list(csv.DictReader(fh))) == 28
