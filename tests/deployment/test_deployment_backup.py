"""Backup and restore as the README says: ``pg_dump -Fc``, then the files; restore both elsewhere
and the restored instance serves the same datasets, versions, rows and original bytes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from datahub.app import create_app
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings
from tests.api.world import World, build_world
from tests.conftest import PG_URL, Persona

pytestmark = pytest.mark.skipif(PG_URL is None, reason="pg_dump/pg_restore need PostgreSQL")


def libpq_url(sqlalchemy_url: str) -> str:
    """What pg_dump and pg_restore understand: the same URL without the ``+psycopg`` driver."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


def _admin(sql: str) -> None:
    assert PG_URL is not None
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


@pytest.fixture
def restore_target() -> Iterator[str]:
    """An empty database (no tables, no PostGIS): what a new server has before the restore."""
    assert PG_URL is not None
    name = f"datahub_restored_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def snapshot(client: TestClient, world: World, dataset_ids: list[str]) -> dict[str, Any]:
    """Everything a reader sees of each dataset: metadata, versions, rows, original bytes."""
    admin = world.headers("admin")
    seen: dict[str, Any] = {}
    for dataset_id in dataset_ids:
        meta = client.get(f"/api/v1/datasets/{dataset_id}", headers=admin)
        assert meta.status_code == 200, meta.text
        versions = client.get(f"/api/v1/datasets/{dataset_id}/versions", headers=admin).json()
        files = {}
        rows = {}
        for version in versions["data"]:
            number = version["number"]
            original = client.get(
                f"/api/v1/datasets/{dataset_id}/versions/{number}/file", headers=admin
            )
            assert original.status_code == 200, original.text
            files[number] = hashlib.sha256(original.content).hexdigest()
            assert files[number] == version["sha256"]
            data = client.get(
                f"/api/v1/datasets/{dataset_id}/data",
                params={"version": number, "sort": "site"},
                headers=admin,
            )
            assert data.status_code == 200, data.text
            rows[number] = data.json()["data"]
        seen[dataset_id] = {
            "meta": meta.json(),
            "versions": versions["data"],
            "files": files,
            "rows": rows,
        }
    listed = client.get("/api/v1/datasets", params={"page_size": 100}, headers=admin).json()
    seen["_listed"] = sorted(d["id"] for d in listed["data"])
    return seen


def test_pg_dump_and_file_copy_restore_the_same_catalogue(
    client: TestClient,
    runtime: Runtime,
    make_user: Callable[..., Persona],
    admin: Persona,
    settings: Settings,
    tmp_path: Path,
    restore_target: str,
) -> None:
    world = build_world(client, make_user, admin)
    dataset_ids = [world.create_dataset(level) for level in ("open", "shared", "restricted")]
    # A second version of the open dataset: 3 rows, 4 kWh + 6 kWh + 0.25 kWh.
    producer = world.headers("producer")
    second = client.post(
        f"/api/v1/datasets/{dataset_ids[0]}/versions",
        content=b"site;kwh\nA;4\nB;6\nC;0,25\n",
        headers={**producer, "Content-Type": "text/csv"},
    )
    assert second.status_code == 201, second.text
    before = snapshot(client, world, dataset_ids)
    assert [v["number"] for v in before[dataset_ids[0]]["versions"]] == [1, 2]
    assert [r["kwh"] for r in before[dataset_ids[0]]["rows"][1]] == [1.5, 2.5]
    assert [r["kwh"] for r in before[dataset_ids[0]]["rows"][2]] == [4, 6, 0.25]
    with runtime.engine.connect() as connection:
        audit_events = connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one()

    # Backup: the database first, then the files (an orphan file is harmless, a missing one not).
    dump = tmp_path / "datahub.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "-f", str(dump), libpq_url(settings.database_url)],
        check=True,
        timeout=120,
    )
    files = Path(settings.storage_url.removeprefix("file://"))
    backup_files = tmp_path / "backup-files"
    shutil.copytree(files, backup_files)
    # The original instance is gone: its database connections and its files.
    runtime.close()
    shutil.rmtree(files)

    # Restore into an empty database: the dump creates PostGIS and every table itself.
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", libpq_url(restore_target), str(dump)],
        check=True,
        timeout=120,
    )
    restored_files = tmp_path / "restored-files"
    shutil.copytree(backup_files, restored_files)
    restored = Settings(
        database_url=restore_target,
        storage_url=f"file://{restored_files}",
        _env_file=None,
    )
    restored_runtime = build_runtime(restored)
    try:
        with TestClient(create_app(runtime=restored_runtime)) as restored_client:
            # The chain is intact and holds every event written before the dump.
            verified = restored_client.get("/api/v1/audit/verify", headers=world.headers("admin"))
            assert verified.status_code == 200, verified.text
            assert verified.json()["valid"] is True
            assert verified.json()["events"] == audit_events
            after = snapshot(restored_client, world, dataset_ids)
            assert after == before
            # The restored instance keeps working: a new version lands as number 3.
            third = restored_client.post(
                f"/api/v1/datasets/{dataset_ids[0]}/versions",
                content=b"site;kwh\nZ;1\n",
                headers={**producer, "Content-Type": "text/csv"},
            )
            assert third.status_code == 201, third.text
            assert third.json()["number"] == 3
            assert restored_client.get(
                "/api/v1/audit/verify", headers=world.headers("admin")
            ).json()["valid"]
    finally:
        restored_runtime.close()
