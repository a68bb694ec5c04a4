"""Upstream replays for the runner and job tests (no network).

La Rochelle (epci:241700434): no WFS answer was ever recorded for it (fixtures README, "Gaps").
The commune layer is the recorded Penmarch GetFeature answer (envelope, properties schema and
MultiPolygon kept) with the identifiers swapped, one feature per member commune listed in the
real ``@etalab/decoupage-administratif`` 6.0.0 extract (code, name, population). Every commune
therefore carries Penmarch's outline. The EPCI, département and région answers are the synthetic
Finistère fixtures of this folder with their identifiers swapped to 241700434 / 17 / 75.

data.gouv.fr: the recorded "Catalogue des données" metadata, with the synthetic CSV standing in
for the resource file (as in test_connector_datagouv_dataset.py).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from tests.conftest import Persona
from tests.paths import TEST_DATA

from datahub.accounts import service as accounts
from datahub.accounts.caller import RequestContext
from datahub.db.models import Dataset, DatasetVersion, Territory, TerritoryParent
from datahub.runtime import Runtime

RECORDED = TEST_DATA / "connectors"
LOCAL = Path(__file__).resolve().parent / "fixtures"

Handler = Callable[[httpx.Request], httpx.Response]
JSON = {"content-type": "application/json;charset=UTF-8"}
EPCI = "241700434"
REFERENCE = RECORDED / "api_geo/reference_decoupage_administratif_6.0.0_cda_la_rochelle.json"


def la_rochelle_communes() -> list[dict[str, Any]]:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    communes: list[dict[str, Any]] = reference["communes.json (members of 241700434)"]
    return communes


def _collection(features: list[dict[str, Any]], template: dict[str, Any]) -> bytes:
    body = {k: v for k, v in template.items() if k != "bbox"}
    n = len(features)
    body.update(features=features, totalFeatures=n, numberMatched=n, numberReturned=n)
    return json.dumps(body).encode()


def _swapped(name: str, **properties: Any) -> bytes:
    collection = json.loads((LOCAL / name).read_text(encoding="utf-8"))
    feature = collection["features"][0]
    feature["properties"].update(properties)
    return _collection([feature], collection)


def la_rochelle_answers() -> dict[str, bytes]:
    """WFS answers by layer name (commune, epci, departement, region)."""
    penmarch = json.loads(
        (RECORDED / "ign_wfs/getfeature_commune_cql_penmarch.geojson").read_text(encoding="utf-8")
    )
    template = penmarch["features"][0]
    features = []
    for index, commune in enumerate(la_rochelle_communes()):
        feature = copy.deepcopy(template)
        feature["id"] = f"commune.{index + 1}"
        feature["properties"].update(
            cleabs=f"COMMUNE_{commune['code']}",
            nom_officiel=commune["nom"],
            nom_officiel_en_majuscules=commune["nom"].upper(),
            code_insee=commune["code"],
            population=commune["population"],
            code_insee_du_departement="17",
            code_insee_de_la_region="75",
            codes_siren_des_epci=EPCI,
            code_siren=commune["siren"],
        )
        features.append(feature)
    return {
        "commune": _collection(features, penmarch),
        "epci": _swapped(
            "ign_wfs_epci_242900702_synthetic.geojson",
            code_siren=EPCI,
            nom_officiel="CA de La Rochelle",
            nature="Communauté d'agglomération",
        ),
        "departement": _swapped(
            "ign_wfs_departement_29_synthetic.geojson",
            code_insee="17",
            code_insee_de_la_region="75",
            nom_officiel="Charente-Maritime",
            nom_officiel_en_majuscules="CHARENTE-MARITIME",
        ),
        "region": _swapped(
            "ign_wfs_region_53_synthetic.geojson",
            code_insee="75",
            nom_officiel="Nouvelle-Aquitaine",
            nom_officiel_en_majuscules="NOUVELLE-AQUITAINE",
        ),
    }


def wfs_handler(
    answers: dict[str, bytes], overrides: dict[str, httpx.Response] | None = None
) -> Handler:
    """Answers GetFeature by layer; ``overrides`` replaces a layer's answer (e.g. a 500)."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "data.geopf.fr"
        layer = request.url.params["typeName"].split(":")[1]
        if overrides and layer in overrides:
            return overrides[layer]
        return httpx.Response(200, headers=JSON, content=answers[layer])

    return handler


# --- data.gouv.fr ------------------------------------------------------------------------------

DATASET = "5d13a8b6634f41070a43dff3"
HUB_DATASET = "catalogue-des-donnees-de-data-gouv-fr"
RID = "322d1475-f36a-472d-97ce-d218c8f79092"
STATIC = (
    "https://static.data.gouv.fr/resources/catalogue-des-donnees-de-data-gouv-fr/"
    "20250407-061526/export-dataservice-20250407-061526.csv"
)
RECORDED_CHECKSUM = "sha1:0d7bb1d30a853949fb522fb7f8b330cbb9cf38c5"


class DataGouv:
    """A mutable data.gouv.fr: change ``content``/``checksum`` between runs; counts downloads."""

    def __init__(self) -> None:
        self.meta = json.loads((RECORDED / f"data_gouv/dataset_{DATASET}.json").read_text())
        self.content = (LOCAL / "datagouv_export_dataservice_synthetic.csv").read_bytes()
        self.downloads = 0
        self.metadata_answers: list[httpx.Response] = []  # served first, e.g. a 429

    @property
    def resource(self) -> dict[str, Any]:
        resource: dict[str, Any] = next(r for r in self.meta["resources"] if r["id"] == RID)
        return resource

    def set_checksum(self, value: str | None) -> None:
        if value is None:
            self.resource["checksum"] = None
        else:
            kind, _, digest = value.partition(":")
            self.resource["checksum"] = {"type": kind, "value": digest}

    def handler(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.path == f"/api/1/datasets/{DATASET}/":
            if self.metadata_answers:
                return self.metadata_answers.pop(0)
            return httpx.Response(200, json=self.meta)
        if url.path == f"/fr/datasets/r/{RID}":
            return httpx.Response(302, headers={"location": STATIC})
        if str(url) == STATIC:
            self.downloads += 1
            return httpx.Response(200, headers={"content-type": "text/csv"}, content=self.content)
        raise AssertionError(f"unexpected request {url}")


def datagouv_params() -> dict[str, Any]:
    return {"dataset": DATASET, "resource": RID}


# --- database helpers --------------------------------------------------------------------------


def context(runtime: Runtime, persona: Persona) -> RequestContext:
    with runtime.transaction() as session:
        return RequestContext(caller=accounts.authenticate(session, persona.token))


def snapshot(runtime: Runtime) -> dict[str, Any]:
    """Everything a failed run must leave as it was: rows and stored files."""
    with runtime.transaction() as session:
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Dataset, DatasetVersion, Territory, TerritoryParent)
        }
    return {**counts, "files": sorted(runtime.storage.list_keys(""))}
