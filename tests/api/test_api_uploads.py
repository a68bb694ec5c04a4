"""Uploads and reads as a producer and an analyst would do them (contract §3)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from datahub.app import create_app
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings
from tests.conftest import Persona
from tests.s3server import S3Server


@pytest.fixture
def producer(make_user: Callable[..., Persona]) -> Persona:
    return make_user("producer", "cda-la-rochelle", member=True)


def new_dataset(
    client: TestClient,
    who: Persona,
    kind: str = "emissions",
    licence: str = "lov2",
    dataset_id: str = "inventaire",
) -> str:
    response = client.post(
        "/api/v1/datasets",
        json={
            "id": dataset_id,
            "title": "Inventaire territorial",
            "licence": licence,
            "kind": kind,
        },
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return dataset_id


def upload(
    client: TestClient, who: Persona, dataset_id: str, body: bytes, content_type: str = "text/csv"
) -> httpx.Response:
    return client.post(
        f"/api/v1/datasets/{dataset_id}/versions",
        content=body,
        headers={**who.headers, "Content-Type": content_type},
    )


FRENCH_CSV = (
    "year;territory;sector;value;unit;commentaire\r\n2019;commune:17300;résidentiel;;tCO2e;x\r\n"
).encode("cp1252")


def test_french_csv_round_trip(client: TestClient, producer: Persona) -> None:
    """A Windows-1252, ';'-separated CSV with decimal commas reads back as the same numbers."""
    dataset_id = new_dataset(client, producer)
    body = (
        "year;territory;sector;value;unit;commentaire\r\n"
        "2019;commune:17300;residential;1234,5;tCO2e;chauffage été\r\n"
        "2019;commune:17300;industry;-0,25;ktCO2e;=SOMME(A1:A2)\r\n"
        "2020;commune:17028;tertiary;1 000,75;tCO2e;Aytré\r\n"
    ).encode("cp1252")
    response = upload(client, producer, dataset_id, body)
    assert response.status_code == 201, response.text
    version = response.json()
    assert version["row_count"] == 3
    assert version["report"]["dialect"]["delimiter"] == ";"
    assert version["sha256"] == hashlib.sha256(body).hexdigest()

    rows = client.get(f"/api/v1/datasets/{dataset_id}/data").json()
    assert [r["value"] for r in rows["data"]] == [1234.5, -0.25, 1000.75]
    assert rows["data"][2]["commentaire"] == "Aytré"
    assert rows["meta"]["licence"] == "etalab-2.0"

    french = client.get(f"/api/v1/datasets/{dataset_id}/data?format=csv&dialect=fr")
    assert french.headers["link"].endswith('rel="license"')
    text = french.content.decode("utf-8-sig")
    parsed = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [r["value"] for r in parsed] == ["1234,5", "-0,25", "1000,75"]
    # A cell that would start a formula is neutralised, a negative number is not.
    assert parsed[1]["commentaire"] == "'=SOMME(A1:A2)"

    original = client.get(f"/api/v1/datasets/{dataset_id}/versions/1/file")
    assert original.content == body
    assert original.headers["x-checksum-sha256"] == hashlib.sha256(body).hexdigest()


def _emissions_csv(rows: int, bad_row: int | None = None) -> bytes:
    lines = ["year,territory,sector,value,unit"]
    for i in range(1, rows + 1):
        value = "abc" if i == bad_row else f"{i}.5"
        lines.append(f"{2000 + i % 30},commune:17300,residential,{value},tCO2e")
    return ("\n".join(lines) + "\n").encode()


def test_broken_upload_names_row_and_field_and_keeps_previous_version(
    client: TestClient, producer: Persona, runtime: Runtime
) -> None:
    dataset_id = new_dataset(client, producer)
    first = _emissions_csv(10)
    assert upload(client, producer, dataset_id, first).status_code == 201
    stored_before = list(runtime.storage.list_keys())

    broken = upload(client, producer, dataset_id, _emissions_csv(100_000, bad_row=50_001))
    assert broken.status_code == 422
    problem = broken.json()
    assert broken.headers["content-type"].startswith("application/problem+json")
    assert {"row": 50_001, "field": "value"} == {
        k: problem["errors"][0][k] for k in ("row", "field")
    }

    meta = client.get(f"/api/v1/datasets/{dataset_id}").json()
    assert meta["current_version"] == 1
    assert [
        v["number"] for v in client.get(f"/api/v1/datasets/{dataset_id}/versions").json()["data"]
    ] == [1]
    assert client.get(f"/api/v1/datasets/{dataset_id}/versions/1/file").content == first
    data = client.get(f"/api/v1/datasets/{dataset_id}/data").json()
    assert data["meta"]["total"] == 10
    # The file went to storage while its rows were read: the refusal deleted it again.
    assert list(runtime.storage.list_keys()) == stored_before


def test_versions_multipart_and_idempotent_reupload(client: TestClient, producer: Persona) -> None:
    dataset_id = new_dataset(client, producer, kind="generic", dataset_id="compteurs")
    v1 = b"site,kwh\nA,1\n"
    v2 = b"site,kwh\nA,1\nB,2\n"
    assert upload(client, producer, dataset_id, v1).status_code == 201
    multipart = client.post(
        f"/api/v1/datasets/{dataset_id}/versions",
        files={"file": ("../../etc/compteurs\x07.csv", v2, "text/csv")},
        headers=producer.headers,
    )
    assert multipart.status_code == 201, multipart.text
    assert multipart.json()["number"] == 2
    stored_name = multipart.json()["filename"]
    assert stored_name.startswith("compteurs")
    assert stored_name.endswith(".csv")
    assert "/" not in stored_name
    assert ".." not in stored_name
    assert "\x07" not in stored_name
    again = upload(client, producer, dataset_id, v2)
    assert again.status_code == 200
    assert again.json()["number"] == 2
    assert client.get(f"/api/v1/datasets/{dataset_id}/data?version=1").json()["meta"]["total"] == 1
    assert client.get(f"/api/v1/datasets/{dataset_id}/data").json()["meta"]["total"] == 2
    assert client.get(f"/api/v1/datasets/{dataset_id}/versions/1/file").content == v1
    assert client.get(f"/api/v1/datasets/{dataset_id}/versions/3/file").status_code == 404


def test_formats_json_geojson_xlsx_parquet(client: TestClient, producer: Persona) -> None:
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    dataset_id = new_dataset(client, producer, kind="generic", dataset_id="multi")
    json_body = b'[{"site": "A", "kwh": 1.5}, {"site": "B", "kwh": null}]'
    assert upload(client, producer, dataset_id, json_body, "application/json").status_code == 201
    geo = (
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"site":"C"},'
        b'"geometry":{"type":"Point","coordinates":[-1.15,46.16]}}]}'
    )
    assert upload(client, producer, dataset_id, geo, "application/geo+json").status_code == 201
    assert client.get(f"/api/v1/datasets/{dataset_id}/data").json()["data"][0]["site"] == "C"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["site", "kwh"])
    sheet.append(["D", 4.25])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert upload(client, producer, dataset_id, buffer.getvalue(), xlsx).status_code == 201
    assert client.get(f"/api/v1/datasets/{dataset_id}/data").json()["data"] == [
        {"site": "D", "kwh": 4.25}
    ]
    sink = io.BytesIO()
    pq.write_table(pa.table({"site": ["E", "F"], "kwh": [5, 6]}), sink)
    assert (
        upload(
            client, producer, dataset_id, sink.getvalue(), "application/vnd.apache.parquet"
        ).status_code
        == 201
    )
    assert client.get(f"/api/v1/datasets/{dataset_id}/data?sort=-kwh").json()["data"][0] == {
        "site": "F",
        "kwh": 6,
    }


def test_filters_sort_and_keyset_pagination(client: TestClient, producer: Persona) -> None:
    dataset_id = new_dataset(client, producer, kind="generic", dataset_id="mesures")
    lines = ["site,kwh,zone"] + [
        f"S{i:03d},{i % 7},{'nord' if i % 2 else ''}" for i in range(1, 101)
    ]
    assert upload(client, producer, dataset_id, "\n".join(lines).encode()).status_code == 201
    base = f"/api/v1/datasets/{dataset_id}/data"

    def total(query: str) -> int:
        response = client.get(f"{base}?{query}")
        assert response.status_code == 200, response.text
        return int(response.json()["meta"]["total"])

    # kwh = i mod 7 over i = 1..100: residue 0 for 14 values (7..98), residues 1-2 for 15 each.
    assert total("kwh__exact=0") == 14
    assert total("kwh__in=1,2") == 30
    assert total("kwh__notin=1,2") == 70
    # greater/less are inclusive as in api-tabular (contract §9): residues 0-1 and 5-6.
    assert total("kwh__less=1") == 29
    assert total("kwh__greater=5") == 28
    assert total("kwh__strictly_less=1") == 14
    assert total("kwh__strictly_greater=5") == 14
    assert total("kwh__differs=0") == 86
    assert total("site__contains=s01") == 10  # S010..S019
    assert total("zone__isnull=true") == 50
    assert total("zone__exact=nord&kwh__exact=0") == 7

    seen: list[str] = []
    url: str | None = f"{base}?sort=-kwh&page_size=9"
    while url:
        page = client.get(url).json()
        seen.extend(r["site"] for r in page["data"])
        url = page["links"]["next"]
    assert sorted(seen) == sorted(f"S{i:03d}" for i in range(1, 101))
    assert len(seen) == 100
    kwh = {f"S{i:03d}": i % 7 for i in range(1, 101)}
    assert [kwh[s] for s in seen] == sorted(kwh.values(), reverse=True)

    for bad in ("nope__exact=1", "kwh__like=1", "kwh__less=abc", "sort=nope", "junk=1"):
        response = client.get(f"{base}?{bad}")
        assert response.status_code == 422, (bad, response.text)
    assert client.get(f"{base}?after=%%%").status_code == 400
    injected = client.get(f"{base}?site__exact=' OR 1=1 --").json()
    assert injected["meta"]["total"] == 0


def test_upload_limits(
    database_url: str, tmp_path: Path, make_user: Callable[..., Persona], runtime: object
) -> None:
    settings = Settings(
        database_url=database_url,
        storage_url=f"file://{tmp_path}/f",
        max_upload_mb=1,
        _env_file=None,  # type: ignore[call-arg]
    )
    small = build_runtime(settings)
    producer = make_user("producer", "cda-la-rochelle", member=True)
    with TestClient(create_app(runtime=small)) as client:
        dataset_id = new_dataset(client, producer, kind="generic", dataset_id="gros")
        big = b"a,b\n" + b"1,2\n" * 400_000
        response = upload(client, producer, dataset_id, big)
        assert response.status_code == 413

        def chunks() -> Iterator[bytes]:
            yield b"a,b\n"
            for _ in range(300):
                yield b"1,2\n" * 1000

        streamed = client.post(
            f"/api/v1/datasets/{dataset_id}/versions",
            content=chunks(),
            headers={**producer.headers, "Content-Type": "text/csv"},
        )
        assert streamed.status_code == 413
        assert client.get(f"/api/v1/datasets/{dataset_id}").json()["current_version"] is None
    small.close()


def test_s3_storage_through_the_api(
    database_url: str, s3_server: S3Server, make_user: Callable[..., Persona]
) -> None:
    settings = Settings(
        database_url=database_url,
        storage_url=f"s3://{s3_server.bucket}/instance-{database_url[-8:]}",
        s3_endpoint_url=s3_server.endpoint_url,
        _env_file=None,  # type: ignore[call-arg]
    )
    s3_runtime = build_runtime(settings)
    producer = make_user("producer", "cda-la-rochelle", member=True)
    body = _emissions_csv(500)
    with TestClient(create_app(runtime=s3_runtime)) as client:
        dataset_id = new_dataset(client, producer)
        assert upload(client, producer, dataset_id, body).status_code == 201
        fetched = client.get(f"/api/v1/datasets/{dataset_id}/versions/1/file")
        assert fetched.content == body
    objects = s3_server.client().list_objects_v2(
        Bucket=s3_server.bucket, Prefix=f"instance-{database_url[-8:]}/datasets/{dataset_id}/"
    )
    assert [o["Size"] for o in objects["Contents"]] == [len(body)]
    s3_runtime.close()
