"""/me: organisation, role and API tokens — shown once, listed by prefix, last use, revoked."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from datahub.accounts import service as accounts
from datahub.db.models import ApiToken, AuditEvent
from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.web.conftest import csrf_of, sign_in

_SHOWN = re.compile(r'id="token-value" class="secret" value="(dh_[^"]+)"')


def _signed_in(
    client: TestClient, set_password: Callable[[str], None], persona: Persona
) -> TestClient:
    set_password(persona.email)
    browser = TestClient(client.app, raise_server_exceptions=False)
    sign_in(browser, persona.email)
    return browser


def _create(browser: TestClient, label: str) -> tuple[int, str]:
    response = browser.post(
        "/me/tokens", data={"label": label, "csrf": csrf_of(browser.get("/me").text)}
    )
    return response.status_code, response.text


def _token_row(runtime: Runtime, prefix: str) -> ApiToken:
    with runtime.read_session() as session:
        found = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).one()
        session.expunge(found)
        return found


def _last_use_after(runtime: Runtime, prefix: str, moment: datetime | None) -> datetime:
    """The token's last use once the writer thread has stored one later than ``moment``."""
    deadline = time.monotonic() + 10
    while True:
        used = _token_row(runtime, prefix).last_used_at
        if used is not None and (moment is None or used > moment):
            return used
        assert time.monotonic() < deadline, "the last use was never written"
        time.sleep(0.05)


def _row_html(page: str, token_id: int) -> str:
    found = re.search(rf'<tr id="jeton-{token_id}">(.*?)</tr>', page, re.DOTALL)
    assert found is not None, token_id
    return found.group(1)


def _events(runtime: Runtime, action: str) -> list[AuditEvent]:
    with runtime.read_session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_account_page_names_organisation_and_role(
    client: TestClient, make_user: Callable[..., Persona], set_password: Callable[[str], None]
) -> None:
    producer = make_user("producer", "port-atlantique", member=True)
    page = _signed_in(client, set_password, producer).get("/me")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-cache"
    assert "PORT-ATLANTIQUE" in page.text  # the organisation's name
    assert "producteur de données" in page.text
    assert "signataire" in page.text
    assert 'href="/me" aria-current="page"' in page.text  # the header's link
    assert 'href="/access-requests"' in page.text
    # The first token (made with the user) is listed by its prefix only.
    assert producer.token[:8] in page.text
    assert producer.token not in page.text


def test_a_token_is_shown_once_works_moves_its_last_use_and_dies_when_revoked(
    client: TestClient,
    runtime: Runtime,
    make_user: Callable[..., Persona],
    set_password: Callable[[str], None],
) -> None:
    analyst = make_user("analyst", "commune-aytre", member=True)
    browser = _signed_in(client, set_password, analyst)
    status, text = _create(browser, "tableur du plan climat")
    assert status == 201
    (token,) = _SHOWN.findall(text)
    assert "il ne sera plus jamais affiché" in text
    # Never again: the page lists it by its first 8 characters, with its label.
    later = browser.get("/me")
    assert token not in later.text
    assert token[:8] in later.text
    assert "tableur du plan climat" in later.text
    row = _token_row(runtime, token[:8])
    assert "jamais" in _row_html(later.text, row.id)  # never used yet
    assert row.label == "tableur du plan climat"
    assert row.last_used_at is None
    # (created through the same service, and audited as, an admin's issue)
    (created,) = [e for e in _events(runtime, "token.create") if e.user_email == analyst.email]
    assert created.detail == {"user": analyst.email, "label": "tableur du plan climat"}
    # Used on a GET of the API: its last use is written after the response, to the minute.
    before = datetime.now(UTC)
    assert (
        client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    used = _last_use_after(runtime, token[:8], None)
    assert used >= before - timedelta(seconds=1)
    # Within the minute, another use writes nothing (at most one write a minute per token): the
    # request finds the stored use fresh and queues no write at all.
    client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {token}"})
    assert _token_row(runtime, token[:8]).last_used_at == used
    # Once the stored use is older than a minute, the next request moves it again.
    stale = datetime.now(UTC) - timedelta(minutes=5)
    with runtime.transaction() as session:
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=stale))
    client.get("/", headers={"Authorization": f"Bearer {token}"})  # a page takes it too
    assert _last_use_after(runtime, token[:8], stale) >= used
    assert "jamais" not in _row_html(browser.get("/me").text, row.id)  # the date of its use
    # Revoked from the page: the API refuses it from then on.
    revoked = browser.post(
        f"/me/tokens/{row.id}/revoke",
        data={"csrf": csrf_of(browser.get("/me").text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert "révoqué le" in browser.get(revoked.headers["location"]).text
    refused = client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    (event,) = _events(runtime, "token.revoke")
    assert event.detail == {"user": analyst.email, "token": row.id, "prefix": token[:8]}
    assert event.user_email == analyst.email


def test_token_forms_refuse_what_the_api_refuses(
    client: TestClient,
    runtime: Runtime,
    make_user: Callable[..., Persona],
    set_password: Callable[[str], None],
) -> None:
    analyst = make_user("analyst", "commune-aytre", member=True)
    other = make_user("analyst", "bureau-prive")
    browser = _signed_in(client, set_password, analyst)
    # A label is required; nothing is created without one.
    status, text = _create(browser, "  ")
    assert status == 422
    assert "donnez un nom au jeton" in text
    # No CSRF token: refused.
    forged = browser.post("/me/tokens", data={"label": "x", "csrf": "faux"})
    assert forged.status_code == 403
    # A bearer token cannot mint tokens through the page (a leaked token must not outlive
    # its revocation by minting successors).
    csrf = csrf_of(browser.get("/me").text)
    minted = browser.post(
        "/me/tokens",
        data={"label": "x", "csrf": csrf},
        headers={"Authorization": f"Bearer {analyst.token}"},
    )
    assert minted.status_code == 403
    assert "un jeton d&#39;API ne peut pas créer d&#39;autres jetons" in minted.text
    with runtime.read_session() as session:
        user = accounts.get_user_by_email(session, analyst.email)
        theirs = accounts.get_user_by_email(session, other.email)
        assert len(accounts.repository.tokens_of(session, user.id)) == 1
        their_token = accounts.repository.tokens_of(session, theirs.id)[0].id
    # Someone else's token: the API's 404 through the page, 403 through the API.
    stolen = browser.post(f"/me/tokens/{their_token}/revoke", data={"csrf": csrf})
    assert stolen.status_code == 404
    api = client.delete(f"/api/v1/users/{theirs.id}/tokens/{their_token}", headers=analyst.headers)
    assert api.status_code == 403
    assert client.get("/api/v1/datasets", headers=other.headers).status_code == 200


def test_the_api_lists_and_revokes_tokens_with_their_label(
    client: TestClient, runtime: Runtime, make_user: Callable[..., Persona], admin: Persona
) -> None:
    analyst = make_user("analyst", "commune-aytre", member=True)
    with runtime.read_session() as session:
        user_id = accounts.get_user_by_email(session, analyst.email).id
    # An admin issues a labelled token; the body stays optional (as before this field).
    issued = client.post(
        f"/api/v1/users/{user_id}/tokens", json={"label": "SIG"}, headers=admin.headers
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["label"] == "SIG"
    bare = client.post(f"/api/v1/users/{user_id}/tokens", headers=admin.headers)
    assert bare.status_code == 201
    assert bare.json()["label"] == ""
    refused = client.post(f"/api/v1/users/{user_id}/tokens", headers=analyst.headers)
    assert refused.status_code == 403
    # The owner lists them: labels and prefixes, never a secret.
    listed = client.get(f"/api/v1/users/{user_id}/tokens", headers=analyst.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["meta"]["total"] == 3
    assert [t["label"] for t in body["data"]] == ["", "SIG", ""]
    assert issued.json()["token"] not in listed.text
    assert analyst.token not in listed.text
    # The owner revokes one (audited); it no longer authenticates.
    sig = body["data"][1]["id"]
    gone = client.delete(f"/api/v1/users/{user_id}/tokens/{sig}", headers=analyst.headers)
    assert gone.status_code == 200
    assert gone.json()["revoked_at"] is not None
    auth = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert client.get("/api/v1/datasets", headers=auth).status_code == 401
    assert client.get(f"/api/v1/users/{user_id}/tokens").status_code == 401
