"""Producers publish from the pages: create, upload (report, jobs), edit, licence change, delete.

Everything through the ASGI app, signed in with the login form; each write is compared with the
API's: same refusals, nothing stored when refused, the same audit events.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.web.conftest import csrf_of, sign_in

GOOD = (
    "year;territory;sector;value;unit\n"
    "2019;epci:241700434;residential;1200,5;tCO2e\n"
    "2019;epci:241700434;road_transport;3000;tCO2e\n"
)
# Row 2's value is not a number: the report names row 2 and the field "value".
BAD = (
    "year;territory;sector;value;unit\n"
    "2019;epci:241700434;residential;1200,5;tCO2e\n"
    "2019;epci:241700434;road_transport;beaucoup;tCO2e\n"
)
#: Audit fields that say who did what to which dataset under which licence (time, request id and
#: hashes differ between two actions by nature).
SAME = ("action", "outcome", "user_email", "organization_id", "licence", "basis", "row_count")


@pytest.fixture
def producer(
    client: TestClient, make_user: Callable[..., Persona], set_password: Callable[[str], None]
) -> Persona:
    persona = make_user("producer", "port-atlantique", member=True)
    set_password(persona.email)
    return persona


@pytest.fixture
def territory(client: TestClient, admin: Persona) -> str:
    body = {"code": "epci:241700434", "name": "CA de La Rochelle", "level": "epci"}
    assert client.post("/api/v1/territories", json=body, headers=admin.headers).status_code == 201
    return body["code"]


def _events(client: TestClient, admin: Persona, **filters: str) -> list[dict[str, Any]]:
    found = client.get("/api/v1/audit/events", params=filters, headers=admin.headers)
    assert found.status_code == 200, found.text
    data: list[dict[str, Any]] = found.json()["data"]
    return data


def _same(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event[k] for k in SAME}


def _datasets(client: TestClient, admin: Persona) -> list[str]:
    return [d["id"] for d in client.get("/api/v1/datasets", headers=admin.headers).json()["data"]]


def _create(client: TestClient, **fields: str) -> Any:
    token = csrf_of(client.get("/datasets/new").text)
    body = {
        "title": "Inventaire du port",
        "description": "Émissions des sites portuaires",
        "kind": "emissions",
        "tags": "port, énergie",
        "territories": "epci:241700434",
        "start": "2019",
        "end": "2019",
        "licence": "restricted-stat-1.0",
        "csrf": token,
        **fields,
    }
    return client.post("/datasets/new", data=body, follow_redirects=False)


def _upload(client: TestClient, dataset_id: str, text: str, **fields: str) -> Any:
    token = csrf_of(client.get(f"/datasets/{dataset_id}/upload").text)
    return client.post(
        f"/datasets/{dataset_id}/upload",
        data={"csrf": token, **fields},
        files={"file": ("inventaire.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )


def test_only_producers_see_and_submit_the_new_dataset_form(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona, producer: Persona
) -> None:
    anonymous = client.get("/datasets/new", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/datasets/new"
    token = csrf_of(client.get("/login").text)
    refused = client.post(
        "/datasets/new", data={"title": "x", "licence": "etalab-2.0", "csrf": token}
    )
    assert refused.status_code == 401  # as POST /api/v1/datasets without a token
    for role in ("analyst", "auditor"):
        other = make_user(role, "commune-aytre", member=True)
        page = client.get("/datasets/new", headers=other.headers)
        assert page.status_code == 403
        assert "Seuls les producteurs" in page.text
        api = client.post(
            "/api/v1/datasets",
            json={"title": "x", "licence": "etalab-2.0"},
            headers=other.headers,
        )
        assert api.status_code == page.status_code
        posted = client.post(
            "/datasets/new",
            data={"title": "x", "licence": "etalab-2.0", "csrf": token},
            headers=other.headers,
        )
        assert posted.status_code == 403
        assert "Publier un jeu de données" not in client.get("/", headers=other.headers).text
    assert _datasets(client, admin) == []
    sign_in(client, producer.email)
    form = client.get("/datasets/new")
    assert form.status_code == 200
    # The picker lists every licence of the registry, each with its aggregates rule in words.
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    for licence in runtime.licences.all():
        assert f'value="{licence.id}"' in form.text
    allowed = "Les agrégats respectant le secret statistique peuvent être publiés à tous."
    denied = "Aucun agrégat n'est publié à qui ne peut pas lire les lignes."
    shown = html.unescape(form.text)
    registry = runtime.licences.all()
    assert shown.count(allowed) == sum(lic.aggregate_publication for lic in registry)
    assert shown.count(denied) == sum(not lic.aggregate_publication for lic in registry)
    assert "Réservé au producteur et aux personnes" in form.text  # the restricted level said
    assert 'href="/datasets/new"' in client.get("/").text


def test_creation_refuses_without_csrf_and_names_fields_in_french(
    client: TestClient, admin: Persona, producer: Persona, territory: str
) -> None:
    sign_in(client, producer.email)
    no_token = client.post("/datasets/new", data={"title": "Sans jeton", "licence": "etalab-2.0"})
    assert no_token.status_code == 403
    assert "formulaire expiré" in no_token.text
    bad = _create(
        client,
        title="",
        territories="epci:241700434, nulle-part",
        start="2020",
        end="2010",
        licence="",
        description="Ce que j'ai tapé",
    )
    assert bad.status_code == 422
    assert "Titre : ce champ est obligatoire" in bad.text
    assert "Territoires : code de territoire invalide" in bad.text
    assert "Licence : ce champ est obligatoire" in bad.text
    assert "Ce que j&#39;ai tapé" in bad.text  # what the user typed is kept (escaped)
    assert 'value="epci:241700434, nulle-part"' in bad.text
    assert 'aria-invalid="true"' in bad.text
    # A well-formed code that names no territory: the service's check, said in French.
    unknown = _create(client, territories="epci:999999999")
    assert unknown.status_code == 422
    assert "Territoires : territoire inconnu : epci:999999999" in unknown.text
    backwards = _create(client, start="2020", end="2010")
    assert "le début de la période est après sa fin" in backwards.text
    assert _datasets(client, admin) == []


def test_creation_is_the_apis_and_audited_alike(
    client: TestClient, admin: Persona, producer: Persona, territory: str
) -> None:
    sign_in(client, producer.email)
    created = _create(client)
    assert created.status_code == 303
    assert created.headers["location"] == "/datasets/inventaire-du-port/upload?cree=1"
    through_api = client.post(
        "/api/v1/datasets",
        json={"title": "Par l'API", "licence": "restricted-stat-1.0", "kind": "emissions"},
        headers=producer.headers,
    )
    assert through_api.status_code == 201
    read = client.get("/api/v1/datasets/inventaire-du-port", headers=producer.headers).json()
    assert read["territories"] == ["epci:241700434"]
    assert read["tags"] == ["port", "énergie"]
    assert read["temporal_coverage"] == {"start": "2019-01-01", "end": "2019-12-31"}
    assert read["level"] == "restricted"
    web, api = _events(client, admin, action="dataset.create")
    assert web["dataset_id"] == "inventaire-du-port"
    assert _same(web) == _same(api)
    upload = client.get(created.headers["location"])
    assert "Le jeu de données est créé" in upload.text


def test_a_refused_file_is_reported_row_by_row_and_nothing_is_stored(
    client: TestClient, admin: Persona, producer: Persona, territory: str
) -> None:
    sign_in(client, producer.email)
    assert _create(client).status_code == 303
    refused = _upload(client, "inventaire-du-port", BAD)
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Rien n'a été enregistré." in text
    assert '<td class="num">2</td><td>value</td>' in text  # row 2, field "value"
    # The first rows of the refused file beside the report, the bad one marked.
    assert "Premières lignes du fichier" in text
    assert "beaucoup" in text
    assert '<tr class="bad"><th scope="row" class="num">2' in text
    versions = client.get(
        "/api/v1/datasets/inventaire-du-port/versions", headers=producer.headers
    ).json()
    assert versions["data"] == []
    assert _events(client, admin, action="dataset.upload") == []
    # The API refuses the same file with the same row and field.
    api = client.post(
        "/api/v1/datasets/inventaire-du-port/versions",
        content=BAD.encode(),
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert api.status_code == 422
    assert [(e["row"], e["field"]) for e in api.json()["errors"]] == [(2, "value")]
    # An empty file is a French refusal too, naming the file field.
    empty = _upload(client, "inventaire-du-port", "")
    assert empty.status_code == 422
    assert "Aucun fichier reçu, ou un fichier vide" in empty.text


def test_a_good_file_becomes_the_new_version_audited_as_by_the_api(
    client: TestClient, admin: Persona, producer: Persona, territory: str
) -> None:
    sign_in(client, producer.email)
    assert _create(client).status_code == 303
    stored = _upload(client, "inventaire-du-port", GOOD)
    assert stored.status_code == 303
    assert stored.headers["location"] == "/datasets/inventaire-du-port/versions/1?nouvelle=1"
    page = client.get(stored.headers["location"]).text
    assert "La version 1 est enregistrée : 2 lignes" in page
    assert 'href="/datasets/inventaire-du-port"' in page
    same = _upload(client, "inventaire-du-port", GOOD)
    assert same.headers["location"].endswith("/versions/1?inchangee=1")
    api = client.post(
        "/api/v1/datasets/inventaire-du-port/versions",
        content=GOOD.replace("3000", "3001").encode(),
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert api.status_code == 201
    web_event, api_event = _events(client, admin, action="dataset.upload")
    assert (web_event["version"], api_event["version"]) == (1, 2)
    assert _same(web_event) == _same(api_event)
    assert web_event["row_count"] == 2
    dataset = client.get("/datasets/inventaire-du-port").text
    assert 'href="/datasets/inventaire-du-port/upload"' in dataset  # "Déposer une version"
    assert 'href="/datasets/inventaire-du-port/edit"' in dataset


def test_uploads_refuse_without_csrf_and_for_others_as_the_api(
    client: TestClient,
    make_user: Callable[..., Persona],
    admin: Persona,
    producer: Persona,
    territory: str,
) -> None:
    sign_in(client, producer.email)
    assert _create(client).status_code == 303
    files = {"file": ("a.csv", GOOD.encode(), "text/csv")}
    no_token = client.post("/datasets/inventaire-du-port/upload", files=files)
    assert no_token.status_code == 403
    assert "formulaire expiré" in no_token.text
    wrong = client.post(
        "/datasets/inventaire-du-port/upload", files=files, headers={"X-CSRF-Token": "faux"}
    )
    assert wrong.status_code == 403
    assert _events(client, admin, action="dataset.upload") == []
    client.cookies.clear()
    other = make_user("producer", "bureau-prive")
    page = client.get("/datasets/inventaire-du-port/upload", headers=other.headers)
    assert page.status_code == 403
    assert "Seuls les producteurs de l'organisation" in html.unescape(page.text)
    token = csrf_of(client.get("/login").text)
    posted = client.post(
        "/datasets/inventaire-du-port/upload",
        data={"csrf": token},
        files=files,
        headers=other.headers,
    )
    assert posted.status_code == 403
    api = client.post(
        "/api/v1/datasets/inventaire-du-port/versions",
        content=GOOD.encode(),
        headers={**other.headers, "Content-Type": "text/csv"},
    )
    assert api.status_code == 403
    web_denial, api_denial = _events(client, admin, action="dataset.upload")
    assert web_denial["outcome"] == "denied"
    assert _same(web_denial) == _same(api_denial)
    anonymous = client.get("/datasets/inventaire-du-port/upload", follow_redirects=False)
    assert anonymous.status_code == 404  # restricted: anonymous may not know it exists


def _wait_for(client: TestClient, url: str, state: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = client.get(url)
        assert page.status_code == 200
        if state in html.unescape(page.text):
            return html.unescape(page.text)
        assert 'http-equiv="refresh"' in page.text  # the no-JS page refreshes while it runs
        time.sleep(0.2)
    raise AssertionError(f"{url} never showed {state!r}")


def test_a_file_as_a_job_shows_its_progress_then_its_version_or_report(
    client: TestClient,
    make_user: Callable[..., Persona],
    admin: Persona,
    producer: Persona,
    territory: str,
) -> None:
    sign_in(client, producer.email)
    assert _create(client).status_code == 303
    refused = _upload(client, "inventaire-du-port", BAD, tache="1")
    assert refused.status_code == 303
    job_url = refused.headers["location"]
    assert job_url.startswith("/datasets/inventaire-du-port/upload/jobs/")
    report = _wait_for(client, job_url, "Rien n'a été enregistré.")
    assert '<td class="num">2</td><td>value</td>' in report
    stored = _upload(client, "inventaire-du-port", GOOD, tache="1")
    page = _wait_for(client, stored.headers["location"], "La version 1 est enregistrée")
    assert "(2 lignes)" in page
    assert 'href="/datasets/inventaire-du-port/versions/1"' in page
    fragment = client.get(stored.headers["location"], headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="job"')
    # Somebody else's job is not found, as on GET /api/v1/jobs/{id}.
    other = make_user("producer", "port-atlantique")
    client.cookies.clear()
    assert client.get(stored.headers["location"], headers=other.headers).status_code == 404


def test_edit_licence_change_shows_its_audit_entry_and_equals_the_api(
    client: TestClient, admin: Persona, producer: Persona, territory: str
) -> None:
    sign_in(client, producer.email)
    assert _create(client).status_code == 303
    form = client.get("/datasets/inventaire-du-port/edit")
    assert form.status_code == 200
    assert 'value="Inventaire du port"' in form.text
    assert "La licence n'a pas changé" in html.unescape(form.text)
    body = {
        "title": "Inventaire du port (révisé)",
        "description": "Émissions des sites portuaires",
        "tags": "port",
        "territories": "epci:241700434",
        "start": "2019",
        "end": "2020",
        "licence": "shared-charter-1.0",
        "csrf": csrf_of(form.text),
    }
    empty = client.post("/datasets/inventaire-du-port/edit", data={**body, "title": " "})
    assert empty.status_code == 422
    assert "Titre : ce champ est obligatoire" in empty.text
    assert (
        client.get("/api/v1/datasets/inventaire-du-port", headers=producer.headers).json()[
            "licence"
        ]["id"]
        == "restricted-stat-1.0"
    )
    changed = client.post("/datasets/inventaire-du-port/edit", data=body, follow_redirects=False)
    assert changed.status_code == 303
    assert changed.headers["location"] == "/datasets/inventaire-du-port/edit?modifie=licence"
    page = client.get(changed.headers["location"]).text
    assert "La licence a été changée" in page
    [event] = _events(client, admin, action="dataset.licence_change")
    assert f'<th scope="row">{event["seq"]}</th>' in page
    assert "<td>restricted-stat-1.0</td><td>shared-charter-1.0</td>" in page
    assert event["hash"][:16] in page
    read = client.get("/api/v1/datasets/inventaire-du-port", headers=producer.headers).json()
    assert read["title"] == "Inventaire du port (révisé)"
    assert read["level"] == "shared"
    assert read["temporal_coverage"]["end"] == "2020-12-31"
    api = client.patch(
        "/api/v1/datasets/inventaire-du-port",
        json={"licence": "restricted-stat-1.0"},
        headers=producer.headers,
    )
    assert api.status_code == 200
    web_event, api_event = _events(client, admin, action="dataset.licence_change")
    # The API changed it back: the same event, the other way round.
    assert {**_same(web_event), "licence": None} == {**_same(api_event), "licence": None}
    assert web_event["detail"] == {"from": "restricted-stat-1.0", "to": "shared-charter-1.0"}
    assert api_event["detail"] == {"from": "shared-charter-1.0", "to": "restricted-stat-1.0"}


def test_delete_asks_for_confirmation_then_deletes_as_the_api(
    client: TestClient, admin: Persona, producer: Persona, territory: str
) -> None:
    sign_in(client, producer.email)
    assert _create(client).status_code == 303
    assert _upload(client, "inventaire-du-port", GOOD).status_code == 303
    confirm = client.get("/datasets/inventaire-du-port/delete")
    assert "Cette suppression est définitive." in confirm.text
    assert "ses 1 version" in confirm.text
    token = csrf_of(confirm.text)
    unconfirmed = client.post(
        "/datasets/inventaire-du-port/delete", data={"csrf": token}, follow_redirects=False
    )
    assert unconfirmed.status_code == 303
    assert _datasets(client, admin) == ["inventaire-du-port"]
    no_token = client.post("/datasets/inventaire-du-port/delete", data={"confirm": "oui"})
    assert no_token.status_code == 403
    deleted = client.post(
        "/datasets/inventaire-du-port/delete", data={"csrf": token, "confirm": "oui"}
    )
    assert deleted.status_code == 200
    assert "ont été supprimés" in deleted.text
    assert _datasets(client, admin) == []
    assert client.get("/datasets/inventaire-du-port").status_code == 404
    [event] = _events(client, admin, action="dataset.delete")
    assert event["user_email"] == producer.email
    assert event["outcome"] == "allowed"


def test_territory_suggestions_complete_the_last_code(
    client: TestClient, producer: Persona, territory: str
) -> None:
    sign_in(client, producer.email)
    form = client.get("/datasets/new").text
    assert '<option value="epci:241700434">CA de La Rochelle</option>' in form  # no-JS list
    found = client.get("/datasets/new/territories", params={"territories": "commune:1, la roch"})
    assert found.status_code == 200
    assert '<option value="commune:1, epci:241700434">CA de La Rochelle' in found.text
    assert client.get("/datasets/new/territories?territories=zzz").text.strip() == ""
