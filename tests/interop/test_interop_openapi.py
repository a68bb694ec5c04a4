"""What generated clients see: explicit operation ids, typed envelopes; problems typed under the
instance's own base URL (issue 16)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from datahub.app import create_app
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings


def test_operation_ids_are_the_route_names(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert "list_datasets" in ids
    assert "read_rows" in ids
    assert not [i for i in ids if "api_v1" in i]  # none of FastAPI's path-derived ids


def test_list_and_row_envelopes_are_typed(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def schema_of(path: str) -> dict[str, object]:
        ref = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        name = ref["schema"]["$ref"].rsplit("/", 1)[1]
        return dict(schemas[name])

    page = schema_of("/api/v1/datasets")
    items = page["properties"]["data"]["items"]  # type: ignore[index]
    assert items["$ref"].endswith("/DatasetRead")
    rows = schema_of("/api/v1/datasets/{dataset_id}/data")
    assert set(rows["properties"]) == {"data", "links", "meta"}  # type: ignore[arg-type]
    territories = schema_of("/api/v1/territories")
    assert territories["properties"]["data"]["items"]["$ref"].endswith("/TerritoryRead")  # type: ignore[index]


def test_problem_types_live_under_the_base_url(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url,
        storage_url=f"file://{tmp_path / 'files'}",
        base_url="https://donnees.agglo-larochelle.fr",
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime: Runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
            missing = client.get("/api/v1/datasets/nope").json()
            assert missing["type"] == "https://donnees.agglo-larochelle.fr/problems/not-found"
            nul = client.get("/api/v1/datasets?q=%00").json()  # answered by a middleware
            assert nul["type"] == "https://donnees.agglo-larochelle.fr/problems/bad-request"
            invalid = client.get("/api/v1/datasets?page=0").json()
            assert invalid["type"].startswith("https://donnees.agglo-larochelle.fr/problems/")
    finally:
        runtime.close()
