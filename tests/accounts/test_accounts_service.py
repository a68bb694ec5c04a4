"""The account and access services every edge calls: they check the actor, act and audit once.

The API routes, the CLI and (later) the web pages only translate to and from these calls, so the
rules are tested here once, without HTTP, and through the CLI to show it no longer audits twice.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from datahub.accounts import service as accounts
from datahub.accounts.caller import RequestContext
from datahub.accounts.schemas import OrganizationCreate, UserCreate
from datahub.audit import service as audit
from datahub.catalog import access
from datahub.cli import app as cli
from datahub.db.models import AuditEvent
from datahub.errors import Forbidden
from datahub.licensing.schemas import AccessRequestDecision, GrantCreate
from datahub.runtime import Runtime
from tests.api.world import World, build_world
from tests.conftest import Persona


def events(runtime: Runtime, action: str) -> list[AuditEvent]:
    with runtime.read_session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def actor_for(runtime: Runtime, persona: Persona) -> RequestContext:
    with runtime.read_session() as session:
        caller = accounts.authenticate(session, persona.token)
    return RequestContext(caller=caller, request_id="req-test", purpose="tests")


def test_cli_users_create_audits_the_token_once(
    runtime: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAHUB_DATABASE_URL", database_url)
    assert CliRunner().invoke(cli, ["orgs", "create", "cda", "--name", "CDA"]).exit_code == 0
    result = CliRunner().invoke(
        cli, ["users", "create", "ana@cda.example.org", "--org", "cda", "--role", "analyst"]
    )
    assert result.exit_code == 0, result.output
    (event,) = events(runtime, "token.create")
    assert event.detail == {"user": "ana@cda.example.org", "role": "analyst", "via": "cli"}
    assert event.request_id is not None
    assert event.request_id.startswith("cli-")


def test_only_an_admin_issues_tokens_or_changes_roles(
    runtime: Runtime, make_user: Callable[..., Persona], admin: Persona
) -> None:
    analyst = make_user("analyst", "cda", member=True)
    as_admin, as_analyst = actor_for(runtime, admin), actor_for(runtime, analyst)
    with runtime.transaction() as session:
        user = accounts.get_user_by_email(session, analyst.email)
        with pytest.raises(Forbidden):
            accounts.issue_token(session, user, as_analyst)
        with pytest.raises(Forbidden):
            accounts.change_role(session, user.id, "admin", as_analyst)
        token = accounts.issue_token(session, user, as_admin)
        accounts.change_role(session, user.id, "producer", as_admin)
    with runtime.read_session() as session:
        assert accounts.authenticate(session, token).role == "producer"
    (issued,) = events(runtime, "token.create")
    assert (issued.user_email, issued.detail) == (admin.email, {"user": analyst.email})
    (changed,) = events(runtime, "user.role_change")
    assert changed.detail == {"user": analyst.email, "from": "analyst", "to": "producer"}
    assert changed.request_id == "req-test"


def test_register_user_by_the_system_actor(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        accounts.create_organization(session, OrganizationCreate(id="ops", name="Ops", member=True))
        user, token = accounts.register_user(
            session,
            UserCreate(email="ops@ops.example.org", organization_id="ops", role="admin"),
            accounts.system_actor("init"),
            via="init",
        )
    assert token.startswith("dh_")
    (event,) = events(runtime, "token.create")
    assert event.detail == {"user": user.email, "role": "admin", "via": "init"}
    assert event.user_id is None  # the operator at the console, not a user of the hub


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def test_access_service_grants_decides_and_audits_refusals(world: World, runtime: Runtime) -> None:
    dataset_id = world.create_dataset("restricted")
    producer = actor_for(runtime, world.personas["producer"])  # type: ignore[arg-type]
    member = actor_for(runtime, world.personas["member"])  # type: ignore[arg-type]
    with runtime.transaction() as session:
        filed = access.request_access(session, runtime.licences, member, dataset_id, "PCAET")
    # A requester cannot approve their own request: refused, and the refusal audited on its
    # own although the attempt's transaction is rolled back.
    with (
        pytest.raises(Forbidden),
        audit.audited_transaction(runtime.transaction) as session,
    ):
        access.approve_request(session, runtime.licences, member, filed.id, AccessRequestDecision())
    (refused,) = events(runtime, "access_request.approve")
    assert (refused.outcome, refused.dataset_id) == ("denied", dataset_id)
    with runtime.transaction() as session:
        decided = access.approve_request(
            session, runtime.licences, producer, filed.id, AccessRequestDecision(reason="ok")
        )
        assert decided.grant_id is not None
        granted = access.grant(
            session,
            runtime.licences,
            producer,
            dataset_id,
            GrantCreate(organization="bureau-prive"),
        )
        access.revoke(session, runtime.licences, producer, dataset_id, granted.id)
        listed = access.list_grants(session, runtime.licences, producer, dataset_id)
    assert [g.active for g in listed] == [True, False]
    approved = [e for e in events(runtime, "access_request.approve") if e.outcome == "allowed"]
    assert [e.basis for e in approved] == [f"grant:{decided.grant_id}"]
    assert [e.basis for e in events(runtime, "grant.revoke")] == [f"grant:{granted.id}"]
