"""``DATAHUB_DATABASE_READ_URL``: GET routes read the replica; writes, and the audit events of
reads, go to the primary. The "replica" here is a second PostgreSQL database cloned from the
primary, then left behind on purpose, so that each answer shows which database it came from."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from datahub.app import create_app
from datahub.db.models import AuditEvent, Organization
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings
from tests.api.world import World, build_world
from tests.conftest import Persona, _admin_execute, _pg_url, on_postgres

pytestmark = pytest.mark.skipif(not on_postgres(), reason="a PostgreSQL read replica")


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


@pytest.fixture
def replicated(world: World, runtime: Runtime, settings: Settings) -> Iterator[TestClient]:
    """An app whose reads go to a copy of the primary taken now (a replica that lags)."""
    shared_id = world.create_dataset("shared")
    runtime.engine.dispose()  # CREATE DATABASE ... TEMPLATE needs the source unused
    primary = settings.database_url.rsplit("/", 1)[1]
    replica = f"datahub_replica_{uuid.uuid4().hex[:8]}"
    _admin_execute(f'CREATE DATABASE "{replica}" TEMPLATE "{primary}"')
    replica_settings = settings.model_copy(update={"database_read_url": _pg_url(replica)})
    replica_runtime = build_runtime(replica_settings)
    try:
        with TestClient(create_app(runtime=replica_runtime)) as client:
            client.shared_id = shared_id  # type: ignore[attr-defined]
            yield client
    finally:
        replica_runtime.close()
        _admin_execute(f'DROP DATABASE IF EXISTS "{replica}" WITH (FORCE)')


def _scalars(url: str, statement: object) -> list[object]:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return list(session.scalars(statement))  # type: ignore[call-overload]
    finally:
        engine.dispose()


def test_gets_read_the_replica_and_writes_go_to_the_primary(
    replicated: TestClient, world: World, settings: Settings
) -> None:
    admin = world.personas["admin"]
    assert admin is not None
    created = replicated.post(
        "/api/v1/organizations",
        json={"id": "after-copy", "name": "Created after the copy"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    primary_orgs = _scalars(settings.database_url, select(Organization.id))
    assert "after-copy" in primary_orgs
    listed = replicated.get("/api/v1/organizations", params={"page_size": 100})
    ids = {o["id"] for o in listed.json()["data"]}
    # The GET read the replica, which has every organisation of the copy but not the new one.
    assert "port-atlantique" in ids
    assert "after-copy" not in ids
    assert replicated.get("/api/v1/organizations/after-copy").status_code == 404


def test_the_audit_event_of_a_replica_read_is_stored_on_the_primary(
    replicated: TestClient, world: World, settings: Settings
) -> None:
    member = world.personas["member"]
    assert member is not None
    shared_id = replicated.shared_id  # type: ignore[attr-defined]
    response = replicated.get(f"/api/v1/datasets/{shared_id}/data", headers=member.headers)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 2
    read_url = replicated.app.state.runtime.settings.database_read_url  # type: ignore[attr-defined]
    reads = select(AuditEvent.dataset_id).where(AuditEvent.action == "dataset.read_rows")
    assert _scalars(settings.database_url, reads) == [shared_id]
    assert _scalars(read_url, reads) == []
    verified = replicated.get("/api/v1/audit/verify", headers=world.headers("admin"))
    # Read on the replica, which lacks the new event: its copy of the chain is still valid.
    assert verified.json()["valid"] is True
