"""meteofrance-climate: daily files found through data.gouv.fr, DJU from daily TN/TX.

No real daily ``Q_17_*_RR-T-Vent`` file and no ``/api/2/datasets/{id}/resources/`` page was ever
recorded (fixtures README, "Gaps"). The synthetic ones in tests/ingest/fixtures follow:
- the daily header quoted in the research note §2.1 and the field description
  shared/fixtures/connectors/meteo_france/Q_descriptif_champs_RR-T-Vent.csv (``;``, ``.`` decimal,
  quality codes, empty = missing); station ids/names/coordinates from the recorded station list;
- the data.gouv.fr paging envelope (recorded organisations page) and the resource shape
  (recorded resource_api1_placeholder_id.json).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from connectors.meteofrance_climate import (
    MeteoFranceClimateParams,
    connector,
    day_hdd,
    hdd_by_station_year,
)

from datahub.ingest.contract import ProducedVersion

DAILY_CSV = "meteofrance_Q_17_latest-2024-2025_RR-T-Vent_synthetic.csv"
OBJECT_URL = (
    "https://object.files.data.gouv.fr/meteofrance/data/synchro_ftp/BASE/QUOT/"
    "Q_17_latest-2024-2025_RR-T-Vent.csv.gz"
)
LATEST_RID = "00000000-0000-4000-8000-000000000173"


def _handler(local: Path, downloads: list[str]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.path == "/api/2/datasets/6569b51ae64326786e4e8e1a/resources/":
            page = url.params["page"]
            body = (
                local / f"datagouv_api2_resources_6569b51a_page{page}_synthetic.json"
            ).read_text()
            return httpx.Response(200, json=json.loads(body))
        if url.path == f"/fr/datasets/r/{LATEST_RID}":
            # data.gouv.fr's stable "latest" link redirects to the current file.
            return httpx.Response(302, headers={"location": OBJECT_URL})
        if str(url) == OBJECT_URL:
            downloads.append(str(url))
            # The published files are gzip-compressed; gzip the synthetic CSV the same way.
            gz = gzip.compress((local / DAILY_CSV).read_bytes())
            headers = {
                "content-type": "application/gzip",
                "etag": '"66f1a2b3-1a2b"',
                "last-modified": "Fri, 20 Jun 2025 06:00:00 GMT",
            }
            return httpx.Response(200, headers=headers, content=gz)
        raise AssertionError(f"unexpected request {request.method} {url}")

    return handler


def test_day_hdd_meteo_method() -> None:
    assert day_hdd(2.0, 8.0) == 13.0  # 18 − (2 + 8) / 2
    assert day_hdd(16.0, 24.0) == 0.0  # mean 20 °C: clipped at 0, never negative


def test_hdd_per_station_year_from_daily_rows(local_fixtures: Path) -> None:
    import csv

    rows = csv.DictReader((local_fixtures / DAILY_CSV).read_text().splitlines(), delimiter=";")
    totals = hdd_by_station_year(rows)
    # Station 17300009 in 2024, day by day, max(0, 18 − (TN + TX) / 2):
    #   01-01  TN  2.0 TX  8.0  mean  5.0  → 13.0
    #   01-02  TN 10.0 TX 20.0  mean 15.0  →  3.0
    #   01-05  TX missing                  → skipped
    #   01-06  QTX = 2 (doubtful)          → skipped (would have added 15.0)
    #   07-03  TN 16.0 TX 24.0  mean 20.0  →  0.0
    #   07-04  TN 17.5 TX 18.9  mean 18.2  →  0.0
    #   12-31  TN −1.3 TX  4.5  mean  1.6  → 16.4
    #   total 13.0 + 3.0 + 0 + 0 + 16.4 = 32.4 over 5 days.
    # From the mean of the daily means instead, (5 + 15 + 20 + 18.2 + 1.6) / 5 = 11.96, one would
    # get 5 × (18 − 11.96) = 30.2: the clipping at 0 is why DJU never come from monthly means.
    la_rochelle = totals[("17300009", 2024)]
    assert la_rochelle.hdd == pytest.approx(32.4)
    assert la_rochelle.days == 5
    assert totals[("17300009", 2025)].hdd == pytest.approx(11.1)  # 18 − (4.1 + 9.7) / 2
    assert totals[("17323001", 2024)].hdd == pytest.approx(10.2)  # 18 − (6.2 + 9.4) / 2


def test_run_finds_the_file_and_produces_a_climate_version(
    make_run: Callable[..., Any], local_fixtures: Path
) -> None:
    downloads: list[str] = []
    run = make_run(_handler(local_fixtures, downloads))
    # 1 % of 366 days = 3.66 days: only La Rochelle 2024 (5 valid days) is complete enough.
    params = MeteoFranceClimateParams(departement="17", min_coverage=0.01)
    (version,) = list(connector.run(params, run.context))
    assert isinstance(version, ProducedVersion)
    assert (
        version.content.decode() == "year,territory,station,hdd\n2024,commune:17300,17300009,32.4\n"
    )
    assert version.dataset_id == "climate-hdd-departement-17"
    assert version.kind == "climate"
    assert version.licence == "etalab-2.0"
    assert version.attribution == "Météo-France"
    assert version.territories == ["departement:17"]
    provenance = version.provenance
    assert provenance.source_urls == [f"https://www.data.gouv.fr/fr/datasets/r/{LATEST_RID}"]
    assert provenance.etag == '"66f1a2b3-1a2b"'
    assert provenance.last_modified == "Fri, 20 Jun 2025 06:00:00 GMT"
    assert provenance.upstream_checksum == "sha1:" + "4" * 40
    # Both resource pages were read (the file is on page 2), the history file was not fetched.
    pages = [r.url.params.get("page") for r in run.requests if "/api/2/" in r.url.path]
    assert pages == ["1", "2"]
    assert downloads == [OBJECT_URL]


def test_station_filter_and_coverage(make_run: Callable[..., Any], local_fixtures: Path) -> None:
    run = make_run(_handler(local_fixtures, []))
    params = MeteoFranceClimateParams(
        departement="17", stations=["17300009"], min_coverage=0.001, dataset_id="hdd-la-rochelle"
    )
    (version,) = list(connector.run(params, run.context))
    assert isinstance(version, ProducedVersion)
    assert version.content.decode().splitlines() == [
        "year,territory,station,hdd",
        "2024,commune:17300,17300009,32.4",
        "2025,commune:17300,17300009,11.1",
    ]


def test_unchanged_upstream_is_skipped(make_run: Callable[..., Any], local_fixtures: Path) -> None:
    downloads: list[str] = []
    run = make_run(
        _handler(local_fixtures, downloads),
        previous={"climate-hdd-departement-17": "sha1:" + "4" * 40},
    )
    assert list(connector.run(MeteoFranceClimateParams(departement="17"), run.context)) == []
    assert downloads == []


@pytest.mark.live
def test_live_charente_maritime(live_context: Any) -> None:
    params = MeteoFranceClimateParams(departement="17", stations=["17300009"])
    (version,) = list(connector.run(params, live_context))
    assert isinstance(version, ProducedVersion)
    assert b"17300009" in version.content
