"""The governance committee and the admin in a real browser (Chromium, Playwright, axe-core)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from datahub.accounts import signin
from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.liveserver import LiveServer
from tests.web.conftest import PASSWORD
from tests.web.test_web_browser import CHROMIUM, _axe, browser  # noqa: F401

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="apt-get install chromium")


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector(f"text={email}")


def test_auditor_audits_reads_and_admin_invites_and_designates(
    browser: Any,  # noqa: F811 (the fixture imported above)
    runtime: Runtime,
    live_server: LiveServer,
    make_user: Callable[..., Persona],
) -> None:
    member = make_user("analyst", "commune-aytre", member=True)
    other = make_user("analyst", "ville-lagord", member=True)
    producer = make_user("producer", "port-atlantique", member=True)
    auditor = make_user("auditor", "comite-gouvernance", member=True)
    admin = make_user("admin", "hub-operator", member=True)
    with runtime.transaction() as session:
        for persona in (auditor, admin):
            signin.accept(session, signin.invite(session, persona.email, days=1), PASSWORD)
    base = live_server.url
    api = f"{base}/api/v1"
    # A loaded CI machine runs the browser beside this server: httpx's 5 s default is too short.
    http = httpx.Client(timeout=60)
    created = http.post(
        f"{api}/datasets",
        json={
            "id": "conso-port",
            "title": "Consommations du port",
            "licence": "shared-charter-1.0",
        },
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    uploaded = http.post(
        f"{api}/datasets/conso-port/versions",
        content=b"site;kwh\nA;1,5\nB;2,5\n",
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    factors = http.post(
        f"{api}/datasets",
        json={
            "id": "base-carbone",
            "title": "Base Carbone ADEME",
            "licence": "etalab-2.0",
            "kind": "emission_factors",
        },
        headers=producer.headers,
    )
    assert factors.status_code == 201, factors.text
    # The member reads the shared rows twice; another member once (the filter leaves it out).
    for persona, times in ((member, 2), (other, 1)):
        for _ in range(times):
            read = http.get(f"{api}/datasets/conso-port/data", headers=persona.headers)
            assert read.status_code == 200, read.text

    page = browser.new_page(accept_downloads=True)
    _sign_in(page, base, auditor.email)
    page.get_by_role("link", name="Gouvernance").click()
    page.wait_for_url("**/governance")
    _axe(page, "governance")
    page.get_by_label("Organisation").select_option("commune-aytre")
    page.get_by_label("Action").select_option("dataset.read_rows")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**/governance?*organization=commune-aytre*")
    rows = page.locator("#t-events tbody tr")
    assert rows.count() == 2
    for text in rows.all_inner_texts():
        assert member.email in text
        assert "conso-port" in text
        assert "membre de la charte" in text
    assert page.get_by_text("2 événements").is_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Exporter ces événements en CSV").click()
    exported = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
    assert [(r["user_email"], r["dataset_id"], r["basis"]) for r in exported] == [
        (member.email, "conso-port", "member")
    ] * 2
    page.get_by_role("button", name="Vérifier maintenant").click()
    page.wait_for_selector("text=Journal intact")
    _axe(page, "governance-verified")
    page.get_by_role("button", name="Se déconnecter").click()

    _sign_in(page, base, admin.email)
    page.get_by_role("link", name="Administration").click()
    page.wait_for_url("**/admin")
    _axe(page, "admin")
    page.get_by_label("Adresse électronique").fill("lea@commune-aytre.example.org")
    page.locator("#new-org").select_option("commune-aytre")
    page.locator("#new-role").select_option("producer")
    page.get_by_role("button", name="Créer le compte et l'inviter").click()
    link = page.locator("#invitation-link")
    link.wait_for()
    token = link.inner_text().rsplit("/invitation/", 1)[1]
    _axe(page, "admin-invited")
    page.get_by_label("Base Carbone ADEME").check()
    page.locator("#reference-emission_factors").get_by_role(
        "button", name="Enregistrer la référence"
    ).click()
    page.wait_for_selector("text=Référence « Facteurs d'émission » : base-carbone.")
    reference = http.get(f"{api}/reference/emission_factors").json()
    assert reference["datasets"] == ["base-carbone"]
    # The invited person sets a password with the link and is signed in.
    page.get_by_role("button", name="Se déconnecter").click()
    page.goto(f"{base}/invitation/{token}")
    page.get_by_label("Mot de passe (12 caractères au moins)").fill(PASSWORD)
    page.get_by_label("Confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Enregistrer et se connecter").click()
    page.wait_for_selector("text=lea@commune-aytre.example.org")
    page.close()
