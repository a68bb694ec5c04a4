"""The row API read as data.gouv.fr's api-tabular documents it (contract §3, §9).

``API_TABULAR_CASES`` are queries from api-tabular's README with the rows its documented semantics
give (PostgREST underneath: ``greater`` is ``gte``, ``less`` is ``lte``, ``contains`` is ``ilike``,
``differs``/``notcontains`` exclude nulls as SQL does), computed here by hand over a small table.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.api.world import World, build_world
from tests.conftest import Persona

# code keeps its leading zero (a text column); score is a number; label has an empty cell.
TABLE = (
    "code;score;label\n"
    "01400;0,5;Ain\n"
    "17300;1,5;Charente-Maritime\n"
    "17000;1,5;\n"
    "79000;2,5;Deux-Sèvres\n"
    "=1+1;3;formule\n"
)

API_TABULAR_CASES = [
    ("score__greater=1.5", ["17300", "17000", "79000", "=1+1"]),  # ≥ 1.5
    ("score__less=1.5", ["01400", "17300", "17000"]),  # ≤ 1.5
    ("score__strictly_greater=1.5", ["79000", "=1+1"]),
    ("score__strictly_less=1.5", ["01400"]),
    ("score__exact=1.5", ["17300", "17000"]),
    ("score__differs=1.5", ["01400", "79000", "=1+1"]),
    ("label__isnull", ["17000"]),
    ("label__isnotnull", ["01400", "17300", "79000", "=1+1"]),
    ("label__contains=CHARENTE", ["17300"]),  # ilike: case-insensitive
    ("label__notcontains=e", ["01400"]),  # the null label is neither
    ("code__in=01400,79000", ["01400", "79000"]),
    ("code__notin=01400,79000", ["17300", "17000", "=1+1"]),
    ("score__sort=desc", ["=1+1", "79000", "17300", "17000", "01400"]),  # ties: file order
    ("score__sort=asc", ["01400", "17300", "17000", "79000", "=1+1"]),
    ("score__greater=1&score__less=2&code__sort=desc", ["17300", "17000"]),
]


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def codes(client: TestClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return [row["code"] for row in response.json()["data"]]


@pytest.mark.parametrize(("query", "expected"), API_TABULAR_CASES)
def test_same_queries_same_rows_as_api_tabular(
    world: World, query: str, expected: list[str]
) -> None:
    dataset_id = world.create_dataset("open", rows=TABLE)
    assert codes(world.client, f"/api/v1/datasets/{dataset_id}/data?{query}") == expected


def test_page_columns_and_link_header(world: World) -> None:
    dataset_id = world.create_dataset("open", rows=TABLE)
    base = f"/api/v1/datasets/{dataset_id}/data"
    first = world.client.get(f"{base}?page=1&page_size=2&columns=code,label")
    body = first.json()
    assert [r["code"] for r in body["data"]] == ["01400", "17300"]
    assert set(body["data"][0]) == {"code", "label"}  # projection
    assert body["meta"]["page"] == 1
    assert body["meta"]["page_size"] == 2
    assert body["meta"]["total"] == 5
    assert "page=2" in body["links"]["next"]
    link = first.headers["link"]
    assert 'rel="license"' in link
    assert f'<{body["links"]["next"]}>; rel="next"' in link
    third = world.client.get(f"{base}?page=3&page_size=2&columns=code").json()
    assert [r["code"] for r in third["data"]] == ["=1+1"]
    assert third["links"]["next"] is None
    # The keyset cursor goes through the same rows, projected, sorted by a column left out.
    seen: list[str] = []
    url: str | None = f"{base}?columns=code&score__sort=asc&page_size=2"
    while url:
        response = world.client.get(url)
        seen += [r["code"] for r in response.json()["data"]]
        url = response.json()["links"]["next"]
        assert (url is None) == ('rel="next"' not in response.headers["link"])
    assert seen == ["01400", "17300", "17000", "79000", "=1+1"]


@pytest.mark.parametrize(
    "query",
    [
        "columns=nope",
        "columns=",
        "page=1&after=abc",
        "score__sort=up",
        "score__sort=asc&code__sort=desc",
        "sort=code&score__sort=asc",
        "page=0",
        "label__isnull=perhaps",
    ],
)
def test_bad_parameters_are_422_naming_the_field(world: World, query: str) -> None:
    dataset_id = world.create_dataset("open", rows=TABLE)
    response = world.client.get(f"/api/v1/datasets/{dataset_id}/data?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"]


def test_etag_last_modified_and_304(world: World) -> None:
    dataset_id = world.create_dataset("open", rows=TABLE)
    for url in (
        f"/api/v1/datasets/{dataset_id}/data?format=csv",
        f"/api/v1/datasets/{dataset_id}/data?score__greater=1",
        f"/api/v1/datasets/{dataset_id}/versions/1/file",
    ):
        first = world.client.get(url)
        assert first.status_code == 200
        tag, modified = first.headers["etag"], first.headers["last-modified"]
        assert modified.endswith(" GMT")
        again = world.client.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 304, url
        assert again.content == b""
        assert again.headers["etag"] == tag
        assert world.client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
        assert world.client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    # Another query, another representation: another tag.
    one = world.client.get(f"/api/v1/datasets/{dataset_id}/data?score__greater=1")
    two = world.client.get(f"/api/v1/datasets/{dataset_id}/data?score__greater=2")
    assert one.headers["etag"] != two.headers["etag"]


def test_a_304_is_not_served_to_a_caller_who_may_not_read(world: World) -> None:
    dataset_id = world.create_dataset("restricted", rows=TABLE)
    url = f"/api/v1/datasets/{dataset_id}/data?format=csv"
    tag = world.client.get(url, headers=world.headers("producer")).headers["etag"]
    refused = world.client.get(url, headers={**world.headers("member"), "If-None-Match": tag})
    assert refused.status_code == 403


def test_xlsx_rows_keep_text_as_text(world: World) -> None:
    dataset_id = world.create_dataset("open", rows=TABLE)
    response = world.client.get(
        f"/api/v1/datasets/{dataset_id}/data?format=xlsx&columns=code,score"
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == ["code", "score"]
    assert values[1] == ["01400", 0.5]  # leading zero kept, the number a number
    assert values[5] == ["=1+1", 3]  # a string, not a formula
    by_accept = world.client.get(
        f"/api/v1/datasets/{dataset_id}/data",
        headers={"Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    assert by_accept.content[:2] == b"PK"


def test_accept_header_chooses_the_format(world: World) -> None:
    dataset_id = world.create_dataset("open", rows=TABLE)
    url = f"/api/v1/datasets/{dataset_id}/data"
    assert world.client.get(url, headers={"Accept": "text/csv"}).text.startswith("code,score")
    browser = "text/html,application/xhtml+xml,*/*;q=0.8"
    assert world.client.get(url, headers={"Accept": browser}).json()["meta"]["total"] == 5
    prefers = "application/json;q=0.5, text/csv;q=0.9"
    assert (
        world.client.get(url, headers={"Accept": prefers})
        .headers["content-type"]
        .startswith("text/csv")
    )
    # format= wins over Accept; an Accept the route cannot meet is a 406 problem.
    assert "data" in world.client.get(f"{url}?format=json", headers={"Accept": "text/csv"}).json()
    refused = world.client.get(url, headers={"Accept": "image/png"})
    assert refused.status_code == 406
    assert refused.headers["content-type"] == "application/problem+json"
    assert world.client.get(f"{url}?format=pdf").status_code == 422


def test_original_file_is_served_in_its_charset(world: World) -> None:
    producer = world.personas["producer"]
    assert producer is not None
    dataset_id = world.create_dataset("open")
    body = "site;ville\nA;Périgny\n".encode("cp1252")
    uploaded = world.client.post(
        f"/api/v1/datasets/{dataset_id}/versions",
        content=body,
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    served = world.client.get(f"/api/v1/datasets/{dataset_id}/versions/2/file")
    assert served.headers["content-type"] == "text/csv; charset=windows-1252"
    assert served.content == body
    assert served.text.endswith("Périgny\n")  # decoded with the declared charset
