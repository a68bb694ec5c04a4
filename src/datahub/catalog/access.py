"""Who else reads a dataset: grants and access requests, authorised and audited in one place.

Each function checks the actor's right on the dataset (a refusal carries its audit event, see
:func:`datahub.catalog.service.authorize_management`), acts through the licensing service and
records the audit event, so that the API, the CLI and the web pages behave alike. It lives in
``catalog`` rather than ``licensing`` because deciding who manages a dataset needs the dataset,
and licensing sits below the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from datahub.accounts import service as accounts
from datahub.accounts.caller import RequestContext
from datahub.audit import service as audit
from datahub.catalog import service as catalog
from datahub.db.models import AccessRequest
from datahub.errors import NotFound
from datahub.licensing import service as grants
from datahub.licensing.registry import LicenceRegistry
from datahub.licensing.schemas import AccessRequestDecision, GrantCreate, GrantRead
from datahub.notifications import messages
from datahub.notifications import service as notifications


def list_grants(
    session: Session, licences: LicenceRegistry, actor: RequestContext, dataset_id: str
) -> list[GrantRead]:
    catalog.authorize_management(session, licences, actor, dataset_id, "grant.list")
    return grants.list_grants(session, dataset_id)


def grant(
    session: Session,
    licences: LicenceRegistry,
    actor: RequestContext,
    dataset_id: str,
    data: GrantCreate,
) -> GrantRead:
    """The producer (or an admin) lets an organisation or a user read the data."""
    resolved = catalog.authorize_management(session, licences, actor, dataset_id, "grant.create")
    created = grants.create_grant(session, dataset_id, data, created_by=actor.caller.user_id)
    audit.record(
        session,
        audit.event_for(
            actor,
            "grant.create",
            dataset_id=dataset_id,
            licence=resolved.dataset.licence_id,
            basis=f"grant:{created.id}",
            detail={
                "grant": created.id,
                "organization": created.organization,
                "user": created.user,
                "expires_at": created.expires_at.isoformat() if created.expires_at else None,
            },
        ),
    )
    return created


def revoke(
    session: Session,
    licences: LicenceRegistry,
    actor: RequestContext,
    dataset_id: str,
    grant_id: int,
) -> GrantRead:
    resolved = catalog.authorize_management(session, licences, actor, dataset_id, "grant.revoke")
    revoked = grants.revoke_grant(session, dataset_id, grant_id)
    audit.record(
        session,
        audit.event_for(
            actor,
            "grant.revoke",
            dataset_id=dataset_id,
            licence=resolved.dataset.licence_id,
            basis=f"grant:{revoked.id}",
            detail={"grant": revoked.id},
        ),
    )
    return revoked


def request_access(
    session: Session,
    licences: LicenceRegistry,
    actor: RequestContext,
    dataset_id: str,
    purpose: str,
) -> AccessRequest:
    """Anyone authenticated who can see the dataset asks its producer for access."""
    resolved = catalog.resolve(session, licences, actor.caller, dataset_id)
    filed = grants.file_request(session, dataset_id, actor.caller, purpose)
    audit.record(
        session,
        audit.event_for(
            actor,
            "access_request.create",
            dataset_id=dataset_id,
            licence=resolved.dataset.licence_id,
            detail={"request": filed.id, "purpose": purpose},
        ),
    )
    dataset = resolved.dataset
    notifications.notify(
        session,
        messages.access_requested(
            dataset.id,
            dataset.title,
            actor.caller.email or "",
            actor.caller.organization_id or "",
            purpose,
        ),
        # The producing organisation's producers and admins decide: they are told.
        emails=accounts.emails_with_roles(session, ("producer", "admin"), dataset.organization_id),
        organizations=[dataset.organization_id],
    )
    return filed


def list_requests(
    session: Session, licences: LicenceRegistry, actor: RequestContext, dataset_id: str
) -> list[AccessRequest]:
    catalog.authorize_management(session, licences, actor, dataset_id, "access_request.list")
    return grants.list_requests(session, dataset_id)


def _decide(
    session: Session,
    licences: LicenceRegistry,
    actor: RequestContext,
    request_id: int,
    decision: AccessRequestDecision,
    *,
    approve: bool,
) -> AccessRequest:
    request = grants.get_request(session, request_id)
    action = "access_request.approve" if approve else "access_request.deny"
    resolved = catalog.authorize_management(session, licences, actor, request.dataset_id, action)
    decided = grants.decide_request(
        session, request, approve=approve, decision=decision, decided_by=actor.caller.user_id
    )
    audit.record(
        session,
        audit.event_for(
            actor,
            action,
            dataset_id=request.dataset_id,
            licence=resolved.dataset.licence_id,
            basis=f"grant:{decided.grant_id}" if decided.grant_id else None,
            detail={"request": request.id, "reason": decision.reason},
        ),
    )
    requester = accounts.find_user(session, request.user_id)
    notifications.notify(
        session,
        messages.access_decided(
            request.dataset_id,
            resolved.dataset.title,
            approve,
            decision.expires_at,
            decision.reason,
        ),
        emails=[requester.email] if requester is not None else [],
        organizations=[request.organization_id],
    )
    return decided


def approve_request(
    session: Session,
    licences: LicenceRegistry,
    actor: RequestContext,
    request_id: int,
    decision: AccessRequestDecision,
) -> AccessRequest:
    """The producer (or an admin) approves: a grant is created for the requester."""
    return _decide(session, licences, actor, request_id, decision, approve=True)


def deny_request(
    session: Session,
    licences: LicenceRegistry,
    actor: RequestContext,
    request_id: int,
    decision: AccessRequestDecision,
) -> AccessRequest:
    return _decide(session, licences, actor, request_id, decision, approve=False)


@dataclass(frozen=True)
class ManagedAccess:
    """One dataset the caller manages: who asked for its data, and who may read it."""

    dataset_id: str
    title: str
    level: str
    requests: list[AccessRequest]
    grants: list[GrantRead]
    #: The requesters' addresses, by user id.
    requesters: dict[int, str]


@dataclass(frozen=True)
class SentRequest:
    """A request the caller filed, with the dataset's title and the grant it led to."""

    request: AccessRequest
    title: str
    grant: GrantRead | None


def received(
    session: Session, licences: LicenceRegistry, actor: RequestContext
) -> list[ManagedAccess]:
    """Requests and grants of every dataset the caller manages, each dataset authorised as the
    API's per-dataset listing of its requests is (``access_request.list``)."""
    found = []
    for dataset_id in catalog.managed_ids(session, actor.caller):
        resolved = catalog.authorize_management(
            session, licences, actor, dataset_id, "access_request.list"
        )
        dataset = resolved.dataset
        requests = grants.list_requests(session, dataset_id)
        found.append(
            ManagedAccess(
                dataset_id=dataset.id,
                title=dataset.title,
                level=dataset.level,
                requests=requests,
                grants=grants.list_grants(session, dataset_id),
                requesters=accounts.emails_of(session, {r.user_id for r in requests}),
            )
        )
    return found


def sent(session: Session, licences: LicenceRegistry, actor: RequestContext) -> list[SentRequest]:
    """The caller's own requests, newest first, on the datasets it may still see."""
    if actor.caller.user_id is None:
        return []
    found = []
    for request, granted in grants.requests_of(session, actor.caller.user_id):
        try:
            resolved = catalog.resolve(session, licences, actor.caller, request.dataset_id)
        except NotFound:
            continue
        found.append(SentRequest(request, resolved.dataset.title, granted))
    return found
