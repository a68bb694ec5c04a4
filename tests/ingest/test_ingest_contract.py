"""The connector contract: produced items validate, errors are typed, connectors conform."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import connectors.datagouv_dataset
import connectors.geo_api
import connectors.ign_land_cover
import connectors.ign_territories
import connectors.meteofrance_climate
import connectors.sirene
import httpx
import pytest
from pydantic import ValidationError

from datahub.errors import DatahubError
from datahub.ingest.contract import (
    ActorRecord,
    Connector,
    ConnectorContext,
    ConnectorError,
    FatalConnectorError,
    ProducedVersion,
    Provenance,
    RetriableConnectorError,
    TerritoryRecord,
    parameters_schema,
    raise_for_upstream,
)

CONNECTORS = {
    "ign-territories": connectors.ign_territories.connector,
    "ign-land-cover": connectors.ign_land_cover.connector,
    "meteofrance-climate": connectors.meteofrance_climate.connector,
    "datagouv-dataset": connectors.datagouv_dataset.connector,
    "geo-api": connectors.geo_api.connector,
    "sirene": connectors.sirene.connector,
}
WHEN = datetime(2025, 6, 25, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", sorted(CONNECTORS))
def test_first_party_connectors_follow_the_protocol(name: str) -> None:
    connector = CONNECTORS[name]
    assert isinstance(connector, Connector)
    assert connector.name == name
    assert connector.description
    assert connector.licence == "etalab-2.0"
    schema = parameters_schema(connector)
    assert schema["type"] == "object"
    assert schema["properties"]


def _version(**overrides: object) -> ProducedVersion:
    fields: dict[str, object] = {
        "dataset_id": "climate-hdd-departement-17",
        "title": "HDD",
        "kind": "climate",
        "licence": "etalab-2.0",
        "content": b"year,station,hdd\n2024,17300009,1800.0\n",
        "filename": "hdd.csv",
        "media_type": "text/csv",
        "territories": ["departement:17"],
        "provenance": Provenance(source_urls=["https://example.org/f.csv"], retrieved_at=WHEN),
    }
    fields.update(overrides)
    return ProducedVersion.model_validate(fields)


def test_produced_version_checksum_and_validation() -> None:
    version = _version()
    assert version.sha256 == hashlib.sha256(version.content).hexdigest()
    with pytest.raises(ValidationError):
        _version(dataset_id="Not A Slug")
    with pytest.raises(ValidationError):
        _version(kind="weather")
    with pytest.raises(ValidationError, match="not a territory code"):
        _version(territories=["17300"])
    with pytest.raises(ValidationError, match="timezone-aware"):
        Provenance(source_urls=["https://example.org"], retrieved_at=datetime(2025, 1, 1))
    with pytest.raises(ValidationError):
        Provenance(source_urls=[], retrieved_at=WHEN)


def test_territory_and_actor_records_validate_codes() -> None:
    record = TerritoryRecord(
        code="commune:17300", name="La Rochelle", level="commune", parents=["epci:241700434"]
    )
    assert record.geometry is None
    with pytest.raises(ValidationError, match="not a territory code"):
        TerritoryRecord(code="commune:17300", name="x", level="commune", parents=["241700434"])
    with pytest.raises(ValidationError):
        ActorRecord(id="siren:1", siren="1", name="x")


def test_upstream_errors_map_to_retriable_and_fatal() -> None:
    request = httpx.Request("GET", "https://geo.api.gouv.fr/communes/99999")
    ok = httpx.Response(200, request=request)
    assert raise_for_upstream(ok) is ok
    with pytest.raises(FatalConnectorError, match="HTTP 404: Not Found"):
        raise_for_upstream(httpx.Response(404, text="Not Found", request=request))
    with pytest.raises(RetriableConnectorError, match="HTTP 502"):
        raise_for_upstream(httpx.Response(502, request=request))
    with pytest.raises(RetriableConnectorError):
        raise_for_upstream(httpx.Response(429, request=request))
    assert issubclass(ConnectorError, DatahubError)
    assert RetriableConnectorError.retriable
    assert not FatalConnectorError.retriable


def test_context_maps_upstream_licences() -> None:
    with httpx.Client() as client:
        context = ConnectorContext(http=client, licence_aliases={"lov2": "etalab-2.0"})
        assert context.map_licence("lov2") == "etalab-2.0"
        assert context.map_licence("LOV2") == "etalab-2.0"
        assert context.map_licence("other-at") is None
        assert context.map_licence(None) is None
        assert context.previous_checksum("x") is None
        assert context.now().tzinfo is not None
