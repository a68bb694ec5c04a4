"""datagouv-dataset replayed on the recorded "Catalogue des données de data.gouv.fr" metadata.

The resource file itself was not recorded; tests/ingest/fixtures/datagouv_export_dataservice_
synthetic.csv stands in for it (two lines, same ``;`` CSV as the real export).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from connectors.datagouv_dataset import DatagouvDatasetParams, connector
from pydantic import ValidationError

from datahub.ingest.contract import FatalConnectorError, ProducedVersion

DATASET = "5d13a8b6634f41070a43dff3"
RID = "322d1475-f36a-472d-97ce-d218c8f79092"  # export-dataservice-20250407-061526.csv
STATIC = (
    "https://static.data.gouv.fr/resources/catalogue-des-donnees-de-data-gouv-fr/"
    "20250407-061526/export-dataservice-20250407-061526.csv"
)


def _handler(
    recorded: Path, local: Path, downloads: list[str], licence: str | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    meta = json.loads((recorded / f"data_gouv/dataset_{DATASET}.json").read_text())
    if licence:
        meta["license"] = licence

    def handler(request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.path == f"/api/1/datasets/{DATASET}/":
            return httpx.Response(200, json=meta)
        if url.path == "/api/1/datasets/no-such-dataset/":
            return httpx.Response(404, json={"message": "Not found", "status": 404})
        if url.path == f"/fr/datasets/r/{RID}":
            return httpx.Response(302, headers={"location": STATIC})
        if str(url) == STATIC:
            downloads.append(str(url))
            body = (local / "datagouv_export_dataservice_synthetic.csv").read_bytes()
            headers = {"content-type": "text/csv", "etag": '"67f37a0e-1913a2"'}
            return httpx.Response(200, headers=headers, content=body)
        raise AssertionError(f"unexpected request {url}")

    return handler


def test_imports_metadata_licence_and_resource(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    downloads: list[str] = []
    run = make_run(_handler(recorded, local_fixtures, downloads))
    params = DatagouvDatasetParams(dataset=DATASET, resource=RID, tags=["catalogue"])
    (version,) = list(connector.run(params, run.context))
    assert isinstance(version, ProducedVersion)
    assert version.dataset_id == "catalogue-des-donnees-de-data-gouv-fr"
    assert version.title == "Catalogue des données de data.gouv.fr"
    assert version.licence == "etalab-2.0"  # upstream "lov2", through the registry aliases
    assert version.attribution == "data.gouv.fr"
    assert version.kind == "generic"
    assert "catalogue" in version.tags
    assert (
        version.content
        == (local_fixtures / "datagouv_export_dataservice_synthetic.csv").read_bytes()
    )
    assert version.filename == "export-dataservice-20250407-061526.csv"
    assert version.media_type == "text/csv"
    assert version.provenance.source_urls == [
        "https://www.data.gouv.fr/fr/datasets/catalogue-des-donnees-de-data-gouv-fr/",
        STATIC,
    ]
    assert version.provenance.etag == '"67f37a0e-1913a2"'
    assert version.provenance.upstream_checksum == "sha1:0d7bb1d30a853949fb522fb7f8b330cbb9cf38c5"
    assert downloads == [STATIC]


def test_unknown_licence_stops_the_run(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    run = make_run(_handler(recorded, local_fixtures, [], licence="other-at"))
    with pytest.raises(FatalConnectorError, match="'other-at' has no alias"):
        list(connector.run(DatagouvDatasetParams(dataset=DATASET, resource=RID), run.context))
    # ...unless the caller names the registry licence.
    params = DatagouvDatasetParams(dataset=DATASET, resource=RID, licence="etalab-2.0")
    (version,) = list(connector.run(params, run.context))
    assert isinstance(version, ProducedVersion)
    assert version.licence == "etalab-2.0"


def test_unchanged_resource_is_not_downloaded(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    downloads: list[str] = []
    previous = {
        "catalogue-des-donnees-de-data-gouv-fr": "sha1:0d7bb1d30a853949fb522fb7f8b330cbb9cf38c5"
    }
    run = make_run(_handler(recorded, local_fixtures, downloads), previous=previous)
    assert (
        list(connector.run(DatagouvDatasetParams(dataset=DATASET, resource=RID), run.context)) == []
    )
    assert downloads == []


def test_default_resource_and_size_cap(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    run = make_run(_handler(recorded, local_fixtures, []))
    # The first main CSV is export-dataset (176 653 507 bytes in the recorded metadata).
    params = DatagouvDatasetParams(dataset=DATASET, max_bytes=100_000_000)
    with pytest.raises(FatalConnectorError, match="176653507 bytes"):
        list(connector.run(params, run.context))


def test_unknown_dataset_is_fatal(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    run = make_run(_handler(recorded, local_fixtures, []))
    with pytest.raises(FatalConnectorError, match="no dataset 'no-such-dataset'"):
        list(connector.run(DatagouvDatasetParams(dataset="no-such-dataset"), run.context))


def test_portal_points_at_another_udata_portal(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    assert str(DatagouvDatasetParams(dataset=DATASET).portal) == "https://www.data.gouv.fr/"
    run = make_run(_handler(recorded, local_fixtures, []))
    params = DatagouvDatasetParams(portal="https://demo.data.gouv.fr/", dataset="no-such-dataset")
    with pytest.raises(FatalConnectorError, match="https://demo.data.gouv.fr has no dataset"):
        list(connector.run(params, run.context))
    assert [str(r.url) for r in run.requests] == [
        "https://demo.data.gouv.fr/api/1/datasets/no-such-dataset/"
    ]
    with pytest.raises(ValidationError, match="portal"):
        DatagouvDatasetParams(portal="file:///etc/passwd", dataset=DATASET)


@pytest.mark.live
def test_live_small_resource(live_context: Any) -> None:
    # The catalogue's exports are replaced weekly: pick today's smallest one.
    meta = live_context.http.get(f"https://www.data.gouv.fr/api/1/datasets/{DATASET}/").json()
    smallest = min(meta["resources"], key=lambda r: r.get("filesize") or 10**12)
    params = DatagouvDatasetParams(dataset=DATASET, resource=smallest["id"])
    (version,) = list(connector.run(params, live_context))
    assert isinstance(version, ProducedVersion)
    assert version.licence == "etalab-2.0"
