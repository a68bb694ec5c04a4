"""The pages render in French over the API's data: home, catalogue, dataset, dashboards."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.world import World, build_world
from tests.conftest import Persona


def _world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def test_home_answers_a_json_index_to_json_clients(client: TestClient) -> None:
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["links"]["api"] == "/api/v1"
    html = client.get("/", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in html.text
    assert 'href="#contenu"' in html.text  # skip link


def test_catalogue_search_facets_and_pagination(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> None:
    world = _world(client, make_user, admin)
    ids = [world.create_dataset("open") for _ in range(22)]
    shared = world.create_dataset("shared")
    page = client.get("/datasets")
    assert page.status_code == 200
    assert "23 jeux de données" in page.text  # 22 open + 1 shared, all visible to anonymous
    assert "Page 1 sur 2" in page.text
    assert 'rel="next"' in page.text
    # The level facet is the API's parameter: only the shared one is left.
    only_shared = client.get("/datasets?level=shared").text
    assert "1 jeu de données" in only_shared
    assert f'href="/datasets/{shared}"' in only_shared
    assert f'href="/datasets/{ids[0]}"' not in only_shared
    assert "Aucun jeu" in client.get("/datasets?q=introuvablexyz").text
    # A bad facet value is a French 422 page (as the API's status), not a 500.
    bad = client.get("/datasets?level=secret")
    assert bad.status_code == 422
    assert "Données invalides" in bad.text


def test_dataset_page_preview_filters_sorts_and_links_downloads(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> None:
    world = _world(client, make_user, admin)
    dataset_id = world.create_dataset("open", rows="site;kwh\nA;1,5\nB;2500,25\nC;7\n")
    page = client.get(f"/datasets/{dataset_id}")
    assert page.status_code == 200
    text = page.text
    assert "Licence Ouverte" in text
    assert "Tout le monde peut consulter" in text
    assert "3 lignes" in text
    # French number format: decimal comma, narrow no-break space between thousands.
    assert "2\u202f500,25" in text
    assert f"/api/v1/datasets/{dataset_id}/data?format=csv&amp;dialect=fr" in text
    # The filter form redirects to the row API's operator syntax...
    moved = client.get(f"/datasets/{dataset_id}?col=kwh&op=greater&val=5", follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"].endswith("?kwh__greater=5")
    filtered = client.get(moved.headers["location"]).text
    assert "2 lignes correspondant aux filtres" in filtered  # 2500,25 and 7
    assert "1,50" not in filtered
    # ...and sorting follows the column header links: descending puts 2500,25 first.
    ordered = client.get(f"/datasets/{dataset_id}?sort=-kwh").text
    assert 'aria-sort="descending"' in ordered
    assert ordered.index("2\u202f500,25") < ordered.index("1,50")
    # htmx asks for the fragment only.
    fragment = client.get(f"/datasets/{dataset_id}?sort=kwh", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith("<section")
    assert "<html" not in fragment.text
    # A filter on an unknown operator is the API's 422, as a page naming the parameter.
    unknown = client.get(f"/datasets/{dataset_id}?kwh__bigger=1")
    assert unknown.status_code == 422
    assert "bigger" in unknown.text


def test_unknown_pages_are_french_404s(client: TestClient) -> None:
    for path in ("/datasets/nope", "/territories/epci:000000000", "/actors/nope"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Page introuvable" in response.text
        assert response.headers["content-type"].startswith("text/html")


def test_territory_dashboard_shows_figures_table_and_sources(
    client: TestClient, admin: Persona
) -> None:
    headers = admin.headers
    for body in (
        {"code": "epci:200000001", "name": "CA Test", "level": "epci", "population": 1000},
        {"code": "commune:99001", "name": "Bourg", "level": "commune", "parent": "epci:200000001"},
    ):
        assert client.post("/api/v1/territories", json=body, headers=headers).status_code == 201
    created = client.post(
        "/api/v1/datasets",
        json={
            "id": "inv",
            "title": "Inventaire test",
            "licence": "etalab-2.0",
            "kind": "emissions",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    csv = (
        "year;territory;sector;value;unit\n"
        "2019;commune:99001;residential;1200;tCO2e\n"
        "2019;commune:99001;road_transport;3000,7;tCO2e\n"
    )
    uploaded = client.post(
        "/api/v1/datasets/inv/versions",
        content=csv.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    target = client.put(
        "/api/v1/territories/epci:200000001/target",
        json={"reference_year": 2019, "target_year": 2050, "target_net": 0},
        headers=headers,
    )
    assert target.status_code == 200, target.text
    page = client.get("/territories/epci:200000001")
    assert page.status_code == 200
    text = page.text
    # 1200 + 3000.7 = 4200.7 tCO2e, shown rounded to 4 201 (no sequestration: net = emissions).
    assert "4\u202f201 <abbr" in text
    # Net per inhabitant: 4200.7 / 1000 = 4.2 t.
    assert "4,2 tCO₂e" in text
    assert '<th scope="row">2019' in text  # the accessible table, one row per year
    assert 'href="/datasets/inv"' in text  # sources
    assert 'href="/territories/commune:99001"' in text  # territories inside
    assert "format=csv&amp;dialect=fr" in text
    sector = client.get("/sectors/road_transport?territory=epci:200000001")
    assert sector.status_code == 200
    assert "3\u202f001 <abbr" in sector.text  # 3000.7 rounded
    assert client.get("/sectors/unknown?territory=epci:200000001").status_code == 404


def test_dashboard_hides_restricted_emissions_from_who_may_not_read_them(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> None:
    producer = make_user("producer", "port-atlantique", member=True)
    outsider = make_user("analyst", "bureau-prive", member=False)
    body = {"code": "epci:200000002", "name": "CA Secrète", "level": "epci"}
    assert client.post("/api/v1/territories", json=body, headers=admin.headers).status_code == 201
    created = client.post(
        "/api/v1/datasets",
        json={
            "id": "port-secret",
            "title": "Émissions du port",
            "licence": "restricted-1.0",
            "kind": "emissions",
        },
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    csv = "year;territory;sector;value;unit\n2020;epci:200000002;other_transport;4321,7;tCO2e\n"
    uploaded = client.post(
        "/api/v1/datasets/port-secret/versions",
        content=csv.encode(),
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    # The producer sees its 4321.7 t (shown rounded: 4 322) and its dataset among the sources.
    own = client.get("/territories/epci:200000002", headers=producer.headers).text
    assert "4\u202f322" in own
    assert 'href="/datasets/port-secret"' in own
    # Anonymous and an organisation without a grant: neither the figure nor the dataset.
    for headers in ({}, outsider.headers):
        page = client.get("/territories/epci:200000002", headers=headers)
        assert page.status_code == 200
        assert "4\u202f322" not in page.text
        assert "4322" not in page.text
        assert "port-secret" not in page.text
