"""Versions from connectors: created once, skipped when unchanged, one more when upstream changes.

datagouv-dataset replays the recorded "Catalogue des données de data.gouv.fr" metadata; the
resource file is the synthetic two-line CSV of tests/ingest/fixtures (runner_replays.DataGouv).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import BaseModel
from tests.conftest import Persona
from tests.ingest.runner_replays import (
    HUB_DATASET,
    RECORDED_CHECKSUM,
    DataGouv,
    context,
    datagouv_params,
    snapshot,
)

from datahub.catalog import service as catalog
from datahub.errors import ValidationFailed
from datahub.ingest import registry
from datahub.ingest.contract import (
    ConnectorContext,
    Produced,
    ProducedVersion,
    Provenance,
    TerritoryRecord,
)
from datahub.ingest.runner import VersionOutcome, run_connector
from datahub.runtime import Runtime


@pytest.fixture
def producer(make_user: Callable[..., Persona]) -> Persona:
    return make_user("producer", "cda-lr", member=True)


def versions(runtime: Runtime, persona: Persona) -> list[tuple[int, str, bool]]:
    ctx = context(runtime, persona)
    with runtime.transaction() as session:
        resolved = catalog.resolve(session, runtime.licences, ctx.caller, HUB_DATASET)
        return [(v.number, v.sha256, v.current) for v in catalog.list_versions(session, resolved)]


def test_second_run_makes_no_version_and_a_changed_upstream_exactly_one(
    runtime: Runtime, producer: Persona
) -> None:
    ctx = context(runtime, producer)
    upstream = DataGouv()
    transport = httpx.MockTransport(upstream.handler)
    first = run_connector(runtime, "datagouv-dataset", datagouv_params(), ctx, transport=transport)
    assert first.versions == [VersionOutcome(HUB_DATASET, 1, True)]
    sha_v1 = hashlib.sha256(upstream.content).hexdigest()
    assert versions(runtime, producer) == [(1, sha_v1, True)]
    with runtime.transaction() as session:
        dataset = catalog.resolve(session, runtime.licences, ctx.caller, HUB_DATASET).dataset
        # Created for the caller's organisation with the upstream licence ("lov2" → etalab-2.0).
        assert (dataset.organization_id, dataset.licence_id) == ("cda-lr", "etalab-2.0")
        version = catalog.get_version(
            session, catalog.resolve(session, runtime.licences, ctx.caller, HUB_DATASET), 1
        )
        assert version.row_count == 1  # the synthetic CSV: a header and one row
        assert version.provenance["upstream_checksum"] == RECORDED_CHECKSUM
        assert version.provenance["connector"] == "datagouv-dataset"
        assert runtime.storage.exists(version.storage_key)

    # Unchanged upstream: same checksum, so the connector does not even download the file.
    second = run_connector(runtime, "datagouv-dataset", datagouv_params(), ctx, transport=transport)
    assert second.versions == []
    assert upstream.downloads == 1
    assert versions(runtime, producer) == [(1, sha_v1, True)]

    # Changed upstream: new bytes and a new checksum give exactly one new version.
    upstream.content += b"6620bbbb;API Adresse;2024-05-02\n"
    upstream.set_checksum("sha1:" + hashlib.sha1(upstream.content).hexdigest())
    third = run_connector(runtime, "datagouv-dataset", datagouv_params(), ctx, transport=transport)
    assert third.versions == [VersionOutcome(HUB_DATASET, 2, True)]
    sha_v2 = hashlib.sha256(upstream.content).hexdigest()
    assert versions(runtime, producer) == [(1, sha_v1, False), (2, sha_v2, True)]
    files = snapshot(runtime)["files"]
    assert len(files) == 2


def test_same_bytes_without_checksum_are_deduplicated_by_sha256(
    runtime: Runtime, producer: Persona
) -> None:
    ctx = context(runtime, producer)
    upstream = DataGouv()
    upstream.set_checksum(None)  # nothing lets the connector skip: the runner must
    transport = httpx.MockTransport(upstream.handler)
    run_connector(runtime, "datagouv-dataset", datagouv_params(), ctx, transport=transport)
    again = run_connector(runtime, "datagouv-dataset", datagouv_params(), ctx, transport=transport)
    assert upstream.downloads == 2
    assert again.versions == [VersionOutcome(HUB_DATASET, 1, False)]
    assert [v[0] for v in versions(runtime, producer)] == [1]


def test_429_then_200_is_retried(runtime: Runtime, producer: Persona) -> None:
    upstream = DataGouv()
    upstream.metadata_answers.append(
        httpx.Response(429, headers={"retry-after": "7"}, text="Too Many Requests")
    )
    sleeps: list[float] = []
    result = run_connector(
        runtime,
        "datagouv-dataset",
        datagouv_params(),
        context(runtime, producer),
        transport=httpx.MockTransport(upstream.handler),
        sleep=sleeps.append,
    )
    assert sleeps == [7.0]  # waited as long as Retry-After said, once
    assert result.versions == [VersionOutcome(HUB_DATASET, 1, True)]


class _Params(BaseModel):
    pass


class _StoresThenBreaks:
    """A version, then a territory the store refuses: the stored file must be removed."""

    name = "stores-then-breaks"
    description = "test connector"
    licence = "etalab-2.0"
    params_model = _Params

    def run(self, params: _Params, context: ConnectorContext) -> Iterator[Produced]:
        yield ProducedVersion(
            dataset_id="breaks",
            title="Breaks",
            licence="etalab-2.0",
            content=b"year;value\n2020;1\n",
            filename="breaks.csv",
            media_type="text/csv",
            provenance=Provenance(
                source_urls=["https://example.org/breaks.csv"],
                retrieved_at=datetime(2025, 6, 25, tzinfo=UTC),
            ),
        )
        yield TerritoryRecord(
            code="region:75",
            name="Nouvelle-Aquitaine",
            level="region",
            geometry={"type": "Polygon", "coordinates": "not coordinates"},
        )


def test_failure_while_storing_rolls_back_and_deletes_stored_files(
    runtime: Runtime, producer: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_get = registry.get
    monkeypatch.setattr(
        registry, "get", lambda name: _StoresThenBreaks() if name == "breaks" else real_get(name)
    )
    stored: list[str] = []
    real_put = runtime.storage.put_file

    def spy(key: str, path: object) -> object:
        stored.append(key)
        return real_put(key, path)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime.storage, "put_file", spy)
    before = snapshot(runtime)
    with pytest.raises(ValidationFailed):
        run_connector(runtime, "breaks", {}, context(runtime, producer))
    assert len(stored) == 1  # the version's file did reach storage...
    assert not runtime.storage.exists(stored[0])  # ...and was deleted after the rollback
    assert snapshot(runtime) == before
