"""The pages in a real browser: Debian's Chromium driven by Playwright, checked by axe-core.

One browser for the module; nothing is downloaded at run time (Chromium comes from apt, axe-core
is vendored beside this file). Screenshots go to tests/artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from datahub.accounts import signin
from datahub.demo.loader import EPCI, load_demo
from datahub.demo.outlines import load_outlines
from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.liveserver import LiveServer
from tests.web.conftest import PASSWORD
from tests.web.ign_outlines import ign_transport

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="apt-get install chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def _axe(page: Any, name: str) -> None:
    """No serious or critical axe-core violation; a screenshot of the page either way."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"


def test_a_member_finds_filters_reads_and_asks(
    browser: Any,
    runtime: Runtime,
    live_server: LiveServer,
    make_user: Callable[..., Persona],
) -> None:
    load_demo(runtime)
    member = make_user("analyst", "commune-aytre", member=True)
    producer = make_user("producer", "port-atlantique", member=True)
    with runtime.transaction() as session:
        signin.accept(session, signin.invite(session, member.email, days=1), PASSWORD)
    api = f"{live_server.url}/api/v1"
    created = httpx.post(
        f"{api}/datasets",
        json={"id": "port-sites", "title": "Sites du port", "licence": "restricted-1.0"},
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    base = live_server.url
    page = browser.new_page()
    # Anonymous: the home page, then a search from its box.
    page.goto(base + "/")
    _axe(page, "home")
    page.get_by_label("Rechercher un jeu de données").fill("inventaire")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url("**/datasets?q=inventaire")
    _axe(page, "catalogue")
    page.get_by_role("link", name="Inventaire territorial").first.click()
    # The preview, filtered on one sector with the form (htmx swaps the table in place).
    page.get_by_label("Colonne").select_option("sector")
    page.get_by_label("Condition").select_option("exact")
    page.get_by_label("Valeur").fill("waste")
    page.get_by_role("button", name="Ajouter le filtre").click()
    page.wait_for_selector("text=correspondant aux filtres")
    sectors = page.locator("table.preview tbody td:nth-child(3)").all_inner_texts()
    assert sectors
    assert set(sectors) == {"waste"}
    _axe(page, "dataset")
    # The agglomeration's dashboard: figures, chart, table.
    page.goto(f"{base}/territories/{EPCI}")
    assert page.locator("dl.figures").first.is_visible()  # key figures (then the budget rates)
    assert page.locator("img[src*='format=svg']").evaluate("i => i.naturalWidth") > 0
    assert page.locator("table caption", has_text="Bilan annuel").count() == 1
    _axe(page, "dashboard")
    # Sign in, then ask the port for its restricted sites.
    page.goto(base + "/login")
    _axe(page, "login")
    page.get_by_label("Adresse électronique").fill(member.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector(f"text={member.email}")
    page.goto(base + "/datasets/port-sites")
    page.get_by_label("Usage prévu").fill("Plan climat d'Aytré")
    page.get_by_role("button", name="Demander l'accès").click()
    page.wait_for_selector("text=transmise au producteur")
    _axe(page, "access-request")
    filed = httpx.get(f"{api}/datasets/port-sites/access-requests", headers=producer.headers)
    assert [r["purpose"] for r in filed.json()["data"]] == ["Plan climat d'Aytré"]
    page.close()


def test_a_producer_creates_uploads_a_refused_file_then_a_good_one(
    browser: Any,
    runtime: Runtime,
    live_server: LiveServer,
    make_user: Callable[..., Persona],
    admin: Persona,
    tmp_path: Path,
) -> None:
    producer = make_user("producer", "port-atlantique", member=True)
    with runtime.transaction() as session:
        signin.accept(session, signin.invite(session, producer.email, days=1), PASSWORD)
    territory = {"code": "epci:241700434", "name": "CA de La Rochelle", "level": "epci"}
    made = httpx.post(
        f"{live_server.url}/api/v1/territories", json=territory, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    bad = tmp_path / "refuse.csv"
    bad.write_text(
        "year;territory;sector;value;unit\n"
        "2019;epci:241700434;residential;1200,5;tCO2e\n"
        "2019;epci:241700434;road_transport;beaucoup;tCO2e\n",
        encoding="utf-8",
    )
    good = tmp_path / "inventaire.csv"
    good.write_text(bad.read_text(encoding="utf-8").replace("beaucoup", "3000"), "utf-8")
    base = live_server.url
    page = browser.new_page()
    page.goto(base + "/login")
    page.get_by_label("Adresse électronique").fill(producer.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Publier un jeu de données").first.click()
    page.wait_for_url("**/datasets/new")
    _axe(page, "publish-new")
    page.get_by_label("Titre", exact=False).first.fill("Inventaire du port")
    page.get_by_label("Nature des données").select_option("emissions")
    page.get_by_label("Territoires couverts").fill("epci:241700434")
    page.get_by_label("Début").fill("2019")
    page.get_by_label("Fin", exact=True).fill("2019")
    page.get_by_label("Restricted data licence 1.0 with publication", exact=False).check()
    page.get_by_role("button", name="Créer le jeu de données").click()
    page.wait_for_url("**/datasets/inventaire-du-port/upload?cree=1")
    _axe(page, "publish-upload")
    # A refused file: the report names row 2 and the field, beside the file's first rows.
    page.locator("#file").set_input_files(str(bad))
    page.get_by_role("button", name="Déposer la version").click()
    page.wait_for_selector("text=Rien n'a été enregistré.")
    row = page.locator("table.errors tbody tr").first
    assert row.locator("td").all_inner_texts()[:2] == ["2", "value"]
    assert page.locator("table.refused tr.bad td.bad-cell").inner_text() == "beaucoup"
    _axe(page, "publish-refused")
    # A good one: the new version.
    page.locator("#file").set_input_files(str(good))
    page.get_by_role("button", name="Déposer la version").click()
    page.wait_for_url("**/datasets/inventaire-du-port/versions/1?nouvelle=1")
    assert "La version 1 est enregistrée : 2 lignes" in page.inner_text("main")
    _axe(page, "publish-version")
    page.get_by_role("link", name="Voir le jeu de données").click()
    page.wait_for_url("**/datasets/inventaire-du-port")
    page.get_by_role("link", name="Modifier").click()
    _axe(page, "publish-edit")
    page.get_by_label("Territorial data-sharing charter licence", exact=False).check()
    page.get_by_role("button", name="Enregistrer les modifications").click()
    page.wait_for_selector("text=La licence a été changée")
    assert page.locator("table tr.fresh td").nth(3).inner_text() == "shared-charter-1.0"
    page.get_by_role("link", name="Supprimer ce jeu de données", exact=False).click()
    _axe(page, "publish-delete")
    page.close()


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector(f"text={email}")


def test_a_producer_grants_access_with_an_expiry_and_the_member_reads(
    browser: Any,
    runtime: Runtime,
    live_server: LiveServer,
    make_user: Callable[..., Persona],
) -> None:
    member = make_user("analyst", "bureau-etudes", member=False)
    producer = make_user("producer", "port-atlantique", member=True)
    with runtime.transaction() as session:
        for persona in (member, producer):
            signin.accept(session, signin.invite(session, persona.email, days=1), PASSWORD)
    api, base = f"{live_server.url}/api/v1", live_server.url
    created = httpx.post(
        f"{api}/datasets",
        json={"id": "port-flux", "title": "Flux du port", "licence": "shared-charter-1.0"},
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    uploaded = httpx.post(
        f"{api}/datasets/port-flux/versions",
        content=b"quai;tonnes\nNord;1234,5\n",
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    # A non-member asks for the shared data from its page, then finds the request as sent.
    asking = browser.new_context().new_page()
    _sign_in(asking, base, member.email)
    asking.goto(base + "/datasets/port-flux")
    assert asking.locator("text=1\u202f234,5").count() == 0
    asking.get_by_label("Usage prévu").fill("Bilan carbone du bureau d'études")
    asking.get_by_role("button", name="Demander l'accès").click()
    asking.wait_for_selector("text=transmise au producteur")
    asking.get_by_role("link", name="Demandes d'accès").click()
    asking.wait_for_url("**/access-requests")
    assert asking.locator("section[aria-labelledby=envoyees] table").count() == 1
    assert "en attente" in asking.locator("section[aria-labelledby=envoyees]").inner_text()
    _axe(asking, "access-requests-sent")
    # The producer approves until a date, in the browser.
    deciding = browser.new_context().new_page()
    _sign_in(deciding, base, producer.email)
    deciding.get_by_role("link", name="Demandes d'accès").click()
    deciding.wait_for_url("**/access-requests")
    _axe(deciding, "access-requests-received")
    deciding.get_by_label("Accès jusqu'au").fill("2099-12-31")
    deciding.get_by_role("button", name="Accepter la demande").click()
    deciding.wait_for_selector("text=Demande acceptée")
    assert "jusqu'au 31 décembre 2099 inclus" in deciding.locator("main").inner_text()
    _axe(deciding, "access-requests-decided")
    # The member now reads the rows on the dataset page.
    asking.goto(base + "/datasets/port-flux")
    asking.wait_for_selector("table.preview")
    assert "1\u202f234,5" in asking.locator("table.preview").inner_text()
    asking.goto(base + "/access-requests")
    assert "acceptée" in asking.locator("section[aria-labelledby=envoyees]").inner_text()
    # The account page: a token made with a label is shown once, in full.
    asking.get_by_role("link", name="Mon compte").click()
    asking.wait_for_url("**/me")
    _axe(asking, "me")
    asking.get_by_label("Nom du jeton").fill("tableur")
    asking.get_by_role("button", name="Créer le jeton").click()
    token = asking.get_by_label("Votre nouveau jeton").input_value()
    assert token.startswith("dh_")
    _axe(asking, "me-new-token")
    assert (
        httpx.get(
            f"{api}/datasets/port-flux/data", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )
    asking.goto(base + "/me")
    assert token not in asking.content()
    assert token[:8] in asking.content()


def test_dashboard_map_draws_the_outlines_beside_the_steering_blocks(
    browser: Any,
    runtime: Runtime,
    live_server: LiveServer,
    admin: Persona,
    make_user: Callable[..., Persona],
) -> None:
    load_demo(runtime)
    # Three communes get an outline (the recorded IGN answer, replayed): three polygons.
    assert len(load_outlines(runtime, ign_transport(["17300", "17028", "17274"])).loaded) == 3
    api = f"{live_server.url}/api/v1"
    action = {"sector": "road_transport", "start_year": 2024, "end_year": 2030,
              "effect": {"kind": "absolute", "value": 90_000}}  # fmt: skip
    plan = httpx.put(
        f"{api}/territories/{EPCI}/plan",
        json={"actions": [{"id": "velo", "title": "Plan vélo", **action}]},
        headers=admin.headers,
    )
    assert plan.status_code == 200, plan.text
    producer = make_user("producer", "observatoire-climat", member=True)
    reference = {"id": "snbc-cda", "title": "SNBC territorialisée (test)",
                 "licence": "etalab-2.0", "kind": "reference_trajectory"}  # fmt: skip
    created = httpx.post(f"{api}/datasets", json=reference, headers=producer.headers)
    assert created.status_code == 201, created.text
    rows = "year,territory,sector,value,unit\n" + "".join(
        f"{year},{EPCI},road_transport,{420_000 - 10_000 * (year - 2015)},tCO2e\n"
        for year in range(2015, 2031)
    )
    uploaded = httpx.post(
        f"{api}/datasets/snbc-cda/versions",
        content=rows.encode(),
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    page = browser.new_page()
    page.goto(f"{live_server.url}/territories/{EPCI}")
    page.get_by_role("combobox", name="Trajectoire de référence").select_option("snbc-cda")
    page.get_by_role("button", name="Comparer").click()
    page.wait_for_url("**reference=snbc-cda**")
    page.wait_for_selector("#carte.drawn")
    # Leaflet draws each outline as an SVG path: the three communes with an outline.
    assert page.locator("#carte svg path.leaflet-interactive").count() == 3
    assert page.locator("h2", has_text="Budget carbone").count() == 1
    assert page.locator("table caption", has_text="Les actions").count() == 1
    assert page.locator("table caption", has_text="Observé et référence").count() == 1
    _axe(page, "dashboard-map-steering")
    page.close()
