"""User text in HTTP headers (issue 12): a title with CR/LF and accents breaks no response.

Through a real server (uvicorn), not the in-process client: it is the HTTP layer that refuses
a header holding CR/LF — the reply used to be empty for every trajectory using the dataset.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from datahub.api.header_values import content_disposition, header_text
from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, build_carbon_world
from tests.conftest import Persona
from tests.liveserver import LiveServer

HOSTILE_TITLE = "Émissions d'Aytré\r\nX-Injected: oui\r\n\r\n<b>corps</b>\t— 2019"
SAFE_TITLE = "Emissions d'Aytre X-Injected: oui <b>corps</b> -- 2019"  # unidecode: — is --


@pytest.fixture
def hostile(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> str:
    """An open emissions dataset of La Rochelle whose title holds CR/LF, a tab and accents."""
    world = build_carbon_world(client, make_user, admin)
    dataset_id, _ = world.dataset(
        "emissions",
        "year;territory;sector;value;unit\n"
        "2019;commune:17300;residential;100;tCO2e\n"
        "2020;commune:17300;residential;90;tCO2e\n",
    )
    patched = client.patch(
        f"/api/v1/datasets/{dataset_id}",
        json={"title": HOSTILE_TITLE},
        headers=world.producer.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == HOSTILE_TITLE  # kept as written; only headers are folded
    return dataset_id


def test_every_response_naming_the_dataset_answers_with_safe_headers(
    hostile: str, live_server: LiveServer
) -> None:
    paths = [
        f"/api/v1/datasets/{hostile}/data",
        f"/api/v1/datasets/{hostile}/data?format=csv",
        f"/api/v1/datasets/{hostile}/versions/1/file",
        f"/api/v1/territories/{LA_ROCHELLE}/trajectory",
        f"/api/v1/territories/{LA_ROCHELLE}/trajectory?format=csv",
        f"/api/v1/territories/{LA_ROCHELLE}/trajectory?format=svg",
        f"/api/v1/territories/{EPCI}/trajectory?gwp=ar6",
        f"/api/v1/sectors/residential/trajectory?territory={LA_ROCHELLE}",
    ]
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        for path in paths:
            response = http.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            assert "x-injected" not in response.headers, path
            attribution = response.headers["x-attribution"]
            assert SAFE_TITLE in attribution, (path, attribution)
            for name, value in response.headers.items():
                assert value.isascii(), (path, name, value)
                assert value.isprintable(), (path, name, value)
        # The numbers are still right: 100 t in 2019, 90 t in 2020 (one residential row each).
        body = http.get(f"/api/v1/territories/{LA_ROCHELLE}/trajectory").json()
        assert [(p["year"], p["emissions"]) for p in body["series"]] == [
            (2019, 100.0),
            (2020, 90.0),
        ]
        # JSON keeps the exact title in the attribution it carries.
        meta = http.get(f"/api/v1/datasets/{hostile}/data").json()["meta"]
        assert HOSTILE_TITLE in meta["attribution"]


def test_header_text_folds_and_flattens() -> None:
    assert header_text("Périgny\r\nSet-Cookie: x=1\x00\x7f", 100) == "Perigny Set-Cookie: x=1"
    assert header_text("a" * 50, 10) == "a" * 10


def test_content_disposition_carries_the_exact_name_in_rfc5987_form() -> None:
    assert content_disposition("releve-2019.csv") == 'attachment; filename="releve-2019.csv"'
    value = content_disposition('Relevé "Aytré"\r\n.csv')
    assert value == (
        'attachment; filename="Releve _Aytre_ .csv"; '
        "filename*=UTF-8''Relev%C3%A9%20%22Aytr%C3%A9%22%0D%0A.csv"
    )
