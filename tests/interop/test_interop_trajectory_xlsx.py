"""Trajectories as XLSX: the same rows as the CSV, typed cells (contract §9)."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from datahub.demo.loader import EPCI
from datahub.runtime import Runtime


def test_trajectory_xlsx_matches_its_csv(demo: Runtime, client: TestClient) -> None:
    url = f"/api/v1/territories/{EPCI}/trajectory"
    as_csv = list(csv.reader(io.StringIO(client.get(f"{url}?format=csv").text)))
    response = client.get(
        url, headers={"Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    )
    assert response.status_code == 200
    assert 'rel="license"' in response.headers["link"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == as_csv[0] == ["year", "key", "value", "interpolated", "withheld"]
    assert len(rows) == len(as_csv) > 50
    emissions_2019 = next(r for r in rows if r[0] == 2019 and r[1] == "emissions")
    in_csv = next(r for r in as_csv if r[0] == "2019" and r[1] == "emissions")
    assert isinstance(emissions_2019[2], float)  # a number cell, not text
    assert emissions_2019[2] == float(in_csv[2])
