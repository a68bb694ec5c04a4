"""OGC API - Features read by GDAL (``ogrinfo OAPIF:``, ``ogr2ogr``) over a live server, and the
GeoJSON lists paged without truncation (contract §9)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from datahub.demo.loader import EPCI
from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.liveserver import LiveServer

needs_gdal = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL not installed")


def _gdal(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_landing_conformance_collections(client: TestClient) -> None:
    landing = client.get("/ogc").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conformance = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    collections = client.get("/ogc/collections").json()["collections"]
    assert [c["id"] for c in collections] == ["territories", "emissions"]
    assert client.get("/ogc/collections/nope/items").status_code == 404


def test_territory_items_page_filter_and_bbox(mapped_demo: Runtime, client: TestClient) -> None:
    base = "/ogc/collections/territories/items"
    first = client.get(f"{base}?level=commune&limit=10")
    assert first.headers["content-type"].startswith("application/geo+json")
    body = first.json()
    assert body["numberMatched"] == 28  # the demo's 28 communes of the CDA
    assert body["numberReturned"] == 10
    seen = [f["id"] for f in body["features"]]
    url = next(link["href"] for link in body["links"] if link["rel"] == "next")
    while url:
        page = client.get(url).json()
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == 28
    children = client.get(f"{base}?parent={EPCI}&limit=100").json()
    assert children["numberMatched"] == 28
    # A box around La Rochelle's centre keeps La Rochelle, and not the whole CDA.
    boxed = client.get(f"{base}?level=commune&bbox=-1.16,46.15,-1.14,46.17&limit=100").json()
    codes = {f["id"] for f in boxed["features"]}
    assert "commune:17300" in codes
    assert len(codes) < 28
    far = client.get(f"{base}?bbox=5,45,6,46").json()
    assert far["numberMatched"] == 0
    bad = client.get(f"{base}?bbox=1,2,3")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "bbox"


def test_emission_features_match_the_trajectories(mapped_demo: Runtime, client: TestClient) -> None:
    body = client.get(
        "/ogc/collections/emissions/items?parent=" + EPCI + "&limit=5&year=2019"
    ).json()
    assert body["numberReturned"] == 5
    for feature in body["features"]:
        code = feature["id"]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        props = feature["properties"]
        series = client.get(f"/api/v1/territories/{code}/trajectory").json()["series"]
        point = next(p for p in series if p["year"] == 2019)
        # The same numbers as the trajectory: the carbon service computed both.
        assert props["year"] == 2019
        assert props["emissions"] == point["emissions"]
        assert props["net"] == point["net"]
        assert props["residential"] == point["breakdown"].get("residential")


def test_emission_secrecy_as_in_trajectories(
    mapped_demo: Runtime, client: TestClient, admin: Persona
) -> None:
    """The demo's restricted industrial sites are aggregated under statistical secrecy: an
    anonymous reader and an admin get exactly what their trajectories give them."""
    for headers in ({}, admin.headers):
        body = client.get(
            f"/ogc/collections/emissions/items/{EPCI}?year=2019", headers=headers
        ).json()
        trajectory = client.get(f"/api/v1/territories/{EPCI}/trajectory", headers=headers).json()
        point = next(p for p in trajectory["series"] if p["year"] == 2019)
        assert body["properties"]["industry"] == point["breakdown"].get("industry")
        assert body["properties"]["emissions"] == point["emissions"]


def test_territories_geojson_pages_with_next_links(
    mapped_demo: Runtime, client: TestClient
) -> None:
    url: str | None = "/api/v1/territories?format=geojson&level=commune&page_size=12"
    seen: list[str] = []
    while url:
        body = client.get(url).json()
        assert body["numberMatched"] == 28
        seen += [f["id"] for f in body["features"]]
        url = body["links"]["next"]
    assert len(set(seen)) == 28


def test_self_intersecting_geometry_is_refused(client: TestClient, admin: Persona) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    response = client.post(
        "/api/v1/territories",
        json={"code": "commune:99999", "name": "Noeud", "level": "commune", "geometry": bowtie},
        headers=admin.headers,
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "geometry"
    assert "Self-intersection" in error["message"]
    assert client.get("/api/v1/territories/commune:99999").status_code == 404


@needs_gdal
def test_gdal_reads_both_collections_and_exports_them(
    mapped_demo: Runtime, live_server: LiveServer, tmp_path: Path
) -> None:
    source = f"OAPIF:{live_server.url}/ogc"
    listing = _gdal("ogrinfo", "-ro", "-q", source)
    assert "territories" in listing
    assert "emissions" in listing
    # Paging: GDAL asks pages of 10 and follows the next links through all the territories.
    matched = httpx.get(f"{live_server.url}/ogc/collections/territories/items?limit=1").json()
    summary = _gdal("ogrinfo", "-ro", "-so", "-oo", "PAGE_SIZE=10", source, "territories")
    assert f"Feature Count: {matched['numberMatched']}" in summary
    features = _gdal("ogrinfo", "-ro", "-oo", "PAGE_SIZE=10", source, "emissions")
    assert features.count("OGRFeature(emissions)") == matched["numberMatched"]
    assert "net (Real)" in features
    target = tmp_path / "hub.gpkg"
    _gdal(
        "ogr2ogr",
        "-f",
        "GPKG",
        "-oo",
        "PAGE_SIZE=10",
        str(target),
        source,
        "territories",
        "emissions",
    )
    with sqlite3.connect(target) as db:
        territories = db.execute("SELECT count(*) FROM territories").fetchone()[0]
        emissions = db.execute("SELECT count(*) FROM emissions").fetchone()[0]
        code = db.execute("SELECT name FROM emissions WHERE code = 'commune:17300'").fetchone()
    assert territories == emissions == matched["numberMatched"]
    assert code is not None
