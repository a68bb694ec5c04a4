"""No route leaks a restricted dataset's contents to a caller without access.

A restricted dataset (no aggregates) and a restricted-stat one (one actor, so every cell fails
secrecy) carry distinctive marker values. Every GET operation of the OpenAPI document is called,
with each output format, as every caller kind that may not read them; no marker may appear in a
response body or header — errors, DCAT, search, trajectories and CSV exports included.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api.world import World, build_world
from tests.conftest import Persona

MARKERS = ("SECRET-MARKER-7Q", "987654", "987 654", "123456", "123 456")
OUTSIDERS = ("anonymous", "non_member", "member", "auditor")
VARIANTS: tuple[dict[str, str], ...] = (
    {},
    {"format": "csv"},
    {"format": "csv", "dialect": "fr"},
    {"format": "svg"},
    {"format": "geojson"},
    {"q": "SECRET"},
    {"basis": "actors"},
)


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def _setup(world: World) -> dict[str, str]:
    client, admin = world.client, world.headers("admin")
    for body in (
        {"code": "epci:241700434", "name": "CA de La Rochelle", "level": "epci"},
        {
            "code": "commune:17300",
            "name": "La Rochelle",
            "level": "commune",
            "parent": "epci:241700434",
        },
    ):
        assert client.post("/api/v1/territories", json=body, headers=admin).status_code == 201
    actor = {
        "id": "actor-secret",
        "name": "Usine",
        "sector": "industry",
        "territory": "commune:17300",
    }
    assert client.post("/api/v1/actors", json=actor, headers=admin).status_code == 201
    secret = (
        "year,territory,sector,value,unit,note\n"
        "2019,commune:17300,industry,987654.321,tCO2e,SECRET-MARKER-7Q\n"
    )
    restricted = world.create_dataset("restricted", kind="emissions", rows=secret)
    producer = world.headers("producer")
    stat = client.post(
        "/api/v1/datasets",
        json={
            "id": "stat-one-actor",
            "title": "Sites",
            "licence": "restricted-stat-1.0",
            "kind": "emissions",
        },
        headers=producer,
    )
    assert stat.status_code == 201, stat.text
    one_actor = (
        "year,territory,sector,actor,value,unit\n"
        "2019,commune:17300,industry,actor-secret,123456.789,tCO2e\n"
    )
    uploaded = client.post(
        "/api/v1/datasets/stat-one-actor/versions",
        content=one_actor.encode(),
        headers={**producer, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    return {
        "dataset_id": restricted,
        "number": "1",
        "code": "commune:17300",
        "sector": "industry",
        "actor_id": "actor-secret",
        "org_id": "port-atlantique",
        "licence_id": "restricted-1.0",
        "job_id": "00000000-0000-0000-0000-000000000000",
        "user_id": "1",
        "name": "sirene",
        "grant_id": "1",
        "request_id": "1",
        "kind": "emissions",
        "collection": "emissions",
        "feature_id": "commune:17300",
        "organization_id": "port-atlantique",
        "webhook_id": "1",
    }


def _leaks(text: str) -> list[str]:
    return [m for m in MARKERS if m in text]


def test_no_route_leaks_restricted_contents(world: World) -> None:
    values = _setup(world)
    # The markers are really there for those who may read them (the test can fail).
    owner = world.client.get(
        f"/api/v1/datasets/{values['dataset_id']}/data", headers=world.headers("producer")
    )
    assert _leaks(owner.text)
    paths = world.client.get("/openapi.json").json()["paths"]
    gets = [path for path, ops in paths.items() if "get" in ops]
    assert len(gets) > 20
    leaks: list[str] = []
    calls = 0
    for template in gets:
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        for who in OUTSIDERS:
            for variant in VARIANTS:
                params = dict(variant)
                if "/sectors/" in template:
                    params["territory"] = "commune:17300"
                response = world.client.get(path, params=params, headers=world.headers(who))
                calls += 1
                assert response.status_code < 500, (template, who, params, response.text[:200])
                headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
                found = _leaks(response.text) + _leaks(headers)
                if found:
                    leaks.append(f"{template} {params} as {who}: {found}")
    assert calls > 500
    assert not leaks, "\n".join(leaks)
