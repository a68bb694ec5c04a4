"""Oracles (issue 12, contract §5b): what a caller who may see a dataset but not read its data
learns of the bytes — no SHA-256, no exact size, no dialect, on any path — and what errors
tell a caller about rows they may not read: nothing."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import EPCI, build_carbon_world
from tests.conftest import Persona

SECRET_CSV = b"site;kwh\nusine-nord;1234,5\nusine-sud;17\n"


def _restricted(client: TestClient, producer: Persona) -> dict[str, object]:
    created = client.post(
        "/api/v1/datasets",
        json={"id": "secret", "title": "Compteurs", "licence": "restricted-1.0", "kind": "generic"},
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    uploaded = client.post(
        "/api/v1/datasets/secret/versions",
        content=SECRET_CSV,
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    version: dict[str, object] = uploaded.json()
    return version


def _says_nothing_of_the_bytes(response: httpx.Response, sha256: str) -> None:
    assert sha256 not in response.text
    for name, value in response.headers.items():
        assert sha256 not in value, name
        assert sha256[:16] not in value, name
    assert "etag" not in response.headers
    assert "repr-digest" not in response.headers
    assert "x-checksum-sha256" not in response.headers


def test_a_caller_who_may_not_read_the_data_learns_nothing_of_its_bytes(
    client: TestClient, producer: Persona, make_user: Callable[..., Persona]
) -> None:
    version = _restricted(client, producer)
    sha256 = str(version["sha256"])
    assert version["size"] == len(SECRET_CSV)
    outsider = make_user("analyst", "bureau-etudes")

    listed = client.get("/api/v1/datasets/secret/versions", headers=outsider.headers)
    assert listed.status_code == 200, listed.text  # metadata is visible to any signed-in caller
    (seen,) = listed.json()["data"]
    assert seen["sha256"] is None
    assert seen["size"] is None
    assert "dialect" not in seen["report"]
    assert "stored_sha256" not in seen["report"]
    assert seen["row_count"] == 2  # not the bytes: kept
    _says_nothing_of_the_bytes(listed, sha256)

    for path in (
        "/api/v1/datasets/secret",
        "/api/v1/datasets?q=Compteurs",
        "/api/v1/catalog/dcat",
        "/api/v1/datasets/secret/data",
        "/api/v1/datasets/secret/data?format=csv",
        "/api/v1/datasets/secret/versions/1/file",
    ):
        response = client.get(path, headers=outsider.headers)
        assert response.status_code in (200, 403), (path, response.text)
        _says_nothing_of_the_bytes(response, sha256)


def test_readers_still_see_the_bytes_metadata(
    client: TestClient, producer: Persona, make_user: Callable[..., Persona]
) -> None:
    version = _restricted(client, producer)
    sha256 = str(version["sha256"])
    grantee = make_user("analyst", "bureau-etudes")
    for who in (producer, grantee):
        if who is grantee:
            granted = client.post(
                "/api/v1/datasets/secret/grants",
                json={"organization": "bureau-etudes"},
                headers=producer.headers,
            )
            assert granted.status_code == 201, granted.text
        (seen,) = client.get("/api/v1/datasets/secret/versions", headers=who.headers).json()["data"]
        assert seen["sha256"] == sha256
        assert seen["size"] == len(SECRET_CSV)
        assert seen["report"]["dialect"]["delimiter"] == ";"
        data = client.get("/api/v1/datasets/secret/data", headers=who.headers)
        assert data.json()["meta"]["sha256"] == sha256
        file = client.get("/api/v1/datasets/secret/versions/1/file", headers=who.headers)
        assert file.headers["etag"] == f'"{sha256}"'
        assert file.content == SECRET_CSV


def test_a_trajectory_error_never_quotes_a_row_the_caller_may_not_read(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> None:
    """A confidential activity row (litres of "fioul-lourd-site-7") meets a per-kWh factor
    published later: the trajectory cannot be computed. Its producer hears which row and why;
    a signed-in outsider hears only the dataset's id; an anonymous caller, who may not know of
    the dataset, not even that. (The factor table exists first, in litres, since an activity row
    whose factor is unknown is refused at upload; its new version then changes the unit.)"""
    world = build_carbon_world(client, make_user, admin)
    factors_id, _ = world.dataset(
        "emission_factors",
        "id;label;unit;value;source\nelec;Elec;kWh;0,05;x\nfioul-lourd-site-7;F;L;3;x\n",
    )
    activity_id, _ = world.dataset(
        "activity",
        "year;territory;sector;quantity;unit;factor\n"
        "2019;commune:17300;industry;10;kWh;elec\n"
        "2019;commune:17300;industry;4321;L;fioul-lourd-site-7\n",
        licence="restricted-stat-1.0",
    )
    world.upload(
        factors_id,
        "id;label;unit;value;source\nelec;Elec;kWh;0,05;x\nfioul-lourd-site-7;F;kWh;0,3;x\n",
    )
    path = f"/api/v1/territories/{EPCI}/trajectory"
    secrets = ("fioul-lourd-site-7", "4321", "'L'", "row 2")
    for who in ("outsider", "anonymous"):
        response = client.get(path, headers=world.headers(who))
        if response.status_code == 200:
            continue  # computed without the row: nothing to quote
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        for secret in secrets:
            assert secret not in response.text, (who, secret, response.text)
        assert all(e["row"] is None for e in response.json()["errors"])
        assert (activity_id in response.text) == (who == "outsider"), (who, response.text)
    own = client.get(path, headers=world.headers("producer"))
    if own.status_code == 422:  # the producer may read the row: told which one
        assert own.json()["errors"][0]["row"] == 2
        assert activity_id in own.json()["detail"]
