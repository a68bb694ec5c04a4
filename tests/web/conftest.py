"""Web fixtures: a browser-like client that signs in through the pages themselves."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from datahub.accounts import signin
from datahub.runtime import Runtime

PASSWORD = "un mot de passe assez long"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def invite(runtime: Runtime, email: str) -> str:
    with runtime.transaction() as session:
        return signin.invite(session, email, days=7)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Sign in with the login form (the client keeps the session cookie)."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def set_password(client: TestClient, runtime: Runtime) -> Callable[[str], None]:
    """Give a user a password through the invitation page, then sign out."""

    def set_it(email: str) -> None:
        link = f"/invitation/{invite(runtime, email)}"
        token = csrf_of(client.get(link).text)
        response = client.post(
            link,
            data={"password": PASSWORD, "confirm": PASSWORD, "csrf": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        client.cookies.clear()

    return set_it
