"""Moving an instance from the embedded default (SQLite + folder) to PostgreSQL, losing nothing."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from datahub import transfer
from datahub.app import create_app
from datahub.db import migrate
from datahub.db.base import Base
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings
from tests.api.world import World
from tests.conftest import PG_URL, Persona


@pytest.fixture
def postgres_runtime(tmp_path: Path) -> Iterator[Runtime]:
    # PostgreSQL only when the tester says so, never because a local server happens to answer.
    if PG_URL is None:
        pytest.skip("set DATAHUB_TEST_DATABASE_URL to move an instance into PostgreSQL")
    name = f"datahub_import_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    runtime = build_runtime(
        Settings(database_url=url, storage_url=f"file://{tmp_path / 'pg-files'}", _env_file=None)  # type: ignore[call-arg]
    )
    yield runtime
    runtime.close()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _counts(runtime: Runtime) -> dict[str, int]:
    with runtime.read_session() as session:
        return {
            t.name: int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


def test_sqlite_to_postgres(
    tmp_path: Path,
    template_url: str,
    make_user: Callable[..., Persona],
    admin: Persona,
    postgres_runtime: Runtime,
) -> None:
    # The source is always an embedded SQLite instance, whatever backend the suite runs on.
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    migrate.upgrade(source_url)
    source = build_runtime(
        Settings(
            database_url=source_url, storage_url=f"file://{tmp_path / 'files'}", _env_file=None
        )  # type: ignore[call-arg]
    )
    with TestClient(create_app(runtime=source)) as client:
        # Personas live in the suite's database; recreate them in the source through its runtime.
        from datahub.accounts import service as accounts
        from datahub.accounts.schemas import OrganizationCreate, UserCreate

        personas: dict[str, Persona | None] = {"anonymous": None}
        with source.transaction() as session:
            for who, role, org, member in (
                ("producer", "producer", "port-atlantique", True),
                ("member", "analyst", "commune-aytre", True),
                ("grantee", "analyst", "labo-universite", False),
                ("auditor", "auditor", "comite", True),
                ("admin", "admin", "operateur", True),
                ("non_member", "analyst", "bureau-prive", False),
                ("producer_analyst", "analyst", "port-atlantique", True),
            ):
                if accounts.repository.get_organization(session, org) is None:
                    accounts.create_organization(
                        session, OrganizationCreate(id=org, name=org, member=member)
                    )
                email = f"{who}@{org}.example.org"
                _user, token = accounts.create_user(
                    session,
                    UserCreate(email=email, organization_id=org, role=role),  # type: ignore[arg-type]
                )
                personas[who] = Persona(email, org, role, token)
        world = World(client, personas)
        datasets = {
            level: world.create_dataset(level) for level in ("open", "shared", "restricted")
        }
        world.grant(datasets["restricted"], "grantee")
        client.post(
            "/api/v1/territories",
            json={
                "code": "commune:17300",
                "name": "La Rochelle",
                "level": "commune",
                "geometry": {"type": "Point", "coordinates": [-1.15, 46.16]},
            },
            headers=world.headers("admin"),
        )
        before_rows = client.get(
            f"/api/v1/datasets/{datasets['restricted']}/data", headers=world.headers("grantee")
        ).json()["data"]
    export_dir = tmp_path / "export"
    manifest = transfer.export_instance(source, export_dir)
    assert manifest["files"] == 3
    transfer.import_instance(postgres_runtime, export_dir)

    assert _counts(postgres_runtime) == _counts(source)
    with postgres_runtime.read_session() as session:
        from datahub.audit import service as audit

        imported = audit.verify(session, postgres_runtime.seals)
    assert (imported.valid, imported.events) == (True, manifest["tables"]["audit_event"])
    with TestClient(create_app(runtime=postgres_runtime)) as moved:
        grantee = personas["grantee"]
        assert grantee is not None
        # Same tokens (their hashes moved), same rows, same access rules.
        after = moved.get(
            f"/api/v1/datasets/{datasets['restricted']}/data", headers=grantee.headers
        )
        assert after.status_code == 200
        assert after.json()["data"] == before_rows
        assert moved.get(f"/api/v1/datasets/{datasets['restricted']}/data").status_code == 404
        for dataset_id in datasets.values():
            original = source.storage.open_stream(next(iter(source_keys(source, dataset_id))))
            moved_file = moved.get(
                f"/api/v1/datasets/{dataset_id}/versions/1/file", headers=world.headers("admin")
            )
            assert moved_file.content == b"".join(original)
            assert (
                moved_file.headers["x-checksum-sha256"]
                == hashlib.sha256(moved_file.content).hexdigest()
            )
        verdict = moved.get("/api/v1/audit/verify", headers=world.headers("auditor")).json()
        # The imported chain, extended by the audited reads above, is still one valid chain.
        assert verdict["valid"] is True
        assert verdict["events"] > manifest["tables"]["audit_event"]
        geo = moved.get("/api/v1/territories/commune:17300?format=geojson").json()
        assert geo["geometry"]["coordinates"] == [-1.15, 46.16]
        # New ids continue after the imported ones.
        created = moved.post(
            "/api/v1/datasets",
            json={"title": "Après migration", "licence": "etalab-2.0"},
            headers=world.headers("producer"),
        )
        assert created.status_code == 201, created.text
    source.close()


def source_keys(runtime: Runtime, dataset_id: str) -> list[str]:
    return list(runtime.storage.list_keys(f"datasets/{dataset_id}/"))
