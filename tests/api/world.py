"""A scripted territory for API tests: organisations of every kind, users and datasets."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from tests.conftest import Persona

LICENCE_OF_LEVEL = {
    "open": "etalab-2.0",
    "shared": "shared-charter-1.0",
    "restricted": "restricted-1.0",
}
_counter = itertools.count(1)


@dataclass
class World:
    client: TestClient
    personas: dict[str, Persona | None] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        persona = self.personas[who]
        return persona.headers if persona else {}

    def create_dataset(self, level: str, *, kind: str = "generic", rows: str | None = None) -> str:
        producer = self.personas["producer"]
        assert producer is not None
        dataset_id = f"ds-{level}-{next(_counter)}"
        response = self.client.post(
            "/api/v1/datasets",
            json={
                "id": dataset_id,
                "title": f"Consommations {level} {dataset_id}",
                "description": "Données de test",
                "licence": LICENCE_OF_LEVEL[level],
                "kind": kind,
                "tags": ["énergie"],
            },
            headers=producer.headers,
        )
        assert response.status_code == 201, response.text
        body = rows or "site;kwh\nA;1,5\nB;2,5\n"
        uploaded = self.client.post(
            f"/api/v1/datasets/{dataset_id}/versions",
            content=body.encode("utf-8"),
            headers={**producer.headers, "Content-Type": "text/csv"},
        )
        assert uploaded.status_code == 201, uploaded.text
        return dataset_id

    def grant(self, dataset_id: str, who: str) -> int:
        persona = self.personas[who]
        producer = self.personas["producer"]
        assert persona is not None
        assert producer is not None
        response = self.client.post(
            f"/api/v1/datasets/{dataset_id}/grants",
            json={"user": persona.email, "purpose": "étude"},
            headers=producer.headers,
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


def build_world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    """Personas of contract §2: anonymous, non-member, member, producer, grantee, auditor, admin."""
    return World(
        client,
        {
            "anonymous": None,
            "non_member": make_user("analyst", "bureau-prive", member=False),
            "member": make_user("analyst", "commune-aytre", member=True),
            "producer": make_user("producer", "port-atlantique", member=True),
            "producer_analyst": make_user("analyst", "port-atlantique", member=True),
            "grantee": make_user("analyst", "labo-universite", member=False),
            # The committee signs the charter, yet the auditor role reads no data without a grant.
            "auditor": make_user("auditor", "comite-gouvernance", member=True),
            "admin": admin,
        },
    )
