"""Sign-in by invitation and password; the session sees what the API gives the same user."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from datahub.db.models import Invitation
from datahub.runtime import Runtime
from tests.api.world import World, build_world
from tests.conftest import Persona
from tests.web.conftest import PASSWORD, csrf_of, invite, sign_in


def test_invitation_sets_a_password_once_and_signs_in(
    client: TestClient, runtime: Runtime, make_user: Callable[..., Persona]
) -> None:
    user = make_user("analyst", "commune-aytre", member=True)
    link = f"/invitation/{invite(runtime, user.email)}"
    form = client.get(link)
    assert form.status_code == 200
    assert user.email in form.text
    token = csrf_of(form.text)
    short = client.post(link, data={"password": "court", "confirm": "court", "csrf": token})
    assert short.status_code == 422
    assert "12 caractères" in short.text
    done = client.post(
        link,
        data={"password": PASSWORD, "confirm": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert user.email in client.get("/").text  # signed in
    # The link is spent.
    assert client.get(link).status_code == 404
    # Signing out needs the form's CSRF token, then the session is gone.
    home = client.get("/").text
    assert client.post("/logout", data={"csrf": "faux"}).status_code == 403
    client.post("/logout", data={"csrf": csrf_of(home)})
    assert user.email not in client.get("/").text
    sign_in(client, user.email)
    assert user.email in client.get("/").text


def test_expired_or_unknown_invitations_are_refused(
    client: TestClient, runtime: Runtime, make_user: Callable[..., Persona]
) -> None:
    user = make_user("analyst", "commune-aytre", member=True)
    token = invite(runtime, user.email)
    with runtime.transaction() as session:
        session.execute(update(Invitation).values(expires_at=datetime.now(UTC) - timedelta(1)))
    assert client.get(f"/invitation/{token}").status_code == 404
    assert client.get("/invitation/dh_nope").status_code == 404


def test_wrong_passwords_are_refused_then_rate_limited(
    client: TestClient,
    runtime: Runtime,
    make_user: Callable[..., Persona],
    set_password: Callable[[str], None],
) -> None:
    user = make_user("analyst", "commune-aytre", member=True)
    set_password(user.email)
    token = csrf_of(client.get("/login").text)
    statuses = []
    for attempt in range(runtime.settings.signin_per_minute + 1):
        response = client.post(
            "/login", data={"email": user.email, "password": f"faux{attempt}", "csrf": token}
        )
        statuses.append(response.status_code)
        if response.status_code == 401:
            assert "mot de passe incorrect" in response.text
    # Five wrong attempts answered, the sixth refused unheard (settings.signin_per_minute = 5).
    assert statuses == [401] * runtime.settings.signin_per_minute + [429]
    # An unknown address gets the same answer as a wrong password (before the limit, elsewhere).
    assert (
        client.post("/login", data={"email": "x@y.fr", "password": "p", "csrf": ""}).status_code
        == 403
    )


def test_forms_without_csrf_token_are_refused(client: TestClient) -> None:
    response = client.post("/login", data={"email": "a@b.fr", "password": "x"})
    assert response.status_code == 403
    assert "formulaire expiré" in response.text


def _world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def test_a_signed_in_member_reads_shared_data_audited_like_the_api(
    client: TestClient,
    make_user: Callable[..., Persona],
    admin: Persona,
    set_password: Callable[[str], None],
) -> None:
    world = _world(client, make_user, admin)
    dataset_id = world.create_dataset("shared")
    member = world.personas["member"]
    assert member is not None
    anonymous = client.get(f"/datasets/{dataset_id}").text
    assert "1,50" not in anonymous
    assert "Connectez-vous" in anonymous
    set_password(member.email)
    sign_in(client, member.email)
    page = client.get(f"/datasets/{dataset_id}").text
    assert "1,50" in page
    assert "2,50" in page
    # The download link of the page is the API's, and the cookie is the same caller there...
    csv = client.get(f"/api/v1/datasets/{dataset_id}/data?format=csv&dialect=fr")
    assert csv.status_code == 200
    assert "1,5" in csv.text
    # ...for reads only: a write with the cookie and no token is anonymous.
    assert client.patch(f"/api/v1/datasets/{dataset_id}", json={"title": "x"}).status_code == 401
    events = client.get(
        "/api/v1/audit/events", params={"dataset": dataset_id}, headers=admin.headers
    ).json()["data"]
    reads = [
        e for e in events if e["action"] == "dataset.read_rows" and e["user_email"] == member.email
    ]
    assert len(reads) == 2  # the page's preview and the CSV
    assert {e["basis"] for e in reads} == {"member"}


def test_access_request_form_files_the_request(
    client: TestClient,
    make_user: Callable[..., Persona],
    admin: Persona,
    set_password: Callable[[str], None],
) -> None:
    world = _world(client, make_user, admin)
    dataset_id = world.create_dataset("restricted")
    outsider = world.personas["non_member"]
    producer = world.personas["producer"]
    assert outsider is not None
    assert producer is not None
    set_password(outsider.email)
    sign_in(client, outsider.email)
    page = client.get(f"/datasets/{dataset_id}").text
    assert "Demander l'accès" in page
    assert "1,50" not in page
    token = csrf_of(page)
    url = f"/datasets/{dataset_id}/access-requests"
    blank = client.post(url, data={"purpose": "  ", "csrf": token})
    assert blank.status_code == 422
    sent = client.post(url, data={"purpose": "Plan climat d'Aytré", "csrf": token})
    assert sent.status_code == 200
    assert "transmise au producteur" in sent.text
    filed = client.get(
        f"/api/v1/datasets/{dataset_id}/access-requests", headers=producer.headers
    ).json()["data"]
    assert [r["purpose"] for r in filed] == ["Plan climat d'Aytré"]
