"""Grants and access requests: the producer's say over who reads restricted data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.api.world import World, build_world
from tests.conftest import Persona


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def status(world: World, who: str, dataset_id: str) -> int:
    return world.client.get(
        f"/api/v1/datasets/{dataset_id}/data", headers=world.headers(who)
    ).status_code


def test_organisation_grant_expiry_and_revocation(world: World) -> None:
    client = world.client
    dataset_id = world.create_dataset("restricted")
    assert status(world, "member", dataset_id) == 403
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    grant = client.post(
        f"/api/v1/datasets/{dataset_id}/grants",
        json={"organization": "commune-aytre", "expires_at": soon, "purpose": "PCAET"},
        headers=world.headers("producer"),
    )
    assert grant.status_code == 201, grant.text
    assert grant.json()["active"] is True
    assert status(world, "member", dataset_id) == 200
    basis = client.get(f"/api/v1/datasets/{dataset_id}", headers=world.headers("member")).json()
    assert basis["access"] == {"data": True, "basis": f"grant:{grant.json()['id']}"}

    revoked = client.delete(
        f"/api/v1/datasets/{dataset_id}/grants/{grant.json()['id']}",
        headers=world.headers("producer"),
    )
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert status(world, "member", dataset_id) == 403

    past = client.post(
        f"/api/v1/datasets/{dataset_id}/grants",
        json={"organization": "commune-aytre", "expires_at": "2021-06-30T00:00:00+02:00"},
        headers=world.headers("producer"),
    )
    assert past.json()["active"] is False
    assert status(world, "member", dataset_id) == 403
    listed = client.get(
        f"/api/v1/datasets/{dataset_id}/grants", headers=world.headers("producer")
    ).json()
    assert [g["active"] for g in listed["data"]] == [False, False]


def test_grant_validation(world: World) -> None:
    dataset_id = world.create_dataset("restricted")
    for body in (
        {},
        {"organization": "commune-aytre", "user": "x@y.org"},
        {"organization": "commune-aytre", "expires_at": "2030-01-01T00:00:00"},
        {"user": "nobody@nowhere.org"},
        {"organization": "no-such-org"},
    ):
        response = world.client.post(
            f"/api/v1/datasets/{dataset_id}/grants", json=body, headers=world.headers("producer")
        )
        assert response.status_code in (404, 422), (body, response.text)


def test_access_request_approved_then_denied(world: World) -> None:
    client = world.client
    dataset_id = world.create_dataset("restricted")
    filed = client.post(
        f"/api/v1/datasets/{dataset_id}/access-requests",
        json={"purpose": "Diagnostic du PCAET 2026"},
        headers=world.headers("non_member"),
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    again = client.post(
        f"/api/v1/datasets/{dataset_id}/access-requests",
        json={"purpose": "encore"},
        headers=world.headers("non_member"),
    )
    assert again.status_code == 409
    pending = client.get(
        f"/api/v1/datasets/{dataset_id}/access-requests", headers=world.headers("producer")
    ).json()
    assert [(r["id"], r["status"]) for r in pending["data"]] == [(request_id, "pending")]
    # The requester cannot approve their own request.
    assert (
        client.post(
            f"/api/v1/access-requests/{request_id}/approve", headers=world.headers("non_member")
        ).status_code
        == 403
    )
    approved = client.post(
        f"/api/v1/access-requests/{request_id}/approve",
        json={"grant_to": "user"},
        headers=world.headers("producer"),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert status(world, "non_member", dataset_id) == 200
    assert (
        client.post(
            f"/api/v1/access-requests/{request_id}/deny", headers=world.headers("producer")
        ).status_code
        == 409
    )

    second = client.post(
        f"/api/v1/datasets/{dataset_id}/access-requests",
        json={"purpose": "Étude de marché"},
        headers=world.headers("member"),
    ).json()
    denied = client.post(
        f"/api/v1/access-requests/{second['id']}/deny",
        json={"reason": "hors charte"},
        headers=world.headers("producer"),
    )
    assert denied.json()["status"] == "denied"
    assert status(world, "member", dataset_id) == 403
    events = client.get(
        f"/api/v1/audit/events?dataset={dataset_id}&action=access_request.deny",
        headers=world.headers("auditor"),
    ).json()
    assert events["meta"]["total"] == 1
    assert events["data"][0]["detail"]["reason"] == "hors charte"


def test_licence_change_is_audited_and_changes_access(world: World) -> None:
    client = world.client
    dataset_id = world.create_dataset("open")
    assert status(world, "anonymous", dataset_id) == 200
    changed = client.patch(
        f"/api/v1/datasets/{dataset_id}",
        json={"licence": "restricted-1.0"},
        headers=world.headers("producer"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["level"] == "restricted"
    assert status(world, "anonymous", dataset_id) == 404
    assert status(world, "non_member", dataset_id) == 403
    events = client.get(
        f"/api/v1/audit/events?action=dataset.licence_change&dataset={dataset_id}",
        headers=world.headers("auditor"),
    ).json()["data"]
    assert [(e["detail"]["from"], e["detail"]["to"]) for e in events] == [
        ("etalab-2.0", "restricted-1.0")
    ]
    unknown = client.patch(
        f"/api/v1/datasets/{dataset_id}",
        json={"licence": "wtfpl"},
        headers=world.headers("producer"),
    )
    assert unknown.status_code == 422


def test_search_filters_and_pagination(world: World) -> None:
    client = world.client
    ids = [world.create_dataset("open") for _ in range(3)]
    page = client.get("/api/v1/datasets?page_size=2").json()
    assert page["meta"]["total"] == 3
    assert len(page["data"]) == 2
    assert page["links"]["next"]
    rest = client.get(page["links"]["next"]).json()
    assert {d["id"] for d in page["data"] + rest["data"]} == set(ids)
    assert client.get("/api/v1/datasets?q=énergie").json()["meta"]["total"] == 3
    assert client.get("/api/v1/datasets?q=introuvable").json()["meta"]["total"] == 0
    assert client.get("/api/v1/datasets?licence=lov2").json()["meta"]["total"] == 3
    assert client.get("/api/v1/datasets?level=shared").json()["meta"]["total"] == 0
    assert client.get("/api/v1/datasets?producer=port-atlantique").json()["meta"]["total"] == 3
    assert client.get("/api/v1/datasets?q=100%25").json()["meta"]["total"] == 0
