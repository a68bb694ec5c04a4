"""A small scripted territory for the carbon API tests: CDA La Rochelle with three communes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Persona

EPCI = "epci:241700434"
DEPT = "departement:17"
REGION = "region:75"
COUNTRY = "country:FR"
LA_ROCHELLE = "commune:17300"
AYTRE = "commune:17028"
PERIGNY = "commune:17274"
_counter = itertools.count(1)


@dataclass
class CarbonWorld:
    client: TestClient
    admin: Persona
    producer: Persona
    people: dict[str, Persona | None] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        persona = self.people[who]
        return persona.headers if persona else {}

    def dataset(
        self,
        kind: str,
        csv: str,
        *,
        licence: str = "etalab-2.0",
        approach: str = "territorial",
        expect: int = 201,
    ) -> tuple[str, Any]:
        dataset_id = f"{kind.replace('_', '-')}-{next(_counter)}"
        created = self.client.post(
            "/api/v1/datasets",
            json={
                "id": dataset_id,
                "title": f"Test {kind} {dataset_id}",
                "description": "test",
                "licence": licence,
                "kind": kind,
                "approach": approach,
            },
            headers=self.producer.headers,
        )
        assert created.status_code == 201, created.text
        response = self.upload(dataset_id, csv, expect=expect)
        return dataset_id, response

    def upload(self, dataset_id: str, csv: str, *, expect: int = 201) -> Any:
        response = self.client.post(
            f"/api/v1/datasets/{dataset_id}/versions",
            content=csv.encode("utf-8"),
            headers={**self.producer.headers, "Content-Type": "text/csv"},
        )
        assert response.status_code == expect, response.text
        return response.json()

    def actor(self, actor_id: str, territory: str, sector: str = "industry") -> None:
        response = self.client.post(
            "/api/v1/actors",
            json={
                "id": actor_id,
                "name": f"Société {actor_id}",
                "territory": territory,
                "sector": sector,
            },
            headers=self.admin.headers,
        )
        assert response.status_code == 201, response.text

    def trajectory(self, path: str, who: str = "anonymous", **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.headers(who))
        assert response.status_code == 200, response.text
        return response.json()


def year(body: dict[str, Any], wanted: int) -> dict[str, Any]:
    return next(p for p in body["series"] if p["year"] == wanted)


def build_carbon_world(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> CarbonWorld:
    territories = [
        {"code": COUNTRY, "name": "France", "level": "country"},
        {"code": REGION, "name": "Nouvelle-Aquitaine", "level": "region", "parent": COUNTRY},
        {"code": DEPT, "name": "Charente-Maritime", "level": "departement", "parent": REGION},
        {"code": EPCI, "name": "CA de La Rochelle", "level": "epci", "parent": DEPT},
        {"code": LA_ROCHELLE, "name": "La Rochelle", "level": "commune", "parent": [EPCI, DEPT]},
        {"code": AYTRE, "name": "Aytré", "level": "commune", "parent": [EPCI, DEPT]},
        {"code": PERIGNY, "name": "Périgny", "level": "commune", "parent": [EPCI, DEPT]},
    ]
    for territory in territories:
        response = client.post("/api/v1/territories", json=territory, headers=admin.headers)
        assert response.status_code == 201, response.text
    producer = make_user("producer", "agence-climat", member=True)
    return CarbonWorld(
        client,
        admin,
        producer,
        {
            "anonymous": None,
            "producer": producer,
            "outsider": make_user("analyst", "bureau-prive", member=False),
            "member": make_user("analyst", "commune-aytre", member=True),
            "admin": admin,
        },
    )
