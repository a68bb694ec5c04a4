"""Property-based fuzzing of the whole OpenAPI schema with schemathesis, as every kind of caller.

For each role (anonymous, admin, producer, analyst, auditor) and each operation, schemathesis
generates requests from the schema (valid ones, then invalid ones) and checks that:

- no response is a 5xx;
- every response's status is declared, and its body matches the declared schema and media type;
- every 4xx/5xx is ``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``.

Half of the generated cases aim at the real dataset (and the real user, territory...) of a
scripted world instead of random ids, so the checks also run past the 404s. The number of
examples is bounded for the normal test run (``DATAHUB_FUZZ_EXAMPLES``, default 4 per operation,
role and mode; invalid input is generated as anonymous and as admin only);
``python bench/fuzz.py`` runs the longer campaign documented in the README.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from datahub.app import create_app
from datahub.runtime import Runtime
from tests.api.world import World, build_world
from tests.conftest import Persona

ROLES = ("anonymous", "admin", "producer", "analyst", "auditor")
NEGATIVE_ROLES = ("anonymous", "admin")
#: Operations left out: starting a connector run would reach out to the network.
SKIPPED = {"POST /api/v1/connectors/{name}/runs"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def problem_json(response: Any) -> str | None:
    """Why an error response is not a proper problem+json document (None when it is)."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if not content_type.startswith("application/problem+json"):
        return f"{response.status_code} served as {content_type!r}"
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code}: body is not JSON"
    if not isinstance(body, dict) or not PROBLEM_FIELDS <= body.keys():
        return f"{response.status_code}: problem body lacks {PROBLEM_FIELDS - set(body or {})}"
    if body["status"] != response.status_code:
        return f"{response.status_code}: problem says status {body['status']}"
    return None


@dataclass
class Targets:
    """Real identifiers of the world, substituted into path parameters half of the time."""

    path: dict[str, str | int] = field(default_factory=dict)


def fuzz_app(runtime: Runtime) -> FastAPI:
    """The app under test, with rate limits off (thousands of requests in a minute)."""
    settings = runtime.settings.model_copy(update={"rate_limit_enabled": False})
    return create_app(settings=settings, runtime=runtime)


def scripted_world(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> tuple[World, Targets]:
    world = build_world(client, make_user, admin)
    dataset_id = world.create_dataset("shared")
    grant_id = world.grant(dataset_id, "grantee")
    analyst = world.personas["member"]
    assert analyst is not None
    users = client.post(
        "/api/v1/users",
        json={
            "email": "fuzz@commune-aytre.example.org",
            "organization_id": "commune-aytre",
            "role": "analyst",
        },
        headers=admin.headers,
    )
    assert users.status_code == 201, users.text
    territory = client.post(
        "/api/v1/territories",
        json={"code": "commune:17300", "name": "La Rochelle", "level": "commune"},
        headers=admin.headers,
    )
    targets = Targets(
        {
            "dataset_id": dataset_id,
            "grant_id": grant_id,
            "number": 1,
            "licence_id": "etalab-2.0",
            "org_id": "port-atlantique",
            "user_id": int(users.json()["user"]["id"]),
            "request_id": 1,
            "code": "commune:17300" if territory.status_code == 201 else "fr",
            "sector": "residential",
        }
    )
    return world, targets


@dataclass
class Campaign:
    """Runs every operation for every role and collects failures instead of stopping."""

    app: FastAPI
    world: World
    targets: Targets
    examples: int
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    failures: list[str] = field(default_factory=list)
    calls: int = 0

    def run(self, roles: tuple[str, ...] = ROLES) -> None:
        schema = schemathesis.openapi.from_asgi("/openapi.json", self.app)
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        # Deletions last, so they do not remove what the other operations aim at.
        operations.sort(key=lambda op: op.method.upper() == "DELETE")
        for role in roles:
            headers = self.world.headers("member" if role == "analyst" else role)
            # Invalid input is refused the same way whoever sends it: once anonymous, once admin.
            modes = self.modes if role in NEGATIVE_ROLES else (GenerationMode.POSITIVE,)
            for operation in operations:
                if operation.label in SKIPPED:
                    continue
                for mode in modes:
                    self._fuzz(operation, mode, role, headers)

    def _fuzz(
        self, operation: Any, mode: GenerationMode, role: str, headers: dict[str, str]
    ) -> None:
        real = {
            name: value
            for name, value in self.targets.path.items()
            if "{" + name + "}" in operation.path and operation.method.upper() != "DELETE"
        }

        @hypothesis_settings(
            max_examples=self.examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), aim=st.booleans())
        def test(case: Any, aim: bool) -> None:
            if aim and real and mode is GenerationMode.POSITIVE:
                case.path_parameters = {**(case.path_parameters or {}), **real}
            self.calls += 1
            response = case.call(headers={**(case.headers or {}), **headers})
            case.validate_response(response, checks=CHECKS)
            reason = problem_json(response)
            assert reason is None, reason

        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # every failure is collected, then reported
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            self.failures.append(
                f"[{role}, {mode.value}] {operation.label}: " + " / ".join(lines[:12])
            )


def examples_per_operation() -> int:
    return int(os.environ.get("DATAHUB_FUZZ_EXAMPLES", "4"))


@pytest.mark.parametrize("roles", [("anonymous", "analyst"), ("admin",), ("producer", "auditor")])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    runtime: Runtime,
    make_user: Callable[..., Persona],
    admin: Persona,
    roles: tuple[str, ...],
) -> None:
    app = fuzz_app(runtime)
    with TestClient(app, raise_server_exceptions=False) as client:
        world, targets = scripted_world(client, make_user, admin)
        campaign = Campaign(app, world, targets, examples_per_operation())
        campaign.run(roles)
    assert campaign.calls > 40 * len(roles)
    assert not campaign.failures, "\n".join(campaign.failures)
