"""data.gouv.fr's own DCAT harvester (the ``udata`` package) harvests the hub (contract §9).

udata runs as a separate process in a virtual environment of its own (``.ci/run`` makes
``.venv-udata`` from ``tests/interop/udata/requirements.txt`` and exports
``DATAHUB_UDATA_PYTHON``), with an in-memory MongoDB (``mongomock``) and data.gouv.fr's licence
list as its API serves it (``tests/data/connectors/data_gouv/datasets_licenses.json``). The
driver ``tests/interop/udata/harvest.py`` registers the catalogue URL as a DCAT harvest source,
runs udata's harvest job and prints what udata stored.

The hub runs the demo (with the synthetic outlines of ``mapped_demo``) and, beside it, one open
dataset per licence data.gouv.fr must map, a shared and a restricted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from datahub.accounts import service as accounts
from datahub.accounts.schemas import OrganizationCreate
from datahub.demo.loader import EPCI, ORG_NAME
from datahub.runtime import Runtime
from datahub.settings import Settings
from tests.conftest import Persona
from tests.liveserver import LiveServer, free_port, serve

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("udata") / "harvest.py"
LICENCES = ROOT / "tests/data/connectors/data_gouv/datasets_licenses.json"
PUBLISHER = "Grand Port maritime de La Rochelle"


@pytest.fixture
def udata_python() -> Path:
    """The udata venv's interpreter: skip without it locally, fail without it in CI (before the
    hub is set up)."""
    named = os.environ.get("DATAHUB_UDATA_PYTHON")
    python = Path(named) if named else ROOT / ".venv-udata/bin/python"
    if not python.exists():
        reason = f"no udata virtual environment at {python} (.ci/run makes it)"
        if named or os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return python


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, port: int) -> Settings:
    """The hub's links name the live server, as ``DATAHUB_BASE_URL`` does in production."""
    return settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"})


@pytest.fixture
def hub(mapped_demo: Runtime, port: int) -> Iterator[LiveServer]:
    yield from serve(mapped_demo, port)


def _dataset(client: TestClient, producer: Persona, spec: dict[str, Any]) -> str:
    created = client.post("/api/v1/datasets", json=spec, headers=producer.headers)
    assert created.status_code == 201, created.text
    body = b"year,territory,sector,value,unit\n2018,commune:17300,residential,12.5,tCO2e\n"
    uploaded = client.post(
        f"/api/v1/datasets/{spec['id']}/versions",
        content=body,
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    return str(spec["id"])


@pytest.fixture
def port_datasets(
    mapped_demo: Runtime, client: TestClient, make_user: Callable[..., Persona]
) -> dict[str, str]:
    """The port's datasets over La Rochelle, by id: hub licence id."""
    with mapped_demo.transaction() as session:
        accounts.create_organization(
            session, OrganizationCreate(id="port-atlantique", name=PUBLISHER, member=True)
        )
    producer = make_user("producer", "port-atlantique")
    licences = {
        "ges-port-odbl": "odbl-1.0",
        "ges-port-cc-by": "cc-by-4.0",
        "ges-port-lo": "lo-1.0",
        "ges-port-partage": "shared-charter-1.0",
        "ges-port-restreint": "restricted-1.0",
    }
    for dataset_id, licence in licences.items():
        _dataset(
            client,
            producer,
            {
                "id": dataset_id,
                "title": f"Émissions du port ({licence})",
                "description": "Inventaire des émissions du port",
                "licence": licence,
                "kind": "emissions",
                "territories": ["commune:17300"],
                "temporal_coverage": "2012/2018",
            },
        )
    return licences


def _harvest(python: Path, hub: LiveServer, folder: Path) -> dict[str, Any]:
    catalogue = f"{hub.url}/api/v1/catalog/dcat.jsonld"
    done = subprocess.run(
        [
            str(python),
            str(DRIVER),
            f"{catalogue}?profile=datagouv",  # the URL the README registers on data.gouv.fr
            "--licences",
            str(LICENCES),
            "--organisation",
            "Communauté d'agglomération de La Rochelle",
            "--preview",
            catalogue,  # the DCAT-AP 3 default, previewed: _default_profile_fails_in_udata
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        # udata's environment, not the project's; udata reads ./udata.cfg or $UDATA_SETTINGS.
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "UDATA_SETTINGS")},
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def _bounds(spatial: dict[str, Any]) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a MultiPolygon of one rectangle, from any corner."""
    assert spatial["type"] == "MultiPolygon"
    ((ring,),) = spatial["coordinates"]
    assert len(ring) == 5
    assert ring[0] == ring[-1]
    xs, ys = {x for x, _ in ring}, {y for _, y in ring}
    assert len(xs) == len(ys) == 2  # a rectangle along the axes
    return min(xs), min(ys), max(xs), max(ys)


def test_udata_harvests_the_hub(
    udata_python: Path, hub: LiveServer, port_datasets: dict[str, str], tmp_path: Path
) -> None:
    """One harvest (udata's start-up is the slow part), three readings of it."""
    harvested = _harvest(udata_python, hub, tmp_path)
    _datasets_as_described(harvested, hub)
    _resources_as_served(harvested, hub)
    _default_profile_fails_in_udata(harvested)


def _datasets_as_described(harvested: dict[str, Any], hub: LiveServer) -> None:
    # The job and each of its items: done, no error, nothing udata logged as a problem.
    assert harvested["status"] == "done", harvested
    assert harvested["errors"] == []
    for item in harvested["items"]:
        assert item["status"] == "done", item
        assert item["errors"] == [], item
        assert not [line for line in item["logs"] if line.startswith(("WARNING", "ERROR"))]
    stored = {d["remote_id"]: d for d in harvested["datasets"]}
    demo = {
        "demo-inventaire-ges-la-rochelle": "lov2",
        "demo-occupation-sols-la-rochelle": "lov2",
        "demo-changements-sols-la-rochelle": "lov2",
        "demo-facteurs-sequestration-aldo": "lov2",
    }
    port = {"ges-port-odbl": "odc-odbl", "ges-port-cc-by": "cc-by", "ges-port-lo": "fr-lo"}
    # Every open dataset, and only those: the demo's restricted site emissions, the port's
    # shared and restricted datasets are not in the anonymous catalogue udata reads.
    assert set(stored) == set(demo) | set(port)
    for remote_id, licence in {**demo, **port}.items():
        dataset = stored[remote_id]
        # udata's own licence ids, as data.gouv.fr's list names them (etalab-2.0 → lov2,
        # lo-1.0 → fr-lo, Licence Ouverte 1.0), never "notspecified".
        assert dataset["licence"] == licence, remote_id
        assert dataset["access_type"] == "open"
        assert dataset["private"] is False
        # The publisher's name (udata makes it a contact point of the source's organisation).
        publisher = ORG_NAME if remote_id in demo else PUBLISHER
        assert dataset["contact_points"] == [{"role": "publisher", "name": publisher}]
        assert dataset["remote_url"] == f"{hub.url}/datasets/{remote_id}"
        kind = "sequestration_factors" if "facteurs" in remote_id else None
        if remote_id == "demo-inventaire-ges-la-rochelle" or remote_id in port:
            kind = "emissions"
        if kind:
            assert dataset["schema"] == {"url": f"{hub.url}/api/v1/schemas/{kind}"}
    # Temporal coverage: the demo's yearly datasets cover 2012-2022, its factor table no year;
    # the port's "2012/2018" is the first and last day of those years.
    for remote_id in demo:
        coverage = stored[remote_id]["temporal_coverage"]
        if remote_id == "demo-facteurs-sequestration-aldo":
            assert coverage is None
        else:
            assert coverage == {"start": "2012-01-01", "end": "2022-12-31"}, remote_id
    for remote_id in port:
        assert stored[remote_id]["temporal_coverage"] == {
            "start": "2012-01-01",
            "end": "2018-12-31",
        }
    # Spatial coverage: the bounding box of the dataset's territory, one polygon of udata's
    # MultiPolygon. The demo covers the EPCI (mapped_demo's 0.2° square from -1.24, 46.10); the
    # port, La Rochelle (the 0.02° square from -1.16, 46.15).
    for remote_id in {**demo, **port}:
        expected = (
            (-1.24, 46.10, -1.04, 46.30) if remote_id in demo else (-1.16, 46.15, -1.14, 46.17)
        )
        assert _bounds(stored[remote_id]["spatial"]) == pytest.approx(expected), remote_id
    assert EPCI  # the demo's territory the datasets name


def _resources_as_served(harvested: dict[str, Any], hub: LiveServer) -> None:
    """Each harvested resource: its format and IANA media type; the original file's size and
    SHA-256 as udata stored them are those of the bytes the hub serves, anonymously."""
    for dataset in harvested["datasets"]:
        base = f"{hub.url}/api/v1/datasets/{dataset['remote_id']}"
        resources = {r["url"]: r for r in dataset["resources"]}
        assert set(resources) == {
            f"{base}/data?format=csv",
            f"{base}/data",
            f"{base}/versions/1/file",
        }
        rows, api, original = (
            resources[f"{base}/data?format=csv"],
            resources[f"{base}/data"],
            resources[f"{base}/versions/1/file"],
        )
        assert (rows["format"], rows["mime"]) == ("csv", "text/csv")
        assert (api["format"], api["mime"]) == ("json", "application/json")
        assert (original["format"], original["mime"]) == ("csv", "text/csv")
        assert rows["schema"] == dataset["schema"]
        for resource in resources.values():
            assert resource["type"] == "main"
            assert resource["extras"]["accessRights"] == [
                "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
            ]
        for url in resources:
            assert httpx.get(url, timeout=60).status_code == 200, url  # no 401 on data.gouv.fr
        body = httpx.get(original["url"], timeout=60).content
        assert original["filesize"] == len(body)
        assert original["checksum"] == {"type": "sha256", "value": hashlib.sha256(body).hexdigest()}


def _default_profile_fails_in_udata(harvested: dict[str, Any]) -> None:
    """Why data.gouv.fr registers ``profile=datagouv``: the default catalogue's
    ``spdx:checksumValue`` is typed ``xsd:hexBinary`` as the DCAT-AP 3 shapes require, which udata
    reads as bytes and refuses, failing every dataset with a file. If a udata upgrade makes this
    test fail, the profile can go."""
    ((url, preview),) = harvested["previews"].items()
    assert "profile" not in url
    assert preview["status"] == "done-errors"
    assert preview["items"]
    for item in preview["items"]:
        assert item["status"] == "failed"
        assert "checksum.value.StringField only accepts string values" in item["errors"][0]
