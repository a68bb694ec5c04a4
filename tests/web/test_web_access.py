"""/access-requests in the browser: producers decide and revoke, requesters follow their requests.

Each action is done through the page forms (CSRF, session cookie) and compared with the same
action through the API: same status for a refusal, same audit events, same mails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from datahub.db.models import AuditEvent, Grant
from datahub.runtime import Runtime, build_runtime, notification_delivery
from datahub.settings import Settings
from datahub.web.fmt import ZONE
from tests.api.world import World, build_world
from tests.conftest import Persona
from tests.notifications.test_notifications_delivery import Inbox, smtp  # noqa: F401
from tests.web.conftest import csrf_of, sign_in


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:  # noqa: F811
    return settings.model_copy(
        update={"smtp_url": SecretStr(f"smtp://127.0.0.1:{smtp[1]}"), "mail_from": "hub@t.example"}
    )


@pytest.fixture
def runtime(mail_settings: Settings) -> Iterator[Runtime]:
    """This module's instance mails through the test SMTP server."""
    rt = build_runtime(mail_settings)
    yield rt
    rt.close()


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


@pytest.fixture
def browser_of(
    client: TestClient, set_password: Callable[[str], None]
) -> Callable[[Persona], TestClient]:
    """A second browser (its own cookie jar) signed in as ``persona`` through the login form."""

    def open_as(persona: Persona) -> TestClient:
        set_password(persona.email)
        browser = TestClient(client.app, raise_server_exceptions=False)
        sign_in(browser, persona.email)
        return browser

    return open_as


def events(runtime: Runtime, *actions: str) -> list[AuditEvent]:
    with runtime.read_session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.seq)
            )
        )


def shape(event: AuditEvent) -> dict[str, Any]:
    """An event without what differs between two datasets: ids become their kind."""
    detail = {
        k: (type(v).__name__ if k in ("request", "grant") else v) for k, v in event.detail.items()
    }
    return {
        "action": event.action,
        "outcome": event.outcome,
        "user": event.user_email,
        "organization": event.organization_id,
        "licence": event.licence,
        "basis": re.sub(r"\d+", "N", event.basis or ""),
        "purpose": event.purpose,
        "detail": detail,
    }


def deliver(runtime: Runtime) -> int:
    delivery = notification_delivery(runtime)
    try:
        return delivery.run_once()
    finally:
        delivery.http.close()


def post_form(browser: TestClient, page: str, action: str, **fields: str) -> Any:
    """Submit a form of ``page`` the way a browser does: with the CSRF token the page carries."""
    token = csrf_of(browser.get(page).text)
    return browser.post(action, data={**fields, "csrf": token}, follow_redirects=False)


def _request(world: World, who: str, dataset_id: str, purpose: str = "Plan climat") -> int:
    filed = world.client.post(
        f"/api/v1/datasets/{dataset_id}/access-requests",
        json={"purpose": purpose},
        headers=world.headers(who),
    )
    assert filed.status_code == 201, filed.text
    return int(filed.json()["id"])


def test_anonymous_callers_are_sent_to_sign_in(world: World) -> None:
    client = world.client
    for page in ("/access-requests", "/me"):
        moved = client.get(page, follow_redirects=False)
        assert moved.status_code == 303
        assert moved.headers["location"] == f"/login?next={page}"
    # A decision posted without signing in is the API's answer (401), as a French page.
    request_id = _request(world, "member", world.create_dataset("shared"))
    api = client.post(f"/api/v1/access-requests/{request_id}/approve")
    assert api.status_code == 401
    token = csrf_of(client.get("/login").text)
    refused = client.post(f"/access-requests/{request_id}/approve", data={"csrf": token})
    assert refused.status_code == 401
    assert "Connexion nécessaire" in refused.text


def test_a_member_asks_the_producer_approves_with_an_expiry_the_member_reads(
    world: World,
    runtime: Runtime,
    browser_of: Callable[[Persona], TestClient],
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _port = smtp
    member, producer = world.personas["member"], world.personas["producer"]
    assert member is not None
    assert producer is not None
    dataset_id = world.create_dataset("restricted")
    member_browser, producer_browser = browser_of(member), browser_of(producer)
    # The member asks from the dataset page, and sees the request as sent, pending.
    asked = post_form(
        member_browser,
        f"/datasets/{dataset_id}",
        f"/datasets/{dataset_id}/access-requests",
        purpose="Plan climat d'Aytré",
    )
    assert asked.status_code == 303, asked.text
    sent = member_browser.get("/access-requests").text
    assert "Mes demandes" in sent
    assert "Plan climat d&#39;Aytré" in sent
    assert "en attente" in sent
    assert "Demandes reçues" not in sent  # an analyst decides for no dataset
    # The producer was mailed, and sees it received, with the forms to decide.
    assert deliver(runtime) >= 1
    (told,) = inbox.to(producer.email)
    assert dataset_id in told.get_payload(decode=True).decode()
    received = producer_browser.get("/access-requests")
    assert received.status_code == 200
    assert member.email in received.text
    assert "1 en attente" in received.text
    (request_id,) = re.findall(r'action="/access-requests/(\d+)/approve"', received.text)
    # Approve until a date: the grant runs through that day, Paris time.
    until = date.today() + timedelta(days=30)
    approved = post_form(
        producer_browser,
        "/access-requests",
        f"/access-requests/{request_id}/approve",
        expires_on=until.isoformat(),
        grant_to="user",
    )
    assert approved.status_code == 303, approved.text
    with runtime.read_session() as session:
        (grant,) = session.scalars(select(Grant).where(Grant.dataset_id == dataset_id)).all()
        assert grant.expires_at is not None
        # The first instant of the next day in Paris (01:00 or 02:00 UTC the day before + 1).
        assert grant.expires_at.astimezone(ZONE) == datetime.combine(
            until + timedelta(days=1), datetime.min.time(), ZONE
        )
    after = producer_browser.get("/access-requests?fait=acceptee").text
    assert "Demande acceptée" in after
    assert "en vigueur" in after
    assert "inclus" in after
    # The requester was mailed the decision and reads the rows on the dataset page (audited).
    deliver(runtime)
    (decision,) = inbox.to(member.email)
    assert dataset_id in decision.get_payload(decode=True).decode()
    mine = member_browser.get("/access-requests").text
    assert "acceptée" in mine
    assert "inclus" in mine
    page = member_browser.get(f"/datasets/{dataset_id}").text
    assert "1,50" in page
    (read,) = [e for e in events(runtime, "dataset.read_rows") if e.dataset_id == dataset_id]
    assert read.basis == f"grant:{grant.id}"
    assert read.user_email == member.email


def test_page_decisions_audit_exactly_what_the_api_does(
    world: World, runtime: Runtime, browser_of: Callable[[Persona], TestClient]
) -> None:
    producer = world.personas["producer"]
    assert producer is not None
    by_page, by_api = world.create_dataset("shared"), world.create_dataset("shared")
    browser = browser_of(producer)
    actions = ("access_request.approve", "access_request.deny", "grant.revoke")

    def through_api() -> None:
        approve = _request(world, "non_member", by_api)
        deny = _request(world, "grantee", by_api)
        api = world.client
        assert (
            api.post(
                f"/api/v1/access-requests/{approve}/approve", headers=producer.headers
            ).status_code
            == 200
        )
        assert (
            api.post(
                f"/api/v1/access-requests/{deny}/deny",
                json={"reason": "hors du territoire"},
                headers=producer.headers,
            ).status_code
            == 200
        )
        grants = api.get(f"/api/v1/datasets/{by_api}/grants", headers=producer.headers).json()
        (grant,) = grants["data"]
        assert (
            api.delete(
                f"/api/v1/datasets/{by_api}/grants/{grant['id']}", headers=producer.headers
            ).status_code
            == 200
        )

    def through_pages() -> None:
        approve = _request(world, "non_member", by_page)
        deny = _request(world, "grantee", by_page)
        page = "/access-requests"
        assert post_form(browser, page, f"{page}/{approve}/approve").status_code == 303
        refused = post_form(browser, page, f"{page}/{deny}/deny", reason="")
        assert refused.status_code == 422  # a denial needs its reason, named in French
        assert "motif du refus" in refused.text
        assert (
            post_form(browser, page, f"{page}/{deny}/deny", reason="hors du territoire").status_code
            == 303
        )
        (grant_id,) = re.findall(
            rf'action="/datasets/{by_page}/grants/(\d+)/revoke"', browser.get(page).text
        )
        revoked = post_form(browser, page, f"/datasets/{by_page}/grants/{grant_id}/revoke")
        assert revoked.status_code == 303

    through_api()
    from_api = [shape(e) for e in events(runtime, *actions)]
    through_pages()
    from_pages = [shape(e) for e in events(runtime, *actions)][len(from_api) :]
    assert len(from_api) == 3
    assert from_pages == from_api
    # The denied requester reads the reason on the page, beside the status.
    grantee = world.personas["grantee"]
    assert grantee is not None
    mine = browser_of(grantee).get("/access-requests").text
    assert "refusée" in mine
    assert "hors du territoire" in mine


def test_refusals_are_the_apis_in_french_and_audited_alike(
    world: World, runtime: Runtime, browser_of: Callable[[Persona], TestClient]
) -> None:
    member, producer = world.personas["member"], world.personas["producer"]
    assert member is not None
    assert producer is not None
    dataset_id = world.create_dataset("shared")
    first, second = (
        _request(world, "non_member", dataset_id),
        _request(world, "grantee", dataset_id),
    )
    browser = browser_of(member)
    # Not the producer: the API's 403, on a French page; the denial is audited as the API's.
    api = world.client.post(f"/api/v1/access-requests/{first}/approve", headers=member.headers)
    assert api.status_code == 403
    page = post_form(browser, "/access-requests", f"/access-requests/{second}/approve")
    assert page.status_code == 403
    assert "seuls les producteurs de l&#39;organisation productrice" in page.text
    denied = [shape(e) for e in events(runtime, "access_request.approve")]
    assert len(denied) == 2
    assert denied[0] == denied[1]
    assert denied[0]["outcome"] == "denied"
    # No CSRF token: refused before anything happens.
    producer_browser = browser_of(producer)
    forged = producer_browser.post(f"/access-requests/{second}/approve", data={"csrf": "faux"})
    assert forged.status_code == 403
    assert "formulaire expiré" in forged.text
    assert "en attente" in producer_browser.get("/access-requests").text
    # Already decided: the API's 409, in French.
    done = post_form(producer_browser, "/access-requests", f"/access-requests/{second}/approve")
    assert done.status_code == 303
    again = post_form(producer_browser, "/access-requests", f"/access-requests/{second}/approve")
    assert again.status_code == 409
    assert "déjà reçu une décision" in again.text
    # A past or malformed expiry names the field; nothing is decided.
    for bad in ((date.today() - timedelta(days=1)).isoformat(), "31/12/2030"):
        refused = post_form(
            producer_browser,
            "/access-requests",
            f"/access-requests/{first}/approve",
            expires_on=bad,
        )
        assert refused.status_code == 422, bad
        assert "date d&#39;expiration" in refused.text
    # An unknown request is the API's 404.
    missing = post_form(
        producer_browser, "/access-requests", "/access-requests/99999/deny", reason="x"
    )
    assert missing.status_code == 404
    assert (
        world.client.post(
            "/api/v1/access-requests/99999/deny", json={}, headers=producer.headers
        ).status_code
        == 404
    )


def test_the_page_lists_grants_with_expiry_and_state(
    world: World, runtime: Runtime, browser_of: Callable[[Persona], TestClient]
) -> None:
    producer = world.personas["producer"]
    assert producer is not None
    dataset_id = world.create_dataset("restricted")
    soon = datetime.now(UTC) + timedelta(days=3)
    created = world.client.post(
        f"/api/v1/datasets/{dataset_id}/grants",
        json={"organization": "labo-universite", "expires_at": soon.isoformat()},
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    world.grant(dataset_id, "grantee")
    with runtime.transaction() as session:  # one grant already expired
        session.add(
            Grant(
                dataset_id=dataset_id,
                organization_id="commune-aytre",
                expires_at=datetime.now(UTC) - timedelta(days=1),
            )
        )
    text = browser_of(producer).get("/access-requests").text
    assert "organisation labo-universite" in text
    assert "sans date d&#39;expiration" in text
    assert "expirée" in text
    assert text.count("en vigueur") == 2
    assert text.count(f'action="/datasets/{dataset_id}/grants/') == 3
    # A member of another organisation manages none of them: nothing of them is listed.
    member = world.personas["member"]
    assert member is not None
    assert dataset_id not in browser_of(member).get("/access-requests").text
