"""Keyset pages do not count the whole filtered version again on every page (issue 19).

A version's rows never change: without filters its stored row count is the total, and with
filters the count is made once per version and filters, however many pages a client follows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.api.world import World, build_world
from tests.conftest import Persona


@pytest.fixture
def counts() -> Iterator[list[str]]:
    """Every COUNT statement any engine runs while the test does."""
    seen: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "count(" in statement.lower():
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", watch)
    yield seen
    event.remove(Engine, "before_cursor_execute", watch)


def _pages(client: TestClient, url: str) -> list[dict[str, Any]]:
    pages = []
    while url:
        body = client.get(url).json()
        pages.append(body)
        url = body["links"]["next"]
    return pages


def test_following_the_cursor_counts_the_filtered_rows_once(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona, counts: list[str]
) -> None:
    world: World = build_world(client, make_user, admin)
    rows = "site;kwh\n" + "".join(f"S{i};{i}\n" for i in range(250))
    dataset_id = world.create_dataset("open", rows=rows)

    counts.clear()
    unfiltered = _pages(client, f"/api/v1/datasets/{dataset_id}/data?page_size=100")
    assert [len(p["data"]) for p in unfiltered] == [100, 100, 50]
    assert {p["meta"]["total"] for p in unfiltered} == {250}
    assert counts == []  # the version's own row count is the total

    # kwh ≥ 50 (inclusive, as api-tabular): 200 rows over two pages, counted on the first only.
    filtered = _pages(client, f"/api/v1/datasets/{dataset_id}/data?page_size=100&kwh__greater=50")
    assert [len(p["data"]) for p in filtered] == [100, 100]
    assert {p["meta"]["total"] for p in filtered} == {200}
    assert len(counts) == 1
