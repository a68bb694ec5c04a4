"""/admin: admin only; each action changes what the API sees and writes the API's (or the
CLI's) audit event."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from datahub.accounts.caller import RequestContext
from datahub.cli import app as cli
from datahub.db.models import AuditEvent, Job
from datahub.ingest import jobs
from datahub.runtime import Runtime
from tests.api.world import World, build_world
from tests.conftest import Persona
from tests.web.conftest import csrf_of
from tests.web.tables import table_rows

LINK = re.compile(r'id="invitation-link" href="[^"]*/invitation/([^"]+)"')
TOKEN = re.compile(r'<code id="api-token">([^<]+)</code>')


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def events(runtime: Runtime, action: str) -> list[AuditEvent]:
    with runtime.read_session() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        return list(session.scalars(query))


def post(world: World, who: str, path: str, data: dict[str, Any] | None = None) -> Any:
    token = csrf_of(world.client.get("/login").text)
    return world.client.post(
        path,
        headers=world.headers(who),
        data={"csrf": token, **(data or {})},
        follow_redirects=False,
    )


def user_id(world: World, email: str) -> int:
    users = world.client.get("/api/v1/users", headers=world.headers("admin")).json()["data"]
    return int(next(u["id"] for u in users if u["email"] == email))


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 303), ("member", 403), ("producer", 403), ("auditor", 403), ("admin", 200)],
)
def test_admin_is_for_admins(world: World, runtime: Runtime, who: str, status: int) -> None:
    page = world.client.get("/admin", headers=world.headers(who), follow_redirects=False)
    assert page.status_code == status, page.text[:300]
    if status == 403:
        assert "réservée au rôle administrateur" in page.text
    if who == "anonymous":
        assert page.headers["location"] == "/login?next=%2Fadmin"
    home = world.client.get("/", headers=world.headers(who)).text
    assert ('href="/admin"' in home) is (status == 200)
    if status == 200:
        return
    member = world.personas["member"]
    assert member is not None
    target = user_id(world, member.email)
    before = len(events(runtime, "organization.membership"))
    for path, data in (
        ("/admin/organizations", {"id": "intrus", "name": "Intrus"}),
        ("/admin/organizations/bureau-prive/membership", {"member": "true"}),
        ("/admin/users", {"email": "x@y.example.org", "organization": "bureau-prive"}),
        (f"/admin/users/{target}/invitation", {}),
        (f"/admin/users/{target}/role", {"role": "admin"}),
        (f"/admin/users/{target}/disabled", {"disabled": "true"}),
        ("/admin/reference/emission_factors", {"datasets": []}),
    ):
        if "role" in path:
            data = {**data, "role": "admin"}
        response = post(world, who, path, data)
        assert response.status_code == status, (who, path, response.text[:300])
    # Nothing changed for the API.
    orgs = world.client.get("/api/v1/organizations").json()["data"]
    assert "intrus" not in {o["id"] for o in orgs}
    assert next(o for o in orgs if o["id"] == "bureau-prive")["member"] is False
    me = world.client.get("/api/v1/datasets", headers=member.headers)
    assert me.status_code == 200  # not disabled
    assert len(events(runtime, "organization.membership")) == before
    assert not events(runtime, "invitation.create")


def test_organisations_created_and_charter_membership_toggled(
    world: World, runtime: Runtime
) -> None:
    shared = world.create_dataset("shared")
    outsider = world.personas["non_member"]
    assert outsider is not None
    data = f"/api/v1/datasets/{shared}/data"
    assert world.client.get(data, headers=outsider.headers).status_code == 403
    done = post(world, "admin", "/admin/organizations/bureau-prive/membership", {"member": "true"})
    assert (done.status_code, done.headers["location"]) == (303, "/admin#organisations")
    # Now a charter member: the API serves it the shared rows.
    assert world.client.get(data, headers=outsider.headers).status_code == 200
    page = world.client.get("/admin", headers=world.headers("admin")).text
    assert "« BUREAU-PRIVE » est désormais signataire de la charte." in page
    post(world, "admin", "/admin/organizations/bureau-prive/membership", {})
    assert world.client.get(data, headers=outsider.headers).status_code == 403
    toggles = events(runtime, "organization.membership")
    assert [e.detail for e in toggles] == [
        {"organization": "bureau-prive", "from": False, "to": True},
        {"organization": "bureau-prive", "from": True, "to": False},
    ]
    admin = world.personas["admin"]
    assert admin is not None
    assert {e.user_email for e in toggles} == {admin.email}
    # The API's PATCH writes the same event.
    patched = world.client.patch(
        "/api/v1/organizations/bureau-prive", json={"member": True}, headers=admin.headers
    )
    assert patched.json()["member"] is True
    assert events(runtime, "organization.membership")[-1].detail == toggles[0].detail

    created = post(
        world,
        "admin",
        "/admin/organizations",
        {"id": "ville-lagord", "name": "Ville de Lagord", "member": "true", "siren": "211701950"},
    )
    assert created.status_code == 303
    org = world.client.get("/api/v1/organizations/ville-lagord").json()
    assert (org["name"], org["member"], org["siren"]) == ("Ville de Lagord", True, "211701950")
    via_api = world.client.post(
        "/api/v1/organizations", json={"id": "ville-puilboreau", "name": "P"}, headers=admin.headers
    )
    assert via_api.status_code == 201
    made = events(runtime, "organization.create")
    assert [e.detail for e in made] == [
        {"organization": "ville-lagord", "member": True},
        {"organization": "ville-puilboreau", "member": False},
    ]
    # Bad input: the field named in French, nothing stored; a duplicate is a conflict.
    bad = post(world, "admin", "/admin/organizations", {"id": "Pas Un Slug", "name": "X"})
    assert bad.status_code == 422
    assert "id" in bad.text
    again = post(world, "admin", "/admin/organizations", {"id": "ville-lagord", "name": "X"})
    assert again.status_code == 409
    assert len(events(runtime, "organization.create")) == 2


def test_invite_a_user_shows_the_link_once_as_the_cli_does(
    world: World, runtime: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = post(
        world,
        "admin",
        "/admin/users",
        {
            "email": "lea@commune-aytre.example.org",
            "organization": "commune-aytre",
            "role": "producer",
        },
    )
    assert response.status_code == 201, response.text[:500]
    link = LINK.search(response.text)
    token = TOKEN.search(response.text)
    assert link
    assert token
    # The link is the invitation page's; the token is the API's.
    assert "lea@commune-aytre.example.org" in world.client.get(f"/invitation/{link.group(1)}").text
    me = world.client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert me.status_code == 200
    users = world.client.get("/api/v1/users", headers=world.headers("admin")).json()["data"]
    lea = next(u for u in users if u["email"] == "lea@commune-aytre.example.org")
    assert (lea["organization_id"], lea["role"]) == ("commune-aytre", "producer")
    # Shown once: the page as it is loaded again carries neither.
    again = world.client.get("/admin", headers=world.headers("admin")).text
    assert link.group(1) not in again
    assert token.group(1) not in again
    # Re-inviting an existing user, as `datahub users invite` does, writes the same event.
    resent = post(world, "admin", f"/admin/users/{lea['id']}/invitation")
    assert resent.status_code == 200
    assert LINK.search(resent.text)
    monkeypatch.setenv("DATAHUB_DATABASE_URL", database_url)
    cli_run = CliRunner().invoke(cli, ["users", "invite", "lea@commune-aytre.example.org"])
    assert cli_run.exit_code == 0, cli_run.output
    web_1, web_2, by_cli = events(runtime, "invitation.create")
    admin = world.personas["admin"]
    assert admin is not None
    assert (web_1.detail, web_1.user_email) == ({"user": lea["email"]}, admin.email)
    assert web_2.detail == web_1.detail
    assert by_cli.detail == {"user": lea["email"], "via": "cli"}
    (created,) = events(runtime, "token.create")
    assert created.detail == {"user": lea["email"], "role": "producer"}  # the API's POST /users
    bad = post(world, "admin", "/admin/users", {"email": "pas-une-adresse", "organization": "x"})
    assert bad.status_code == 422


def test_role_change_and_disable_as_the_api_sees_them(world: World, runtime: Runtime) -> None:
    member = world.personas["member"]
    admin = world.personas["admin"]
    assert member is not None
    assert admin is not None
    target = user_id(world, member.email)
    assert (
        post(world, "admin", f"/admin/users/{target}/role", {"role": "producer"}).status_code == 303
    )
    users = world.client.get("/api/v1/users", headers=admin.headers).json()["data"]
    assert next(u for u in users if u["id"] == target)["role"] == "producer"
    (changed,) = events(runtime, "user.role_change")
    assert changed.detail == {"user": member.email, "from": "analyst", "to": "producer"}
    bad_role = post(world, "admin", f"/admin/users/{target}/role", {"role": "roi"})
    assert bad_role.status_code == 422

    assert (
        post(world, "admin", f"/admin/users/{target}/disabled", {"disabled": "true"}).status_code
        == 303
    )
    # Disabled: its token is refused by the API and by the pages.
    assert world.client.get("/api/v1/datasets", headers=member.headers).status_code == 401
    assert world.client.get("/", headers=member.headers).status_code == 401
    rows = {
        r[0]: r
        for r in table_rows(world.client.get("/admin", headers=admin.headers).text, "t-users")
    }
    assert rows[member.email][3].startswith("désactivé le")
    assert post(world, "admin", f"/admin/users/{target}/disabled", {}).status_code == 303
    assert world.client.get("/api/v1/datasets", headers=member.headers).status_code == 200
    assert [e.action for e in events(runtime, "user.disable") + events(runtime, "user.enable")] == [
        "user.disable",
        "user.enable",
    ]
    # The API's PATCH does the same, and nobody disables their own account.
    patched = world.client.patch(
        f"/api/v1/users/{target}", json={"disabled": True}, headers=admin.headers
    )
    assert patched.json()["disabled_at"] is not None
    assert events(runtime, "user.disable")[-1].detail == {"user": member.email}
    myself = post(
        world, "admin", f"/admin/users/{user_id(world, admin.email)}/disabled", {"disabled": "true"}
    )
    assert myself.status_code == 409
    assert world.client.get("/api/v1/datasets", headers=admin.headers).status_code == 200


def _factor_table(world: World, dataset_id: str, kind: str = "emission_factors") -> None:
    response = world.client.post(
        "/api/v1/datasets",
        json={
            "id": dataset_id,
            "title": f"Facteurs {dataset_id}",
            "licence": "etalab-2.0",
            "kind": kind,
        },
        headers=world.headers("producer"),
    )
    assert response.status_code == 201, response.text


def test_reference_datasets_designated_and_undesignated(world: World, runtime: Runtime) -> None:
    _factor_table(world, "base-carbone")
    _factor_table(world, "facteurs-locaux")
    _factor_table(world, "dju-station", "climate")
    page = world.client.get("/admin", headers=world.headers("admin")).text
    # Each kind offers its own datasets only.
    emission_form = page.split('id="reference-emission_factors"', 1)[1].split("</form>", 1)[0]
    assert 'value="base-carbone"' in emission_form
    assert 'value="dju-station"' not in emission_form
    done = post(world, "admin", "/admin/reference/emission_factors", {"datasets": ["base-carbone"]})
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/admin#reference-emission_factors",
    )
    assert world.client.get("/api/v1/reference/emission_factors").json()["datasets"] == [
        "base-carbone"
    ]
    page = world.client.get("/admin", headers=world.headers("admin")).text
    assert re.search(r'value="base-carbone" checked', page)
    post(world, "admin", "/admin/reference/emission_factors", {})  # every box unticked
    assert world.client.get("/api/v1/reference/emission_factors").json()["datasets"] == []
    # The API's PUT writes the same event as the page.
    world.client.put(
        "/api/v1/reference/emission_factors", json=["base-carbone"], headers=world.headers("admin")
    )
    assert [e.detail for e in events(runtime, "reference.update")] == [
        {"kind": "emission_factors", "before": [], "after": ["base-carbone"]},
        {"kind": "emission_factors", "before": ["base-carbone"], "after": []},
        {"kind": "emission_factors", "before": [], "after": ["base-carbone"]},
    ]
    wrong = post(world, "admin", "/admin/reference/emission_factors", {"datasets": ["dju-station"]})
    assert wrong.status_code == 422
    assert "dju-station" in wrong.text
    assert world.client.get("/api/v1/reference/emission_factors").json()["datasets"] == [
        "base-carbone"
    ]


def test_connector_runs_with_progress(world: World, runtime: Runtime) -> None:
    from datahub.accounts import service as accounts

    admin = world.personas["admin"]
    assert admin is not None
    with runtime.read_session() as session:
        caller = accounts.authenticate(session, admin.token)
    job = jobs.create(
        runtime,
        jobs.CONNECTOR_RUN,
        "geo-api",
        {"epci": "241700434"},
        RequestContext(caller),
        owned=False,
    )
    with runtime.transaction() as session:
        row = session.get(Job, job.id)
        assert row is not None
        row.state, row.progress_done, row.progress_total, row.message = "running", 3, 12, "communes"
    page = world.client.get("/admin", headers=admin.headers).text
    rows = table_rows(page, "t-runs")
    assert rows[1][0:2] == ["geo-api", "en cours"]
    assert rows[1][2].endswith("3 / 12")
    assert rows[1][3] == "communes"
    assert '<progress max="12" value="3"' in page
    api = world.client.get("/api/v1/connectors/runs", headers=admin.headers).json()["data"]
    assert [(r["id"], r["state"], r["progress"]["done"]) for r in api] == [(job.id, "running", 3)]
    # A producer sees its own runs through the API (none), never another's.
    assert (
        world.client.get("/api/v1/connectors/runs", headers=world.headers("producer")).json()[
            "data"
        ]
        == []
    )
