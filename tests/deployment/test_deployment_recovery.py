"""At start, files left in storage by an upload interrupted before its commit are removed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from datahub import bootstrap
from datahub.runtime import Runtime
from tests.api.world import build_world
from tests.conftest import Persona


def test_orphans_are_swept_and_versions_kept(
    client: TestClient, runtime: Runtime, make_user: Callable[..., Persona], admin: Persona
) -> None:
    world = build_world(client, make_user, admin)
    dataset_id = world.create_dataset("open")
    kept = set(runtime.storage.list_keys("datasets/"))
    assert len(kept) == 1
    old = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y%m%dT%H%M%S")
    new = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    stale = f"datasets/{dataset_id}/{old}-abcdef012345/upload.csv"
    fresh = f"datasets/{dataset_id}/{new}-abcdef012346/upload.csv"
    for key in (stale, fresh):
        runtime.storage.put_stream(key, [b"half-written"])

    removed = bootstrap.recover_storage(runtime)

    assert removed == [stale]
    # The current version's file stays, and so does a file that may be an upload in flight.
    assert set(runtime.storage.list_keys("datasets/")) == kept | {fresh}
    assert client.get(f"/api/v1/datasets/{dataset_id}/versions/1/file").status_code == 200
