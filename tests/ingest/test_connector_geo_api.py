"""geo-api for CA de La Rochelle (241700434).

No API Géo answer for /epcis/{code}, /epcis/{code}/communes, /departements/{code} or
/regions/{code} was ever recorded (fixtures README, "Gaps"). The answers below are derived at
run time from the real data API Géo serves (the @etalab/decoupage-administratif 6.0.0 extract in
shared/fixtures/connectors/api_geo/reference_…_cda_la_rochelle.json), shaped as api-geo's
definition.yml documents them (research note §1.3: default fields, arrays without paging).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from connectors.geo_api import GeoApiParams, connector

from datahub.ingest.contract import FatalConnectorError, TerritoryRecord


def _handler(recorded: Path) -> Callable[[httpx.Request], httpx.Response]:
    ref = json.loads(
        (
            recorded / "api_geo/reference_decoupage_administratif_6.0.0_cda_la_rochelle.json"
        ).read_text()
    )
    epci = ref["epci.json (entry 241700434)"]
    communes = ref["communes.json (members of 241700434)"]
    (dep,) = ref["departements.json (17)"]
    (region,) = ref["regions.json (75)"]
    answers: dict[str, Any] = {
        "/epcis/241700434": {
            "nom": epci["nom"],
            "code": epci["code"],
            "codesDepartements": ["17"],
            "population": epci["populationMunicipale"],
        },
        "/epcis/241700434/communes": [
            {
                "nom": c["nom"],
                "code": c["code"],
                "codeEpci": "241700434",
                "codeDepartement": c["departement"],
                "codeRegion": c["region"],
                "population": c["population"],
            }
            for c in communes
        ],
        "/departements/17": {"nom": dep["nom"], "code": "17", "codeRegion": dep["region"]},
        "/regions/75": {"nom": region["nom"], "code": "75"},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "geo.api.gouv.fr"
        if request.url.path in answers:
            return httpx.Response(200, json=answers[request.url.path])
        # API Géo's 404 is plain text (Express sendStatus), research note §1.3 pitfall 2.
        return httpx.Response(404, text="Not Found", headers={"content-type": "text/plain"})

    return handler


def test_communes_of_cda_la_rochelle(make_run: Callable[..., Any], recorded: Path) -> None:
    run = make_run(_handler(recorded))
    items = list(connector.run(GeoApiParams(territory="epci:241700434"), run.context))
    records = [i for i in items if isinstance(i, TerritoryRecord)]
    assert len(records) == len(items)
    assert [r.code for r in records[:4]] == [
        "country:FR",
        "region:75",
        "departement:17",
        "epci:241700434",
    ]
    epci = records[3]
    assert epci.name == "CA de La Rochelle"
    assert epci.population == 181057
    assert epci.parents == ["departement:17"]
    assert records[1].name == "Nouvelle-Aquitaine"
    assert records[2].parents == ["region:75"]
    communes = [r for r in records if r.level == "commune"]
    assert len(communes) == 28  # the 28 member communes (research note §0)
    la_rochelle = next(r for r in communes if r.code == "commune:17300")
    assert la_rochelle.name == "La Rochelle"
    assert la_rochelle.parents == ["epci:241700434", "departement:17"]
    assert la_rochelle.geometry is None  # API Géo is the fallback without boundaries
    assert la_rochelle.population == 79851  # communes.json figure, not the EPCI member list's
    communes_request = next(r for r in run.requests if r.url.path.endswith("/communes"))
    assert "codeEpci" in communes_request.url.params["fields"]


def test_unknown_epci_is_fatal(make_run: Callable[..., Any], recorded: Path) -> None:
    run = make_run(_handler(recorded))
    with pytest.raises(FatalConnectorError, match="/epcis/200000000"):
        list(connector.run(GeoApiParams(territory="epci:200000000"), run.context))


@pytest.mark.live
def test_live_cda_la_rochelle(live_context: Any) -> None:
    items = list(connector.run(GeoApiParams(territory="epci:241700434"), live_context))
    assert sum(1 for i in items if isinstance(i, TerritoryRecord) and i.level == "commune") == 28
